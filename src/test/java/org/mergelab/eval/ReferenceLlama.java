package org.mergelab.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * An independent float64 forward pass of a Llama-family checkpoint, written straight from the HF modeling code
 * (LlamaRMSNorm, rotate_half RoPE, repeat_kv GQA, causal softmax attention, SwiGLU MLP), one sequence at a time.
 * Shares nothing with the ONNX graph builder: it reads config.json and the safetensors itself.
 */
public final class ReferenceLlama {
    private final int hidden;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int layers;
    private final int vocab;
    private final int window;
    private final double eps;
    private final double theta;
    private final Map<String, double[]> w;

    ReferenceLlama(JsonNode c, Map<String, double[]> w) {
        this.hidden = c.get("hidden_size").intValue();
        this.heads = c.get("num_attention_heads").intValue();
        this.kvHeads = c.has("num_key_value_heads") ? c.get("num_key_value_heads").intValue() : heads;
        this.headDim = c.has("head_dim") ? c.get("head_dim").intValue() : hidden / heads;
        this.layers = c.get("num_hidden_layers").intValue();
        this.vocab = c.get("vocab_size").intValue();
        this.eps = c.get("rms_norm_eps").doubleValue();
        this.theta = c.get("rope_theta").doubleValue();
        this.window = c.has("sliding_window") && !c.get("sliding_window").isNull()
                ? c.get("sliding_window").intValue() : 0;
        this.w = new HashMap<>(w);
        if (c.path("tie_word_embeddings").asBoolean(false)) {
            this.w.put("lm_head.weight", w.get("model.embed_tokens.weight"));
        }
    }

    public static ReferenceLlama load(Path dir) throws IOException {
        try (ModelFolder m = ModelFolder.open(dir)) {
            Map<String, double[]> w = new HashMap<>();
            for (ModelTensor t : m.tensors()) {
                int n = (int) t.info().numel();
                float[] f = new float[n];
                FloatCodec.decodeScalar(t.dtype(), t.data(), 0, f, n);
                double[] d = new double[n];
                for (int i = 0; i < n; i++) {
                    d[i] = f[i];
                }
                w.put(t.name(), d);
            }
            return new ReferenceLlama(m.config(), w);
        }
    }

    /** Logits [T][V] of one unpadded sequence at positions 0..T-1. */
    double[][] logits(long[] tokens) {
        int t = tokens.length;
        double[][] x = new double[t][];
        for (int i = 0; i < t; i++) {
            x[i] = row(w.get("model.embed_tokens.weight"), (int) tokens[i], hidden);
        }
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            double[][] n = new double[t][];
            for (int i = 0; i < t; i++) {
                n[i] = rmsNorm(x[i], w.get(p + "input_layernorm.weight"));
            }
            double[][] q = new double[t][];
            double[][] k = new double[t][];
            double[][] v = new double[t][];
            for (int i = 0; i < t; i++) {
                q[i] = rope(linear(n[i], p + "self_attn.q_proj", heads * headDim), heads, i);
                k[i] = rope(linear(n[i], p + "self_attn.k_proj", kvHeads * headDim), kvHeads, i);
                v[i] = linear(n[i], p + "self_attn.v_proj", kvHeads * headDim);
            }
            int rep = heads / kvHeads;
            for (int i = 0; i < t; i++) {
                double[] ctx = new double[heads * headDim];
                for (int hh = 0; hh < heads; hh++) {
                    int kvh = hh / rep; // repeat_kv
                    double[] s = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        if (window > 0 && j <= i - window) {
                            s[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double dot = 0;
                        for (int d = 0; d < headDim; d++) {
                            dot += q[i][hh * headDim + d] * k[j][kvh * headDim + d];
                        }
                        s[j] = dot / Math.sqrt(headDim);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        for (int d = 0; d < headDim; d++) {
                            ctx[hh * headDim + d] += s[j] / sum * v[j][kvh * headDim + d];
                        }
                    }
                }
                add(x[i], linear(ctx, p + "self_attn.o_proj", hidden));
            }
            for (int i = 0; i < t; i++) {
                double[] m = rmsNorm(x[i], w.get(p + "post_attention_layernorm.weight"));
                double[] g = linear(m, p + "mlp.gate_proj", -1);
                double[] u = linear(m, p + "mlp.up_proj", -1);
                double[] a = new double[g.length];
                for (int j = 0; j < g.length; j++) {
                    a[j] = g[j] / (1 + Math.exp(-g[j])) * u[j];
                }
                add(x[i], linear(a, p + "mlp.down_proj", hidden));
            }
        }
        double[][] out = new double[t][];
        for (int i = 0; i < t; i++) {
            out[i] = linear(rmsNorm(x[i], w.get("model.norm.weight")), "lm_head", vocab);
        }
        return out;
    }

    /** log P(token_i | tokens_<i); element 0 is NaN. */
    public double[] logprobs(long[] tokens) {
        double[][] z = logits(tokens);
        double[] lp = new double[tokens.length];
        lp[0] = Double.NaN;
        for (int i = 1; i < tokens.length; i++) {
            lp[i] = logSoftmax(z[i - 1])[(int) tokens[i]];
        }
        return lp;
    }

    static double[] logSoftmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = z[i] - lse;
        }
        return out;
    }

    private double[] rmsNorm(double[] x, double[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = weight[i] * (x[i] * inv);
        }
        return out;
    }

    /** y = W x (+ b) with W stored [out, in] row-major; out = -1 infers it. */
    private double[] linear(double[] x, String name, int out) {
        double[] wt = w.get(name + ".weight");
        int in = x.length;
        int o = out > 0 ? out : wt.length / in;
        double[] b = w.get(name + ".bias");
        double[] y = new double[o];
        for (int r = 0; r < o; r++) {
            double s = b != null ? b[r] : 0;
            for (int c = 0; c < in; c++) {
                s += wt[r * in + c] * x[c];
            }
            y[r] = s;
        }
        return y;
    }

    /** HF apply_rotary_pos_emb: x·cos + rotate_half(x)·sin per head, emb = cat(freqs, freqs). */
    private double[] rope(double[] x, int nHeads, int pos) {
        double[] out = new double[x.length];
        int half = headDim / 2;
        for (int hh = 0; hh < nHeads; hh++) {
            int o = hh * headDim;
            for (int d = 0; d < headDim; d++) {
                int i = d % half;
                double invFreq = 1.0 / Math.pow(theta, 2.0 * i / headDim);
                double ang = pos * invFreq;
                double rot = d < half ? -x[o + d + half] : x[o + d - half];
                out[o + d] = x[o + d] * Math.cos(ang) + rot * Math.sin(ang);
            }
        }
        return out;
    }

    private static double[] row(double[] m, int r, int width) {
        double[] out = new double[width];
        System.arraycopy(m, r * width, out, 0, width);
        return out;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }
}
