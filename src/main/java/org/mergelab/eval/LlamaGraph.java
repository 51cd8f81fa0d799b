package org.mergelab.eval;

import java.util.List;

import org.mergelab.eval.OnnxGraph.Attr;
import org.mergelab.eval.OnnxGraph.Type;

/**
 * Builds the ONNX graph of a Llama-family decoder from its {@link LlamaConfig}, with standard ops only (opset 21).
 *
 * <pre>
 * inputs   input_ids [batch, seq] int64, attention_mask [batch, total] int64 (1 = real token, 0 = padding),
 *          position_ids [batch, seq] int64;
 *          with a cache also past_key_values.{i}.key/.value [batch, kv_heads, past, head_dim]
 * outputs  logits [batch, seq, vocab]; with a cache also present.{i}.key/.value [batch, kv_heads, total, head_dim]
 * </pre>
 *
 * Weights are external initializers named and shaped exactly as the HF tensors. Linear layers are
 * {@code Gemm(x, W, b, transB=1)} on [batch·seq, features], so the [out, in] HF layout is used as it is (Gemm packs
 * B once at session creation, transposed or not) and biases ride along. The query of absolute position p may see key
 * k when {@code k ≤ p}, {@code attention_mask[k] = 1} and, with a sliding window w, {@code k > p − w}; masked scores
 * become the lowest float before the softmax (not −∞, so an all-masked padding row stays finite).
 */
public final class LlamaGraph {
    /** With or without the KV cache inputs and outputs. */
    public enum Variant {
        /** Logits for every position of the given tokens: scoring, and generation that re-reads the whole prefix. */
        LOGITS,
        /** Also takes and returns the per-layer keys and values, so generation feeds one new token per step. */
        DECODER
    }

    public static final int IR_VERSION = 10;
    public static final int OPSET = 21;

    private final LlamaConfig c;
    private final Variant variant;
    private final OnnxGraph g;

    private LlamaGraph(LlamaConfig c, Variant variant) {
        this.c = c;
        this.variant = variant;
        this.g = new OnnxGraph("mergelab_" + c.architecture() + "_" + variant.name().toLowerCase());
    }

    /** The serialized ModelProto (no weight data inside). */
    public static byte[] build(LlamaConfig config, Variant variant) {
        LlamaGraph b = new LlamaGraph(config, variant);
        b.emit();
        return b.g.toModel(IR_VERSION, OPSET);
    }

