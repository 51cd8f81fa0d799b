package org.mergelab.eval;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelWriter;
import org.mergelab.io.OutTensor;
import org.mergelab.io.SafetensorsFile;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Tiny random Llama-family checkpoints for the eval tests. Unlike the merge fixtures (weights of ±0.03, which give
 * near-uniform next-token distributions), weights here have unit-variance activations and logits of spread ~2, so
 * log-probs differ clearly between tokens and positions.
 */
public final class TinyModels {
    private TinyModels() {}

    /** An architecture to generate; {@code headDim} 0 means hidden / heads (and no head_dim key). */
    public record Spec(String arch, int layers, int hidden, int inter, int heads, int kvHeads, int headDim, int vocab,
            boolean tied, boolean attentionBias, int slidingWindow) {
        public static Spec llama() {
            return new Spec("LlamaForCausalLM", 2, 32, 48, 4, 4, 0, 64, false, false, 0);
        }

        public Spec gqa() {
            return new Spec(arch, layers, hidden, inter, heads, 2, headDim, vocab, tied, attentionBias,
                    slidingWindow);
        }

        public Spec tie() {
            return new Spec(arch, layers, hidden, inter, heads, kvHeads, headDim, vocab, true, attentionBias,
                    slidingWindow);
        }

        public Spec arch(String a) {
            return new Spec(a, layers, hidden, inter, heads, kvHeads, headDim, vocab, tied, attentionBias,
                    slidingWindow);
        }

        public Spec vocab(int v) {
            return new Spec(arch, layers, hidden, inter, heads, kvHeads, headDim, v, tied, attentionBias,
                    slidingWindow);
        }

        Spec headDim(int d) {
            return new Spec(arch, layers, hidden, inter, heads, kvHeads, d, vocab, tied, attentionBias,
                    slidingWindow);
        }

        Spec window(int w) {
            return new Spec(arch, layers, hidden, inter, heads, kvHeads, headDim, vocab, tied, attentionBias, w);
        }

        public Spec size(int layers, int hidden, int inter, int heads, int kvHeads) {
            return new Spec(arch, layers, hidden, inter, heads, kvHeads, headDim, vocab, tied, attentionBias,
                    slidingWindow);
        }

        int hd() {
            return headDim > 0 ? headDim : hidden / heads;
        }
    }

    public static ObjectNode config(Spec s, DType dtype) {
        ObjectNode c = JsonMapper.builder().build().createObjectNode();
        c.putArray("architectures").add(s.arch());
        c.put("model_type", switch (s.arch()) {
            case "Qwen2ForCausalLM" -> "qwen2";
            case "MistralForCausalLM" -> "mistral";
            default -> "llama";
        });
        c.put("hidden_size", s.hidden());
        c.put("intermediate_size", s.inter());
        c.put("num_attention_heads", s.heads());
        c.put("num_key_value_heads", s.kvHeads());
        if (s.headDim() > 0) {
            c.put("head_dim", s.headDim());
        }
        c.put("num_hidden_layers", s.layers());
        c.put("vocab_size", s.vocab());
        c.put("max_position_embeddings", 256);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 500.0); // small theta: positions rotate visibly within a short test sequence
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", s.tied());
        if (s.attentionBias()) {
            c.put("attention_bias", true);
        }
        if (s.slidingWindow() > 0) {
            c.put("sliding_window", s.slidingWindow());
        }
        c.put("torch_dtype", dtype.torchName());
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        return c;
    }

    /** Tensor shapes in HF order, written out here independently of the graph builder's list. */
    public static Map<String, long[]> shapes(Spec s) {
        Map<String, long[]> t = new LinkedHashMap<>();
        long h = s.hidden();
        long q = (long) s.heads() * s.hd();
        long kv = (long) s.kvHeads() * s.hd();
        boolean qkvBias = s.arch().equals("Qwen2ForCausalLM") || s.attentionBias();
        t.put("model.embed_tokens.weight", new long[] {s.vocab(), h});
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "self_attn.q_proj.weight", new long[] {q, h});
            if (qkvBias) {
                t.put(p + "self_attn.q_proj.bias", new long[] {q});
            }
            t.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
            if (qkvBias) {
                t.put(p + "self_attn.k_proj.bias", new long[] {kv});
            }
            t.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
            if (qkvBias) {
                t.put(p + "self_attn.v_proj.bias", new long[] {kv});
            }
            t.put(p + "self_attn.o_proj.weight", new long[] {h, q});
            if (s.attentionBias()) {
                t.put(p + "self_attn.o_proj.bias", new long[] {h});
            }
            t.put(p + "mlp.gate_proj.weight", new long[] {s.inter(), h});
            t.put(p + "mlp.up_proj.weight", new long[] {s.inter(), h});
            t.put(p + "mlp.down_proj.weight", new long[] {h, s.inter()});
            t.put(p + "input_layernorm.weight", new long[] {h});
            t.put(p + "post_attention_layernorm.weight", new long[] {h});
        }
        t.put("model.norm.weight", new long[] {h});
        if (!s.tied()) {
            t.put("lm_head.weight", new long[] {s.vocab(), h});
        }
        return t;
    }

    /** Random weights with sane scale, rounded to {@code dtype} so a folder of that dtype holds exactly these. */
    public static Map<String, float[]> weights(Spec s, long seed, DType dtype) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, float[]> w = new LinkedHashMap<>();
        for (var e : shapes(s).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            float[] v = new float[(int) LlamaModel.numel(shape)];
            double scale;
            double offset = 0;
            if (name.endsWith("norm.weight")) {
                scale = 0.2;
                offset = 1;
            } else if (name.endsWith(".bias")) {
                scale = 0.3;
            } else if (name.equals("model.embed_tokens.weight")) {
                scale = s.tied() ? 2.0 / Math.sqrt(shape[1]) : 1.0; // tied: it is also the lm_head
            } else if (name.equals("lm_head.weight")) {
                scale = 2.0 / Math.sqrt(shape[1]);
            } else {
                scale = 1.0 / Math.sqrt(shape[1]);
            }
            for (int i = 0; i < v.length; i++) {
                v[i] = FloatCodec.roundTo(dtype, (float) (offset + scale * Math.sqrt(3) * (2 * r.nextDouble() - 1)));
            }
            w.put(name, v);
        }
        return w;
    }

    /** Writes an HF folder: config.json and model.safetensors in {@code dtype}. */
    public static Path write(Path dir, Spec s, Map<String, float[]> w, DType dtype) throws IOException {
        return write(dir, config(s, dtype), shapes(s), w, dtype);
    }

    public static Path write(Path dir, ObjectNode config, Map<String, long[]> shapes, Map<String, float[]> w,
            DType dtype) throws IOException {
        Files.createDirectories(dir);
        List<OutTensor> out = new ArrayList<>();
        shapes.forEach((n, shape) -> out.add(new OutTensor(n, dtype, shape)));
        try (ModelWriter mw = ModelWriter.create(dir, out, Long.MAX_VALUE, Map.of("format", "pt"))) {
            for (int i = 0; i < out.size(); i++) {
                float[] v = w.get(out.get(i).name());
                ByteBuffer buf = ByteBuffer.allocateDirect(v.length * dtype.width()).order(ByteOrder.LITTLE_ENDIAN);
                FloatCodec.encode(dtype, v, v.length, MemorySegment.ofBuffer(buf));
                mw.write(i, 0, buf);
            }
            mw.finish();
        }
        Files.writeString(dir.resolve(ModelFolder.CONFIG), SafetensorsFile.jsonPretty(config) + "\n");
        return dir;
    }
}
