package org.mergelab.zoo.train;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.mergelab.BadInputException;
import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.io.ModelWriter;
import org.mergelab.io.OutTensor;
import org.mergelab.io.OutputFolder;
import org.mergelab.io.SafetensorsFile;
import org.mergelab.zoo.CharTokenizer;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A model of the family as an HF folder: config.json, {@code model.safetensors} in bf16, and the character
 * tokenizer (tokenizer.json, tokenizer_config.json, generation_config.json).
 */
public final class Checkpoint {
    private Checkpoint() {}

    /** A model read from a folder: its shape and float32 weights by HF name. */
    public record Loaded(ModelShape shape, Map<String, float[]> weights) {}

    /**
     * Writes the folder atomically (a temporary folder renamed when complete). {@code extraConfig} entries are added
     * to config.json (e.g. how the model was trained; null for none) and may not replace an architecture key.
     *
     * @param overwrite replace an existing non-empty {@code dir}
     */
    public static void write(Path dir, ModelShape shape, Map<String, float[]> weights, ObjectNode extraConfig,
            boolean overwrite) throws IOException {
        if (shape.vocab() != CharTokenizer.VOCAB_SIZE) {
            throw new IllegalArgumentException("vocab " + shape.vocab() + ": an exported model carries the character"
                    + " tokenizer of " + CharTokenizer.VOCAB_SIZE + " tokens");
        }
        ObjectNode config = shape.config();
        ObjectNode extra = extraConfig == null ? config.objectNode() : extraConfig;
        extra.properties().forEach(e -> {
            if (config.has(e.getKey())) {
                throw new IllegalArgumentException("extra config key '" + e.getKey() + "' would replace the model's");
            }
            config.set(e.getKey(), e.getValue().deepCopy());
        });
        OutputFolder out = OutputFolder.begin(dir, overwrite, note -> {});
        try {
            writeWeights(out.dir(), shape, weights);
            Files.writeString(out.dir().resolve(ModelFolder.CONFIG), SafetensorsFile.jsonPretty(config) + "\n");
            CharTokenizer.write(out.dir());
            writeJson(out.dir().resolve("tokenizer_config.json"), tokenizerConfig(shape));
            writeJson(out.dir().resolve("generation_config.json"), generationConfig());
            out.commit();
        } catch (IOException | RuntimeException e) {
            out.discard();
            throw e;
        }
    }

    private static void writeWeights(Path dir, ModelShape shape, Map<String, float[]> weights) throws IOException {
        List<OutTensor> tensors = new ArrayList<>();
        shape.tensors().forEach((name, dims) -> tensors.add(new OutTensor(name, DType.BF16, dims)));
        try (ModelWriter w = ModelWriter.create(dir, tensors, Long.MAX_VALUE, Map.of("format", "pt"))) {
            for (int i = 0; i < tensors.size(); i++) {
                OutTensor t = tensors.get(i);
                float[] values = weights.get(t.name());
                if (values == null || values.length != t.numel()) {
                    throw new IllegalArgumentException("tensor " + t.name() + " has "
                            + (values == null ? "no values" : values.length + " values") + "; expected " + t.numel());
                }
                ByteBuffer buf = ByteBuffer.allocateDirect((int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
                FloatCodec.encode(DType.BF16, values, values.length, MemorySegment.ofBuffer(buf));
                w.write(i, 0, buf);
            }
            w.finish();
        }
    }

    /** The shape and weights of a folder this family wrote (any float dtype; sharded or not). */
    public static Loaded read(Path dir) throws IOException {
        try (ModelFolder folder = ModelFolder.open(dir)) {
            ModelShape shape = ModelShape.of(folder.config(), dir.resolve(ModelFolder.CONFIG));
            Map<String, float[]> weights = new LinkedHashMap<>();
            for (var e : shape.tensors().entrySet()) {
                ModelTensor t = folder.tensor(e.getKey());
                if (t == null) {
                    throw new BadInputException(dir + ": missing tensor '" + e.getKey() + "' required by config.json");
                }
                if (!Arrays.equals(t.info().shape(), e.getValue()) || !t.dtype().isFloat()) {
                    throw new BadInputException(dir + ": tensor '" + e.getKey() + "' is " + t.dtype() + " "
                            + t.info().shapeString() + "; config.json implies a float tensor of "
                            + Arrays.toString(e.getValue()));
                }
                float[] values = new float[(int) t.info().numel()];
                FloatCodec.decode(t.dtype(), t.data(), 0, values, values.length);
                weights.put(e.getKey(), values);
            }
            return new Loaded(shape, weights);
        }
    }

    private static ObjectNode tokenizerConfig(ModelShape shape) {
        ObjectNode c = JsonMapper.builder().build().createObjectNode();
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        c.put("bos_token", "<s>");
        c.put("eos_token", "</s>");
        c.put("pad_token", "<pad>");
        c.put("unk_token", "<unk>");
        c.put("model_max_length", shape.context());
        c.put("clean_up_tokenization_spaces", false);
        return c;
    }

    private static ObjectNode generationConfig() {
        ObjectNode c = JsonMapper.builder().build().createObjectNode();
        c.put("bos_token_id", CharTokenizer.BOS);
        c.put("eos_token_id", CharTokenizer.EOS);
        c.put("pad_token_id", CharTokenizer.PAD);
        return c;
    }

    private static void writeJson(Path file, ObjectNode node) throws IOException {
        Files.writeString(file, SafetensorsFile.jsonPretty(node) + "\n");
    }
}
