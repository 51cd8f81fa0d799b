package org.mergelab.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.mergelab.BadInputException;
import org.mergelab.io.ModelFolder;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The architecture of a Llama-family checkpoint as config.json describes it: everything the ONNX graph depends on and
 * nothing else, so equal configs share one built graph.
 *
 * @param qkvBias q/k/v projections carry biases (Qwen2 always; Llama with {@code attention_bias})
 * @param oBias o_proj carries a bias (Llama with {@code attention_bias})
 * @param mlpBias gate/up/down projections carry biases (Llama with {@code mlp_bias})
 * @param slidingWindow keys further back than this are masked (Mistral); 0 for none
 * @param rope RoPE frequencies: theta and optional scaling
 */
public record LlamaConfig(String architecture, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
        int numHeads, int numKvHeads, int headDim, double rmsNormEps, Rope rope, boolean tieWordEmbeddings,
        boolean qkvBias, boolean oBias, boolean mlpBias, int slidingWindow, int maxPositions) {

    public static final List<String> SUPPORTED = List.of("LlamaForCausalLM", "MistralForCausalLM",
            "Qwen2ForCausalLM");

    /**
     * RoPE as HF computes it: {@code inv_freq[i] = theta^(-2i/head_dim)}, then the scaling of {@code rope_scaling}
     * ({@code linear}: divided by factor; {@code llama3}: Llama 3.1's wavelength-dependent blend).
     */
    public record Rope(double theta, String scaling, double factor, double lowFreqFactor, double highFreqFactor,
            int originalMaxPositions) {
        public static Rope plain(double theta) {
            return new Rope(theta, "default", 1, 0, 0, 0);
        }

        /** The {@code head_dim / 2} inverse frequencies, in float32 as HF keeps them. */
        public float[] invFreq(int headDim) {
            float[] f = new float[headDim / 2];
            for (int i = 0; i < f.length; i++) {
                double inv = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
                f[i] = (float) switch (scaling) {
                    case "linear" -> inv / factor;
                    case "llama3" -> llama3(inv);
                    default -> inv;
                };
            }
            return f;
        }

        private double llama3(double inv) {
            double lowWavelen = originalMaxPositions / lowFreqFactor;
            double highWavelen = originalMaxPositions / highFreqFactor;
            double wavelen = 2 * Math.PI / inv;
            if (wavelen < highWavelen) {
                return inv;
            }
            if (wavelen > lowWavelen) {
                return inv / factor;
            }
            double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
            return (1 - smooth) * inv / factor + smooth * inv;
        }
    }

    public int kvGroups() {
        return numHeads / numKvHeads;
    }

    /** Reads config.json ({@code where} names it in errors). */
    public static LlamaConfig parse(JsonNode c, Path where) {
        String arch = architecture(c, where);
        int hidden = positiveInt(c, "hidden_size", where, null);
        int heads = positiveInt(c, "num_attention_heads", where, null);
        int kvHeads = positiveInt(c, "num_key_value_heads", where, heads);
        Integer headDimDefault = hidden % heads == 0 ? hidden / heads : null;
        int headDim = positiveInt(c, "head_dim", where, headDimDefault);
        if (heads % kvHeads != 0) {
            throw bad(where, "num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw bad(where, "head_dim " + headDim + " is odd; RoPE needs an even head_dim");
        }
        String act = text(c, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw bad(where, "hidden_act '" + act + "' is not supported; expected silu");
        }
        boolean qwen2 = arch.equals("Qwen2ForCausalLM");
        boolean llama = arch.equals("LlamaForCausalLM");
        boolean attentionBias = llama && bool(c, "attention_bias", false, where);
        boolean mlpBias = llama && bool(c, "mlp_bias", false, where);
        int window = 0;
        if (arch.equals("MistralForCausalLM") && c.hasNonNull("sliding_window")) {
            window = positiveInt(c, "sliding_window", where, null);
        }
        if (qwen2 && bool(c, "use_sliding_window", false, where)) {
            throw bad(where, "use_sliding_window: true is not supported for Qwen2");
        }
        return new LlamaConfig(arch, positiveInt(c, "vocab_size", where, null), hidden,
                positiveInt(c, "intermediate_size", where, null), positiveInt(c, "num_hidden_layers", where, null),
                heads, kvHeads, headDim, positiveDouble(c, "rms_norm_eps", where, 1e-6), rope(c, where),
                bool(c, "tie_word_embeddings", false, where), qwen2 || attentionBias, attentionBias, mlpBias, window,
                positiveInt(c, "max_position_embeddings", where, 2048));
    }

    /** The config.json of a model folder, with the biases its checkpoint carries. */
    public static LlamaConfig of(ModelFolder folder) {
        Set<String> names = new java.util.HashSet<>();
        folder.tensors().forEach(t -> names.add(t.name()));
        return parse(folder.config(), folder.dir().resolve(ModelFolder.CONFIG)).withBiasesFrom(names);
    }

    /** The same config with q/k/v biases switched on when the checkpoint has them though config.json is silent. */
    public LlamaConfig withBiasesFrom(Set<String> tensorNames) {
        if (qkvBias || !tensorNames.contains("model.layers.0.self_attn.q_proj.bias")) {
            return this;
        }
        return new LlamaConfig(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads,
                numKvHeads, headDim, rmsNormEps, rope, tieWordEmbeddings, true, oBias, mlpBias, slidingWindow,
                maxPositions);
    }

    /** Every tensor the graph reads, with its HF name and shape ([out, in] for a Linear weight), in HF order. */
    public Map<String, long[]> tensors() {
        Map<String, long[]> t = new LinkedHashMap<>();
        long h = hiddenSize;
        long q = (long) numHeads * headDim;
        long kv = (long) numKvHeads * headDim;
        long inter = intermediateSize;
        t.put("model.embed_tokens.weight", new long[] {vocabSize, h});
        for (int l = 0; l < numLayers; l++) {
            String p = "model.layers." + l + ".";
            linear(t, p + "self_attn.q_proj", q, h, qkvBias);
            linear(t, p + "self_attn.k_proj", kv, h, qkvBias);
            linear(t, p + "self_attn.v_proj", kv, h, qkvBias);
            linear(t, p + "self_attn.o_proj", h, q, oBias);
            linear(t, p + "mlp.gate_proj", inter, h, mlpBias);
            linear(t, p + "mlp.up_proj", inter, h, mlpBias);
            linear(t, p + "mlp.down_proj", h, inter, mlpBias);
            t.put(p + "input_layernorm.weight", new long[] {h});
            t.put(p + "post_attention_layernorm.weight", new long[] {h});
        }
        t.put("model.norm.weight", new long[] {h});
        if (!tieWordEmbeddings) {
            t.put("lm_head.weight", new long[] {vocabSize, h});
        }
        return t;
    }

    private static void linear(Map<String, long[]> t, String name, long out, long in, boolean bias) {
        t.put(name + ".weight", new long[] {out, in});
        if (bias) {
            t.put(name + ".bias", new long[] {out});
        }
    }

    private static String architecture(JsonNode c, Path where) {
        JsonNode a = c.get("architectures");
        List<String> names = new ArrayList<>();
        if (a != null && a.isArray()) {
            a.forEach(n -> names.add(n.asText()));
        }
        for (String n : names) {
            if (SUPPORTED.contains(n)) {
                return n;
            }
        }
        String what = names.isEmpty() ? "no \"architectures\" entry to say which model this is"
                : "architecture " + String.join(", ", names) + " is not supported for evaluation";
        throw bad(where, what + "; supported: " + String.join(", ", SUPPORTED));
    }

    private static Rope rope(JsonNode c, Path where) {
        // transformers 5 nests theta and scaling in rope_parameters; older configs keep rope_theta + rope_scaling
        JsonNode params = c.get("rope_parameters");
        JsonNode scaling = params != null && params.isObject() ? params : c.get("rope_scaling");
        double theta = params != null && params.has("rope_theta") ? positiveDouble(params, "rope_theta", where, null)
                : positiveDouble(c, "rope_theta", where, 10000.0);
        if (scaling == null || scaling.isNull()) {
            return Rope.plain(theta);
        }
        String type = text(scaling, "rope_type", text(scaling, "type", "default"));
        return switch (type) {
            case "default" -> Rope.plain(theta);
            case "linear" -> new Rope(theta, type, positiveDouble(scaling, "factor", where, null), 0, 0, 0);
            case "llama3" -> new Rope(theta, type, positiveDouble(scaling, "factor", where, null),
                    positiveDouble(scaling, "low_freq_factor", where, null),
                    positiveDouble(scaling, "high_freq_factor", where, null),
                    positiveInt(scaling, "original_max_position_embeddings", where, null));
            default -> throw bad(where, "rope scaling type '" + type
                    + "' is not supported; supported: default, linear, llama3");
        };
    }

    private static int positiveInt(JsonNode c, String key, Path where, Integer fallback) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) {
            if (fallback == null) {
                throw bad(where, "missing \"" + key + "\"");
            }
            return fallback;
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.intValue() <= 0) {
            throw bad(where, "\"" + key + "\" is " + n + "; expected a positive integer");
        }
        return n.intValue();
    }

    private static double positiveDouble(JsonNode c, String key, Path where, Double fallback) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) {
            if (fallback == null) {
                throw bad(where, "missing \"" + key + "\"");
            }
            return fallback;
        }
        if (!n.isNumber() || !(n.doubleValue() > 0) || !Double.isFinite(n.doubleValue())) {
            throw bad(where, "\"" + key + "\" is " + n + "; expected a positive number");
        }
        return n.doubleValue();
    }

    private static boolean bool(JsonNode c, String key, boolean fallback, Path where) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw bad(where, "\"" + key + "\" is " + n + "; expected true or false");
        }
        return n.booleanValue();
    }

    private static String text(JsonNode c, String key, String fallback) {
        JsonNode n = c.get(key);
        return n == null || n.isNull() ? fallback : n.asText();
    }

    private static BadInputException bad(Path where, String what) {
        return new BadInputException(where + ": " + what);
    }
}
