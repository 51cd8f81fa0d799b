package org.mergelab.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.mergelab.BadInputException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** config.json parsing: HF defaults, RoPE scaling, the tensors a config implies, and one-line errors. */
class LlamaConfigTest {
    static final Path WHERE = Path.of("m/config.json");

    static JsonNode json(String s) throws Exception {
        return JsonMapper.builder().build().readTree(s);
    }

    static LlamaConfig parse(String extra) throws Exception {
        return LlamaConfig.parse(json("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64,"
                + " \"intermediate_size\": 128, \"num_attention_heads\": 8, \"num_hidden_layers\": 2,"
                + " \"vocab_size\": 100" + extra + "}"), WHERE);
    }

    static String error(String json) {
        return assertThrows(BadInputException.class, () -> LlamaConfig.parse(json(json), WHERE)).getMessage();
    }

    @Test
    void hfDefaults() throws Exception {
        LlamaConfig c = parse("");
        assertEquals(8, c.numKvHeads(), "num_key_value_heads defaults to num_attention_heads");
        assertEquals(8, c.headDim());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(10000.0, c.rope().theta());
        assertFalse(c.tieWordEmbeddings());
        assertFalse(c.qkvBias());
        assertEquals(0, c.slidingWindow());
        assertEquals(2 + 2 * 9 + 1, c.tensors().size());
        assertArrayEquals(new long[] {64, 64}, c.tensors().get("model.layers.1.self_attn.o_proj.weight"));
    }

    @Test
    void architectureVariants() throws Exception {
        LlamaConfig qwen = LlamaConfig.parse(json("{\"architectures\": [\"Qwen2ForCausalLM\"], \"hidden_size\": 64,"
                + " \"intermediate_size\": 128, \"num_attention_heads\": 8, \"num_key_value_heads\": 2,"
                + " \"num_hidden_layers\": 1, \"vocab_size\": 100, \"tie_word_embeddings\": true,"
                + " \"use_sliding_window\": false, \"sliding_window\": 4096}"), WHERE);
        assertTrue(qwen.qkvBias());
        assertFalse(qwen.oBias());
        assertEquals(0, qwen.slidingWindow(), "Qwen2's sliding_window applies only with use_sliding_window");
        assertArrayEquals(new long[] {16}, qwen.tensors().get("model.layers.0.self_attn.k_proj.bias"));
        assertFalse(qwen.tensors().containsKey("lm_head.weight"));
        assertFalse(qwen.tensors().containsKey("model.layers.0.self_attn.o_proj.bias"));
        LlamaConfig biased = parse(", \"attention_bias\": true, \"mlp_bias\": true");
        assertTrue(biased.tensors().containsKey("model.layers.0.self_attn.o_proj.bias"));
        assertTrue(biased.tensors().containsKey("model.layers.0.mlp.down_proj.bias"));
        LlamaConfig detected = parse("").withBiasesFrom(Set.of("model.layers.0.self_attn.q_proj.bias"));
        assertTrue(detected.qkvBias(), "biases the checkpoint carries are used");
        LlamaConfig mistral = LlamaConfig.parse(json("{\"architectures\": [\"MistralForCausalLM\"], \"hidden_size\":"
                + " 64, \"intermediate_size\": 128, \"num_attention_heads\": 8, \"num_hidden_layers\": 1,"
                + " \"vocab_size\": 100, \"head_dim\": 16, \"sliding_window\": 4096}"), WHERE);
        assertEquals(4096, mistral.slidingWindow());
        assertArrayEquals(new long[] {128, 64}, mistral.tensors().get("model.layers.0.self_attn.q_proj.weight"));
    }

