package org.mergelab.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.mergelab.BadInputException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

/**
 * A model's HF {@code tokenizer.json} (byte-level BPE as in Llama 3 and Qwen2, character-level with a Fuse decoder,
 * anything the HF tokenizers library reads), through DJL's binding, plus its BOS and EOS ids.
 *
 * <p>Built with truncation and padding off ({@code newInstance(path)} silently truncates to 512 tokens and batch
 * encoding pads) and without the post-processor's special tokens: callers add BOS themselves, so a prompt and its
 * continuation can be encoded separately and joined.
 */
public final class TextTokenizer implements AutoCloseable {
    static {
        // DJL logs the native library's extraction at INFO and a CUDA probe failure at WARN: noise on a CLI's stderr
        if (System.getProperty("org.slf4j.simpleLogger.log.ai.djl") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.ai.djl", "error");
        }
    }

    private final HuggingFaceTokenizer hf;
    private final long bos;
    private final Set<Long> eos;

    private TextTokenizer(HuggingFaceTokenizer hf, long bos, Set<Long> eos) {
        this.hf = hf;
        this.bos = bos;
        this.eos = Set.copyOf(eos);
    }

    /**
     * The tokenizer of a model folder: tokenizer.json, with BOS/EOS from config.json, generation_config.json or
     * tokenizer_config.json.
     */
    public static TextTokenizer load(Path modelDir) throws IOException {
        Path file = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(file + ": missing; text needs the model's tokenizer.json");
        }
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.builder().optTokenizerPath(file).optAddSpecialTokens(false)
                    .optTruncation(false).optPadding(false).build();
        } catch (RuntimeException e) {
            throw new BadInputException(file + ": not a tokenizer the HF tokenizers library reads: " + e.getMessage(),
                    e);
        }
        try {
            JsonNode config = readJson(modelDir.resolve("config.json"));
            JsonNode gen = readJson(modelDir.resolve("generation_config.json"));
            JsonNode tok = readJson(modelDir.resolve("tokenizer_config.json"));
            long bos = firstId(config.get("bos_token_id"));
            if (bos < 0) {
                bos = firstId(gen.get("bos_token_id"));
            }
            if (bos < 0) {
                bos = idOf(hf, tok.get("bos_token"));
            }
            Set<Long> eos = new LinkedHashSet<>();
            addIds(eos, config.get("eos_token_id"));
            addIds(eos, gen.get("eos_token_id"));
            if (eos.isEmpty() && idOf(hf, tok.get("eos_token")) >= 0) {
                eos.add(idOf(hf, tok.get("eos_token")));
            }
            return new TextTokenizer(hf, bos, eos);
        } catch (IOException | RuntimeException e) {
            hf.close();
            throw e;
        }
    }

    /** Token ids of {@code text}, no special tokens added. */
    public long[] encode(String text) {
        return hf.encode(text, false, false).getIds();
    }

    /** Token ids of {@code text} after the BOS token, as evaluation feeds a sequence (no BOS if the model has none). */
    public long[] encodeAfterBos(String text) {
        return EvalContext.concat(bos, encode(text));
    }

    /** Text of {@code ids}, special tokens (BOS, EOS, padding) left out. */
    public String decode(long[] ids) {
        return hf.decode(ids, true);
    }

    /** The BOS id, or -1 when the model has none. */
    public long bos() {
        return bos;
    }

    /** Ids that end a generation (may be empty). */
    public Set<Long> eos() {
        return eos;
    }

    @Override
    public void close() {
        hf.close();
    }

    private static JsonNode readJson(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            return JsonMapper.builder().build().createObjectNode();
        }
        try {
            return JsonMapper.builder().build().readTree(p.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadInputException(p + ": not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static long firstId(JsonNode n) {
        if (n == null || n.isNull()) {
            return -1;
        }
        if (n.isArray()) {
            return n.isEmpty() ? -1 : n.get(0).asLong(-1);
        }
        return n.canConvertToLong() ? n.longValue() : -1;
    }

    private static void addIds(Set<Long> into, JsonNode n) {
        if (n == null || n.isNull()) {
            return;
        }
        for (JsonNode v : n.isArray() ? n : List.of(n)) {
            if (v.canConvertToLong()) {
                into.add(v.longValue());
            }
        }
    }

    /** The id of a tokenizer_config.json special-token entry ("&lt;s&gt;" or {"content": "&lt;s&gt;"}); -1 if none. */
    private static long idOf(HuggingFaceTokenizer hf, JsonNode entry) {
        if (entry == null || entry.isNull()) {
            return -1;
        }
        String content = entry.isObject() ? entry.path("content").asText("") : entry.asText("");
        if (content.isEmpty()) {
            return -1;
        }
        long[] ids = hf.encode(content, false, false).getIds();
        return ids.length == 1 ? ids[0] : -1;
    }
}
