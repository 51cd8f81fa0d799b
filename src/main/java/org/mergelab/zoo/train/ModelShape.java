package org.mergelab.zoo.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.mergelab.BadInputException;
import org.mergelab.zoo.CharTokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The architecture of a model of the in-house family: a Llama (RMSNorm, RoPE, SwiGLU, untied {@code lm_head}, no
 * biases) over the character vocabulary.
 *
 * @param kvHeads key/value heads; fewer than {@code heads} is grouped-query attention
 * @param context the longest sequence trained on and written as {@code max_position_embeddings}
 */
public record ModelShape(int layers, int hidden, int intermediate, int heads, int kvHeads, int vocab, int context,
        double ropeTheta, double rmsEps) {

    public ModelShape {
        positive("layers", layers);
        positive("hidden", hidden);
        positive("intermediate", intermediate);
        positive("heads", heads);
        positive("kvHeads", kvHeads);
        positive("vocab", vocab);
        positive("context", context);
        if (hidden % heads != 0 || (hidden / heads) % 2 != 0) {
            throw new IllegalArgumentException("hidden " + hidden + " must split into " + heads
                    + " heads of an even size (RoPE rotates pairs)");
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " is not a multiple of kvHeads " + kvHeads);
        }
        if (!(ropeTheta > 0) || !(rmsEps > 0)) {
            throw new IllegalArgumentException("ropeTheta and rmsEps must be positive");
        }
    }

    /** The family's default: 4 layers of width 128 (≈ 0.82 M parameters), 128 characters of context. */
    public static ModelShape family() {
        // intermediate ≈ 8/3 · hidden rounded to a multiple of 32, Llama's SwiGLU sizing
        return new ModelShape(4, 128, 352, 4, 4, CharTokenizer.VOCAB_SIZE, 128, 10000.0, 1e-5);
    }

    public int headDim() {
        return hidden / heads;
    }

    /** Query heads per key/value head. */
    public int kvGroups() {
        return heads / kvHeads;
    }

    /** Every tensor, HF name → shape ([out, in] for a Linear weight), in the order HF writes a Llama checkpoint. */
    public Map<String, long[]> tensors() {
        Map<String, long[]> t = new LinkedHashMap<>();
        long h = hidden;
        long kv = (long) kvHeads * headDim();
        t.put("model.embed_tokens.weight", new long[] {vocab, h});
        for (int l = 0; l < layers; l++) {
            String p = layer(l);
            t.put(p + "self_attn.q_proj.weight", new long[] {h, h});
            t.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
            t.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
            t.put(p + "self_attn.o_proj.weight", new long[] {h, h});
            t.put(p + "mlp.gate_proj.weight", new long[] {intermediate, h});
            t.put(p + "mlp.up_proj.weight", new long[] {intermediate, h});
            t.put(p + "mlp.down_proj.weight", new long[] {h, intermediate});
            t.put(p + "input_layernorm.weight", new long[] {h});
            t.put(p + "post_attention_layernorm.weight", new long[] {h});
        }
        t.put("model.norm.weight", new long[] {h});
        t.put("lm_head.weight", new long[] {vocab, h});
        return t;
    }

    /** The name prefix of layer {@code l}'s tensors. */
    static String layer(int l) {
        return "model.layers." + l + ".";
    }

    public long parameters() {
        long n = 0;
        for (long[] s : tensors().values()) {
            long e = 1;
            for (long d : s) {
                e *= d;
            }
            n += e;
        }
        return n;
    }

    /** The HF config.json of a model of this shape (special tokens of {@link CharTokenizer}, bf16 weights). */
    public ObjectNode config() {
        ObjectNode c = JsonMapper.builder().build().createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("head_dim", headDim());
        c.put("vocab_size", vocab);
        c.put("max_position_embeddings", context);
        c.put("rope_theta", ropeTheta);
        c.put("rms_norm_eps", rmsEps);
        c.put("hidden_act", "silu");
        c.put("attention_bias", false);
        c.put("mlp_bias", false);
        c.put("tie_word_embeddings", false);
        c.put("bos_token_id", CharTokenizer.BOS);
        c.put("eos_token_id", CharTokenizer.EOS);
        c.put("pad_token_id", CharTokenizer.PAD);
        c.put("torch_dtype", "bfloat16");
        return c;
    }

    /**
     * The shape a config.json describes; {@link BadInputException} naming {@code where} when it is not a model this
     * trainer can continue (another architecture, biases, tied embeddings, RoPE scaling, an activation other than
     * silu).
     */
    public static ModelShape of(JsonNode c, Path where) {
        JsonNode arch = c.path("architectures");
        if (!arch.isArray() || arch.size() != 1 || !arch.get(0).asText().equals("LlamaForCausalLM")) {
            throw bad(where, "architectures is " + arch + "; the trainer continues LlamaForCausalLM models only");
        }
        for (String flag : new String[] {"tie_word_embeddings", "attention_bias", "mlp_bias"}) {
            if (c.path(flag).asBoolean(false)) {
                throw bad(where, flag + " is true; the trainer's models have none");
            }
        }
        if (c.hasNonNull("rope_scaling")) {
            throw bad(where, "rope_scaling is set; the trainer uses plain RoPE");
        }
        if (!c.path("hidden_act").asText("silu").equals("silu")) {
            throw bad(where, "hidden_act is " + c.get("hidden_act") + "; expected silu");
        }
        int hidden = intKey(c, "hidden_size", where);
        int heads = intKey(c, "num_attention_heads", where);
        int kvHeads = c.has("num_key_value_heads") ? intKey(c, "num_key_value_heads", where) : heads;
        if (c.has("head_dim") && intKey(c, "head_dim", where) * heads != hidden) {
            throw bad(where, "head_dim " + c.get("head_dim") + " × " + heads + " heads ≠ hidden_size " + hidden);
        }
        try {
            return new ModelShape(intKey(c, "num_hidden_layers", where), hidden, intKey(c, "intermediate_size", where),
                    heads, kvHeads, intKey(c, "vocab_size", where), intKey(c, "max_position_embeddings", where),
                    c.path("rope_theta").asDouble(10000.0), c.path("rms_norm_eps").asDouble(1e-6));
        } catch (IllegalArgumentException e) {
            throw bad(where, e.getMessage());
        }
    }

    private static int intKey(JsonNode c, String key, Path where) {
        JsonNode n = c.get(key);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() <= 0) {
            throw bad(where, "\"" + key + "\" is " + n + "; expected a positive integer");
        }
        return n.intValue();
    }

    private static void positive(String what, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + value);
        }
    }

    private static BadInputException bad(Path where, String what) {
        return new BadInputException(where + ": " + what);
    }
}