    @Test
    void ropeScaling() throws Exception {
        float[] plain = parse(", \"rope_theta\": 500000.0").rope().invFreq(128);
        assertEquals(1.0f, plain[0]);
        assertEquals((float) Math.pow(500000, -126.0 / 128), plain[63]);
        float[] linear = parse(", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 4.0}").rope().invFreq(8);
        assertEquals(0.25f, linear[0]);
        // Llama 3.1: high frequencies kept, low ones divided by the factor, the band between blended
        LlamaConfig l3 = parse(", \"rope_theta\": 500000.0, \"rope_scaling\": {\"rope_type\": \"llama3\","
                + " \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
                + " \"original_max_position_embeddings\": 8192}");
        float[] f = l3.rope().invFreq(128);
        assertEquals(plain[0], f[0]);
        assertEquals(plain[63] / 8, f[63], 1e-12);
        int medium = 0;
        for (int i = 0; i < 64; i++) {
            double wavelen = 2 * Math.PI / plain[i];
            if (wavelen >= 2048 && wavelen <= 8192) {
                double smooth = (8192 / wavelen - 1) / 3;
                assertEquals((1 - smooth) * plain[i] / 8 + smooth * plain[i], f[i], 1e-6 * plain[i], "i=" + i);
                medium++;
            }
        }
        assertTrue(medium > 0);
        LlamaConfig v5 = parse(", \"rope_parameters\": {\"rope_theta\": 1000.0, \"rope_type\": \"default\"}");
        assertEquals(1000.0, v5.rope().theta(), "transformers 5 rope_parameters");
    }

    @Test
    void errorsAreOneLineNamingTheFile() {
        String base = "\"hidden_size\": 64, \"intermediate_size\": 128, \"num_attention_heads\": 8,"
                + " \"num_hidden_layers\": 2, \"vocab_size\": 100";
        assertEquals(WHERE + ": architecture GPT2LMHeadModel is not supported for evaluation; supported:"
                + " LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM",
                error("{\"architectures\": [\"GPT2LMHeadModel\"]}"));
        assertEquals(WHERE + ": no \"architectures\" entry to say which model this is; supported:"
                + " LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM", error("{}"));
        assertEquals(WHERE + ": missing \"vocab_size\"", error("{\"architectures\": [\"LlamaForCausalLM\"],"
                + " \"hidden_size\": 64, \"intermediate_size\": 128, \"num_attention_heads\": 8,"
                + " \"num_hidden_layers\": 2}"));
        assertEquals(WHERE + ": num_attention_heads 8 is not a multiple of num_key_value_heads 3",
                error("{\"architectures\": [\"LlamaForCausalLM\"], " + base + ", \"num_key_value_heads\": 3}"));
        assertEquals(WHERE + ": hidden_act 'gelu' is not supported; expected silu",
                error("{\"architectures\": [\"LlamaForCausalLM\"], " + base + ", \"hidden_act\": \"gelu\"}"));
        assertEquals(WHERE + ": rope scaling type 'yarn' is not supported; supported: default, linear, llama3",
                error("{\"architectures\": [\"LlamaForCausalLM\"], " + base + ", \"rope_scaling\": {\"rope_type\":"
                        + " \"yarn\", \"factor\": 4}}"));
        assertEquals(WHERE + ": use_sliding_window: true is not supported for Qwen2",
                error("{\"architectures\": [\"Qwen2ForCausalLM\"], " + base + ", \"use_sliding_window\": true}"));
        assertEquals(WHERE + ": \"hidden_size\" is -4; expected a positive integer",
                error("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": -4}"));
    }

    @Test
    void protobufVarintsAndTemplates() {
        assertArrayEquals(new byte[] {0x08, (byte) 0xAC, 0x02}, new ProtoWriter().int64(1, 300).toByteArray());
        byte[] neg = new ProtoWriter().int64(2, -1).toByteArray();
        assertEquals(11, neg.length, "negative int64: tag + ten bytes");
        assertArrayEquals(new byte[] {0x12, 0x02, 'h', 'i'}, new ProtoWriter().string(2, "hi").toByteArray());
        assertArrayEquals(new byte[] {0x3A, 0x02, 0x08, 0x05}, new ProtoWriter().message(7, new ProtoWriter()
                .int64(1, 5)).toByteArray());
        var t = PromptTemplate.parse("{{literal}} {x}={ y }", "t.yaml:3");
        assertEquals("{literal} 1=two", t.render(JsonMapper.builder().build().createObjectNode().put("x", 1)
                .put("y", "two"), "d.jsonl:1"));
    }
}
