package org.mergelab.zoo;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelWriter;
import org.mergelab.io.OutTensor;
import org.mergelab.io.SafetensorsFile;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Random Llama-shaped HF folders for tests, examples and benchmarks: real tensor names, shapes and config.json, values
 * from a counter-based hash (so any size generates fast and reproducibly, chunk by chunk). A "fine-tune" is its base
 * plus small noise, which is how real merge inputs relate.
 */
public final class SyntheticLlama {
    private SyntheticLlama() {}

    /** Architecture and storage of a synthetic model. */
    public record Spec(int layers, int hidden, int intermediate, int heads, int kvHeads, int vocab, DType dtype,
            long shardBytes, boolean tieEmbeddings) {
        public static Spec tiny() {
            return new Spec(2, 32, 64, 4, 2, 96, DType.BF16, Long.MAX_VALUE, false);
        }

        public Spec withShardBytes(long bytes) {
            return new Spec(layers, hidden, intermediate, heads, kvHeads, vocab, dtype, bytes, tieEmbeddings);
        }

        public Spec withDtype(DType type) {
            return new Spec(layers, hidden, intermediate, heads, kvHeads, vocab, type, shardBytes, tieEmbeddings);
        }

        /** A spec of about {@code bytes} total, hidden size a multiple of 64, layers grown to fit. */
        public static Spec ofSize(long bytes, DType dtype, long shardBytes) {
            int hidden = 1024;
            int inter = hidden * 8 / 3 / 64 * 64;
            int vocab = 32000;
            int heads = 16;
            int kvHeads = 4;
            long kv = (long) hidden / heads * kvHeads;
            long perLayer = 2L * hidden * hidden + 2L * kv * hidden + 3L * hidden * inter + 2L * hidden;
            long fixed = 2L * vocab * hidden + hidden;
            int layers = (int) Math.max(1, (bytes / dtype.width() - fixed) / perLayer);
            return new Spec(layers, hidden, inter, heads, kvHeads, vocab, dtype, shardBytes, false);
        }

        int headDim() {
            return hidden / heads;
        }
    }

    /** Tensors in the order HF writes a Llama checkpoint. */
    public static List<OutTensor> tensors(Spec s) {
        List<OutTensor> t = new ArrayList<>();
        long h = s.hidden();
        long q = (long) s.heads() * s.headDim();
        long kv = (long) s.kvHeads() * s.headDim();
        t.add(new OutTensor("model.embed_tokens.weight", s.dtype(), new long[] {s.vocab(), h}));
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            t.add(new OutTensor(p + "self_attn.q_proj.weight", s.dtype(), new long[] {q, h}));
            t.add(new OutTensor(p + "self_attn.k_proj.weight", s.dtype(), new long[] {kv, h}));
            t.add(new OutTensor(p + "self_attn.v_proj.weight", s.dtype(), new long[] {kv, h}));
            t.add(new OutTensor(p + "self_attn.o_proj.weight", s.dtype(), new long[] {h, q}));
            t.add(new OutTensor(p + "mlp.gate_proj.weight", s.dtype(), new long[] {s.intermediate(), h}));
            t.add(new OutTensor(p + "mlp.up_proj.weight", s.dtype(), new long[] {s.intermediate(), h}));
            t.add(new OutTensor(p + "mlp.down_proj.weight", s.dtype(), new long[] {h, s.intermediate()}));
            t.add(new OutTensor(p + "input_layernorm.weight", s.dtype(), new long[] {h}));
            t.add(new OutTensor(p + "post_attention_layernorm.weight", s.dtype(), new long[] {h}));
        }
        t.add(new OutTensor("model.norm.weight", s.dtype(), new long[] {h}));
        if (!s.tieEmbeddings()) {
            t.add(new OutTensor("lm_head.weight", s.dtype(), new long[] {s.vocab(), h}));
        }
        return t;
    }

    /**
     * Writes a model folder. Values are {@code base(baseSeed) + delta·noise(seed)}: with {@code delta = 0} the model
     * is the base itself; a fine-tune of it shares {@code baseSeed} and has a small {@code delta}.
     */
    public static void write(Path dir, Spec spec, long baseSeed, long seed, double delta) throws IOException {
        Files.createDirectories(dir);
        List<OutTensor> tensors = tensors(spec);
        try (ModelWriter w = ModelWriter.create(dir, tensors, spec.shardBytes(), Map.of("format", "pt"))) {
            int chunk = 1 << 16;
            float[] values = new float[chunk];
            ByteBuffer buf = ByteBuffer.allocateDirect(chunk * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < tensors.size(); i++) {
                OutTensor t = tensors.get(i);
                boolean norm = t.shape().length == 1;
                double scale = norm ? 0.1 : 0.02 * Math.sqrt(3);
                long id = t.name().hashCode();
                for (long off = 0; off < t.numel(); off += chunk) {
                    int n = (int) Math.min(chunk, t.numel() - off);
                    for (int j = 0; j < n; j++) {
                        long e = off + j;
                        double v = (norm ? 1 : 0) + scale * uniform(baseSeed, id, e)
                                + delta * scale * uniform(seed * 0x9E3779B97F4A7C15L + 7, id, e);
                        values[j] = (float) v;
                    }
                    buf.clear().limit(n * t.dtype().width());
                    FloatCodec.encode(t.dtype(), values, n, MemorySegment.ofBuffer(buf));
                    w.write(i, off * t.dtype().width(), buf);
                }
            }
            w.finish();
        }
        Files.writeString(dir.resolve(ModelFolder.CONFIG), SafetensorsFile.jsonPretty(config(spec)) + "\n");
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\n  \"model_max_length\": 128,\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\"\n}\n");
    }

    static ObjectNode config(Spec s) {
        ObjectNode c = com.fasterxml.jackson.databind.json.JsonMapper.builder().build().createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("hidden_size", s.hidden());
        c.put("intermediate_size", s.intermediate());
        c.put("num_attention_heads", s.heads());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("num_hidden_layers", s.layers());
        c.put("vocab_size", s.vocab());
        c.put("max_position_embeddings", 128);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", s.tieEmbeddings());
        c.put("torch_dtype", s.dtype().torchName());
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        return c;
    }

    /** Uniform in [−1, 1) from (seed, tensor, element): SplitMix64 finaliser over the mixed key. */
    static double uniform(long seed, long tensor, long element) {
        long z = seed + tensor * 0xBF58476D1CE4E5B9L + element * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return ((z >>> 11) * 0x1.0p-53) * 2 - 1;
    }
}
