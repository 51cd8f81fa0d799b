package org.mergelab.zoo.train;

import java.util.Map;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The SameDiff graph of a {@link ModelShape} Llama, the same function as the evaluation's ONNX graph
 * ({@code org.mergelab.eval.LlamaGraph}): one VARIABLE per HF tensor, with the HF name and shape ([out, in] weights,
 * so a Linear layer is {@code x · Wᵀ}).
 *
 * <pre>
 * placeholders  input [B, T] int32 token ids, target [B, T] int32 next tokens, mask [B, T] float loss weights
 * outputs       logits and log_probs [B·T, V] (row b·T + t), loss = Σ mask·CE / Σ mask
 * </pre>
 *
 * T is fixed at the shape's context (the RoPE tables and the causal mask are constants of that size); B is free.
 * Written around the limits of SameDiff 1.0.0-M2.1 (java-stack.md G3, G4): the embedding is a one-hot matmul
 * (backprop through {@code gather} fails), attention is hand-written (matmul, additive causal mask, softmax), and
 * broadcasting multiplies are avoided for speed (see {@link #rmsNormUnscaled}).
 */
final class SameDiffLlama {
    static final String INPUT = "input";
    static final String TARGET = "target";
    static final String MASK = "mask";
    static final String LOGITS = "logits";
    static final String LOG_PROBS = "log_probs";
    static final String LOSS = "loss";
    /** Added to a masked attention score; exp underflows to exactly 0 as with the eval graph's lowest-float fill. */
    private static final float MASKED = -1e9f;

    private final ModelShape s;
    private final SameDiff sd;
    private final int t;

    private SameDiffLlama(ModelShape s) {
        this.s = s;
        this.sd = SameDiff.create();
        this.t = s.context();
    }

    /** Builds the graph with {@code weights} (HF name → row-major values) as its variables. */
    static SameDiff build(ModelShape shape, Map<String, float[]> weights) {
        SameDiffLlama b = new SameDiffLlama(shape);
        b.emit(weights);
        return b.sd;
    }

    private void emit(Map<String, float[]> weights) {
        addWeights(weights);
        int v = s.vocab();
        SDVariable ids = sd.placeHolder(INPUT, DataType.INT32, -1, t);
        SDVariable target = sd.placeHolder(TARGET, DataType.INT32, -1, t);
        SDVariable mask = sd.placeHolder(MASK, DataType.FLOAT, -1, t);

        SDVariable oneHot = sd.reshape(sd.oneHot(ids, v, -1, 1.0, 0.0, DataType.FLOAT), -1, v);
        SDVariable x = sd.mmul(oneHot, w("model.embed_tokens.weight"));
        SDVariable ropeQ = sd.constant("rope.q", ropeMatrices(1 / Math.sqrt(s.headDim())));
        SDVariable ropeK = sd.constant("rope.k", ropeMatrices(1));
        SDVariable causal = sd.constant("attention.causal_mask", causalMask());
        SDVariable ones = sd.constant("norm.ones", Nd4j.ones(DataType.FLOAT, 1, s.hidden()));
        for (int l = 0; l < s.layers(); l++) {
            String p = ModelShape.layer(l);
            SDVariable n = rmsNormUnscaled(x, ones);
            String inNorm = p + "input_layernorm.weight";
            SDVariable attn = attention(p, n, inNorm, ropeQ, ropeK, causal);
            x = x.add(linear(attn, p + "self_attn.o_proj.weight"));
            n = rmsNormUnscaled(x, ones);
            String postNorm = p + "post_attention_layernorm.weight";
            SDVariable gate = linear(n, p + "mlp.gate_proj.weight", postNorm);
            SDVariable act = sd.nn.swish(gate).mul(linear(n, p + "mlp.up_proj.weight", postNorm));
            x = x.add(linear(act, p + "mlp.down_proj.weight"));
        }
        SDVariable logits = linear(rmsNormUnscaled(x, ones), "lm_head.weight", "model.norm.weight").rename(LOGITS);

        // over the last axis: with an explicit axis, the graph copy that backprop makes fails to restore the op
        SDVariable logProbs = sd.nn.logSoftmax(logits).rename(LOG_PROBS);
        SDVariable targetOneHot = sd.reshape(sd.oneHot(target, v, -1, 1.0, 0.0, DataType.FLOAT), -1, v);
        SDVariable nll = sd.sum(logProbs.mul(targetOneHot), 1).neg();
        SDVariable weight = sd.reshape(mask, -1);
        sd.sum(nll.mul(weight)).div(sd.sum(weight)).rename(LOSS);
        sd.setLossVariables(LOSS);
    }

    /** One VARIABLE per HF tensor under its HF name (SameDiff accepts the dots, so no name map is needed). */
    private void addWeights(Map<String, float[]> weights) {
        for (var e : s.tensors().entrySet()) {
            float[] values = weights.get(e.getKey());
            sd.var(e.getKey(), Nd4j.create(values, e.getValue(), 'c'));
        }
    }

    private SDVariable w(String name) {
        return sd.getVariable(name);
    }

    /**
     * HF LlamaRMSNorm over the last axis of [N, D] without its weight: x · rsqrt(mean(x²) + eps). The weight is
     * folded into the Linear layers that read the norm ({@link #linear(SDVariable, String, String)}). Both avoid
     * broadcasting multiplies, whose gradient op is ~30× slower than an elementwise one in SameDiff M2.1 (measured:
     * 4.8 ms against 0.16 ms on [2048, 128]): the per-row factor is spread over the row by an outer product.
     */
    private SDVariable rmsNormUnscaled(SDVariable x, SDVariable ones) {
        SDVariable meanSquare = sd.mean(x.mul(x), true, 1);
        return x.mul(sd.mmul(sd.math.rsqrt(meanSquare.add(s.rmsEps())), ones));
    }

    /** [N, in] · Wᵀ with W [out, in]. */
    private SDVariable linear(SDVariable x, String weight) {
        return sd.mmul(x, w(weight), false, true, false);
    }

    /** (x ⊙ g) · Wᵀ computed as x · (W ⊙ g)ᵀ: the norm weight g scales W's columns (a small broadcast). */
    private SDVariable linear(SDVariable x, String weight, String normWeight) {
        return sd.mmul(x, w(weight).mul(w(normWeight)), false, true, false);
    }

    /**
     * Causal self-attention of one layer on the unscaled normed [N, D] ({@code norm} is the layer's input norm weight);
     * returns [N, D] before o_proj.
     */
    private SDVariable attention(String p, SDVariable n, String norm, SDVariable ropeQ, SDVariable ropeK,
            SDVariable causal) {
        int h = s.heads();
        int kv = s.kvHeads();
        int hd = s.headDim();
        SDVariable q = rope(linear(n, p + "self_attn.q_proj.weight", norm), h, ropeQ);
        SDVariable k = rope(linear(n, p + "self_attn.k_proj.weight", norm), kv, ropeK);
        SDVariable v = sd.permute(sd.reshape(linear(n, p + "self_attn.v_proj.weight", norm), -1, t, kv, hd), 0, 2, 1,
                3);
        int rep = s.kvGroups();
        if (rep > 1) {
            // grouped-query attention: the rep query heads sharing a KV head side by side as one longer query
            // ([B, kv, rep·T, hd]), HF's repeat_kv pairing (query head j uses KV head j / rep)
            q = sd.reshape(q, -1, kv, (long) rep * t, hd);
        }
        SDVariable scores = sd.mmul(q, k, false, true, false).add(causal);
        SDVariable probs = sd.nn.softmax(scores, 3);
        SDVariable ctx = sd.mmul(probs, v);
        if (rep > 1) {
            ctx = sd.reshape(ctx, -1, h, t, hd);
        }
        return sd.reshape(sd.permute(ctx, 0, 2, 1, 3), -1, (long) h * hd);
    }

    /**
     * RoPE on flat [N, heads·hd] (rows b·T + t), returning [B, heads, T, hd]. Position t's rotation is linear in x,
     * {@code x·cos_t + rotate_half(x)·sin_t = x · M_t}, so it runs as one batched matmul over positions with the
     * constant M [T, hd, hd] (elementwise cos/sin factors would broadcast over batch and heads; see rmsNorm).
     */
    private SDVariable rope(SDVariable flat, int heads, SDVariable m) {
        int hd = s.headDim();
        SDVariable byPosition = sd.reshape(sd.permute(sd.reshape(flat, -1, t, (long) heads * hd), 1, 0, 2), t, -1, hd);
        SDVariable rotated = sd.mmul(byPosition, m);
        return sd.permute(sd.reshape(rotated, t, -1, heads, hd), 1, 2, 0, 3);
    }

    /**
     * M_t = scale · (diag(cos_t) + R · diag(sin_t)) for every position t, [T, hd, hd], where x·R = rotate_half(x) =
     * concat(−x₂, x₁) (HF's convention) and cos_t, sin_t are taken of {@code t · inv_freq} over concat(freqs, freqs)
     * with float32 products, as HF and the eval graph compute them. {@code scale} folds attention's 1/√hd into the
     * queries.
     */
    private INDArray ropeMatrices(double scale) {
        int hd = s.headDim();
        int half = hd / 2;
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = (float) (1.0 / Math.pow(s.ropeTheta(), (2.0 * i) / hd));
        }
        float[] m = new float[t * hd * hd];
        for (int pos = 0; pos < t; pos++) {
            int base = pos * hd * hd;
            for (int j = 0; j < hd; j++) {
                float angle = (float) pos * invFreq[j % half];
                m[base + j * hd + j] = (float) (scale * Math.cos(angle)); // x[j]·cos[j] → out[j]
                float sin = (float) (scale * Math.sin(angle));
                if (j < half) {
                    m[base + (j + half) * hd + j] = -sin; // out[j] += −x[j + half]·sin[j]
                } else {
                    m[base + (j - half) * hd + j] = sin; // out[j] += x[j − half]·sin[j]
                }
            }
        }
        return Nd4j.create(m, new long[] {t, hd, hd}, 'c');
    }

    /** [rep·T, T]: 0 where key ≤ query, {@link #MASKED} above the diagonal; repeated per query head of a group. */
    private INDArray causalMask() {
        int rep = s.kvGroups();
        float[] m = new float[rep * t * t];
        for (int r = 0; r < rep * t; r++) {
            int query = r % t;
            for (int key = query + 1; key < t; key++) {
                m[r * t + key] = MASKED;
            }
        }
        return Nd4j.create(m, new long[] {(long) rep * t, t}, 'c');
    }
}