    private void emit() {
        int h = c.hiddenSize();
        int hd = c.headDim();
        int nh = c.numHeads();
        int nkv = c.numKvHeads();
        String ids = g.input("input_ids", Type.INT64, "batch", "seq");
        String mask = g.input("attention_mask", Type.INT64, "batch", "total");
        String pos = g.input("position_ids", Type.INT64, "batch", "seq");
        c.tensors().forEach((name, shape) -> g.externalWeight(name, shape));

        // constants
        String axisLast = g.constant("c.axis_last", new long[] {-1}, 1);
        String flatH = g.constant("c.shape_flat_hidden", new long[] {-1, h}, 2);
        String headShape = g.constant("c.heads_tail", new long[] {nh, hd}, 2);
        String kvHeadShape = g.constant("c.kv_heads_tail", new long[] {nkv, hd}, 2);
        String two = g.constant("c.two", new float[] {2f}, new long[0]);
        String eps = g.constant("c.eps", new float[] {(float) c.rmsNormEps()}, new long[0]);
        String lowest = g.constant("c.lowest", new float[] {-Float.MAX_VALUE}, new long[0]);
        String scale = g.constant("c.scale", new float[] {(float) (1.0 / Math.sqrt(hd))}, new long[0]);
        String one = g.constant("c.one_i64", new long[] {1}, new long[0]);
        String zero = g.constant("c.zero_i64", new long[] {0}, new long[0]);
        float[] invFreq = c.rope().invFreq(hd);
        String invFreqC = g.constant("c.rope_inv_freq", invFreq, invFreq.length);

        // shapes: [batch, seq] of the ids, total = past + seq from the mask
        String idsShape = g.node("Shape", "shape.ids", List.of(ids));
        String seqLen = g.node("Squeeze", "shape.seq", List.of(
                g.node("Shape", "shape.seq_1d", List.of(ids), Attr.i("start", 1), Attr.i("end", 2))));
        String total = g.node("Squeeze", "shape.total", List.of(
                g.node("Shape", "shape.total_1d", List.of(mask), Attr.i("start", 1), Attr.i("end", 2))));
        String past = g.node("Sub", "shape.past", List.of(total, seqLen));
        String bthd = g.node("Concat", "shape.b_t_nh_hd", List.of(idsShape, headShape), Attr.i("axis", 0));
        String btkv = g.node("Concat", "shape.b_t_nkv_hd", List.of(idsShape, kvHeadShape), Attr.i("axis", 0));

        // allowed[b, 1, q, k]: causal (k ≤ past + q), not padding, inside the sliding window
        String keyIdx = g.node("Range", "mask.key_idx", List.of(zero, total, one));
        String queryIdx = g.node("Range", "mask.query_idx", List.of(past, total, one));
        String keyRow = g.node("Unsqueeze", "mask.key_row", List.of(keyIdx, g.constant("c.axes0", new long[] {0}, 1)));
        String queryCol = g.node("Unsqueeze", "mask.query_col",
                List.of(queryIdx, g.constant("c.axes1", new long[] {1}, 1)));
        String allowed = g.node("LessOrEqual", "mask.causal", List.of(keyRow, queryCol));
        if (c.slidingWindow() > 0) {
            String start = g.node("Sub", "mask.window_start",
                    List.of(queryCol, g.constant("c.window", new long[] {c.slidingWindow()}, new long[0])));
            String inWindow = g.node("Greater", "mask.in_window", List.of(keyRow, start));
            allowed = g.node("And", "mask.causal_window", List.of(allowed, inWindow));
        }
        String real = g.node("Cast", "mask.real", List.of(mask), Attr.i("to", Type.BOOL.code));
        String real4 = g.node("Unsqueeze", "mask.real_b11k",
                List.of(real, g.constant("c.axes12", new long[] {1, 2}, 2)));
        allowed = g.node("And", "mask.allowed", List.of(allowed, real4));

        // RoPE tables cos/sin [batch, 1, seq, head_dim] from the positions: freqs = pos · inv_freq, duplicated
        String posF = g.node("Cast", "rope.pos_f", List.of(pos), Attr.i("to", Type.FLOAT.code));
        String pos3 = g.node("Unsqueeze", "rope.pos_b_t_1",
                List.of(posF, g.constant("c.axes2", new long[] {2}, 1)));
        String freqs = g.node("Mul", "rope.freqs", List.of(pos3, invFreqC));
        String emb = g.node("Concat", "rope.emb", List.of(freqs, freqs), Attr.i("axis", -1));
        String axes1 = "c.axes1";
        String cos = g.node("Unsqueeze", "rope.cos", List.of(g.node("Cos", "rope.cos_btd", List.of(emb)), axes1));
        String sin = g.node("Unsqueeze", "rope.sin", List.of(g.node("Sin", "rope.sin_btd", List.of(emb)), axes1));

        String x = g.node("Reshape", "embed.flat",
                List.of(g.node("Gather", "embed", List.of("model.embed_tokens.weight", ids)), flatH));
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            String n = rmsNorm(p + "input_layernorm", x, two, eps, axisLast);
            String q = linear(p + "self_attn.q_proj", n, c.qkvBias());
            String k = linear(p + "self_attn.k_proj", n, c.qkvBias());
            String v = linear(p + "self_attn.v_proj", n, c.qkvBias());
            String attn = attention(l, q, k, v, bthd, btkv, cos, sin, allowed, lowest, scale);
            x = g.node("Add", p + "attn_residual", List.of(x, linear(p + "self_attn.o_proj", attn, c.oBias())));
            n = rmsNorm(p + "post_attention_layernorm", x, two, eps, axisLast);
            String gate = linear(p + "mlp.gate_proj", n, c.mlpBias());
            String up = linear(p + "mlp.up_proj", n, c.mlpBias());
            String silu = g.node("Mul", p + "mlp.silu", List.of(gate, g.node("Sigmoid", p + "mlp.sigmoid",
                    List.of(gate))));
            String act = g.node("Mul", p + "mlp.act", List.of(silu, up));
            x = g.node("Add", p + "mlp_residual", List.of(x, linear(p + "mlp.down_proj", act, c.mlpBias())));
        }
        String n = rmsNorm("model.norm", x, two, eps, axisLast);
        String head = c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
        String flatLogits = g.node("Gemm", "lm_head", List.of(n, head), Attr.i("transB", 1));
        String logitsShape = g.node("Concat", "shape.logits",
                List.of(idsShape, g.constant("c.vocab", new long[] {c.vocabSize()}, 1)), Attr.i("axis", 0));
        g.node("Reshape", "logits", List.of(flatLogits, logitsShape));
        g.output("logits", Type.FLOAT, "batch", "seq", (long) c.vocabSize());
    }

    /** HF LlamaRMSNorm: x / sqrt(mean(x²) + eps) · w, in the order ORT's SimplifiedLayerNorm fusion matches. */
    private String rmsNorm(String prefix, String x, String two, String eps, String axisLast) {
        String sq = g.node("Pow", prefix + ".sq", List.of(x, two));
        String mean = g.node("ReduceMean", prefix + ".mean", List.of(sq, axisLast), Attr.i("keepdims", 1));
        String std = g.node("Sqrt", prefix + ".std", List.of(g.node("Add", prefix + ".var_eps", List.of(mean, eps))));
        String normed = g.node("Div", prefix + ".normed", List.of(x, std));
        return g.node("Mul", prefix + ".out", List.of(normed, prefix + ".weight"));
    }

    private String linear(String prefix, String x, boolean bias) {
        List<String> in = bias ? List.of(x, prefix + ".weight", prefix + ".bias") : List.of(x, prefix + ".weight");
        return g.node("Gemm", prefix + ".out", in, Attr.i("transB", 1));
    }

    /**
     * Attention of one layer on flat q [N, nh·hd], k and v [N, nkv·hd]; returns [N, nh·hd]. Grouped-query attention
     * without copying keys: the rep = nh/nkv query heads sharing a KV head are laid side by side as one longer query
     * ([b, nkv, rep·t, hd]), which is exactly HF's repeat_kv pairing (query head j uses KV head j / rep).
     */
    private String attention(int l, String q, String k, String v, String bthd, String btkv, String cos, String sin,
            String allowed, String lowest, String scale) {
        String p = "model.layers." + l + ".self_attn.";
        int nh = c.numHeads();
        int nkv = c.numKvHeads();
        int hd = c.headDim();
        int rep = c.kvGroups();
        String q4 = g.node("Transpose", p + "q_bhtd", List.of(g.node("Reshape", p + "q_bthd", List.of(q, bthd))),
                Attr.ints("perm", 0, 2, 1, 3));
        String k4 = g.node("Transpose", p + "k_bhtd", List.of(g.node("Reshape", p + "k_bthd", List.of(k, btkv))),
                Attr.ints("perm", 0, 2, 1, 3));
        String v4 = g.node("Transpose", p + "v_bhtd", List.of(g.node("Reshape", p + "v_bthd", List.of(v, btkv))),
                Attr.ints("perm", 0, 2, 1, 3));
        q4 = rope(p + "q_rope", q4, cos, sin);
        k4 = rope(p + "k_rope", k4, cos, sin);
        if (variant == Variant.DECODER) {
            String pastK = g.input("past_key_values." + l + ".key", Type.FLOAT, "batch", (long) nkv, "past",
                    (long) hd);
            String pastV = g.input("past_key_values." + l + ".value", Type.FLOAT, "batch", (long) nkv, "past",
                    (long) hd);
            k4 = g.node("Concat", "present." + l + ".key", List.of(pastK, k4), Attr.i("axis", 2));
            v4 = g.node("Concat", "present." + l + ".value", List.of(pastV, v4), Attr.i("axis", 2));
            g.output(k4, Type.FLOAT, "batch", (long) nkv, "total", (long) hd);
            g.output(v4, Type.FLOAT, "batch", (long) nkv, "total", (long) hd);
        }
        String qs = g.node("Mul", p + "q_scaled", List.of(q4, scale));
        String kT = g.node("Transpose", p + "k_t", List.of(k4), Attr.ints("perm", 0, 1, 3, 2));
        String scores;
        if (rep == 1) {
            scores = g.node("MatMul", p + "scores", List.of(qs, kT));
        } else {
            String grouped = g.node("Reshape", p + "q_grouped",
                    List.of(qs, g.constant(p + "c.grouped", new long[] {0, nkv, -1, hd}, 4)));
            String s = g.node("MatMul", p + "scores_grouped", List.of(grouped, kT));
            scores = g.node("Reshape", p + "scores",
                    List.of(s, g.constant(p + "c.per_head", new long[] {0, nh, -1, 0}, 4)));
        }
        String masked = g.node("Where", p + "scores_masked", List.of(allowed, scores, lowest));
        String probs = g.node("Softmax", p + "probs", List.of(masked), Attr.i("axis", -1));
        String ctx;
        if (rep == 1) {
            ctx = g.node("MatMul", p + "ctx", List.of(probs, v4));
        } else {
            String grouped = g.node("Reshape", p + "probs_grouped",
                    List.of(probs, g.constant(p + "c.grouped_probs", new long[] {0, nkv, -1, 0}, 4)));
            String cg = g.node("MatMul", p + "ctx_grouped", List.of(grouped, v4));
            ctx = g.node("Reshape", p + "ctx", List.of(cg, g.constant(p + "c.ctx_heads", new long[] {0, nh, -1, hd},
                    4)));
        }
        String bthdCtx = g.node("Transpose", p + "ctx_bthd", List.of(ctx), Attr.ints("perm", 0, 2, 1, 3));
        return g.node("Reshape", p + "ctx_flat", List.of(bthdCtx,
                g.constant(p + "c.flat_q", new long[] {-1, (long) nh * hd}, 2)));
    }

    /** x·cos + rotate_half(x)·sin with rotate_half(x) = concat(−x₂, x₁), HF's convention. */
    private String rope(String prefix, String x, String cos, String sin) {
        String[] halves = g.node("Split", new String[] {prefix + ".x1", prefix + ".x2"}, List.of(x),
                Attr.i("axis", -1), Attr.i("num_outputs", 2));
        String rotated = g.node("Concat", prefix + ".rotated",
                List.of(g.node("Neg", prefix + ".neg_x2", List.of(halves[1])), halves[0]), Attr.i("axis", -1));
        return g.node("Add", prefix + ".out", List.of(g.node("Mul", prefix + ".x_cos", List.of(x, cos)),
                g.node("Mul", prefix + ".rot_sin", List.of(rotated, sin))));
    }
}
