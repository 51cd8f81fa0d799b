package org.mergelab.zoo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.mergelab.io.SafetensorsFile;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The in-house family's character-level vocabulary and its HF {@code tokenizer.json}:
 *
 * <pre>
 * 0 &lt;pad&gt;   1 &lt;s&gt; (BOS)   2 &lt;/s&gt; (EOS)   3 &lt;unk&gt;   4 '\n'
 * 5..99 ' '..'~' (printable ASCII, id = c − 27)
 * </pre>
 *
 * Written as a BPE model with no merges and no pre-tokenizer (every character is one token; any other character
 * becomes &lt;unk&gt;), and a Fuse decoder: without one, decoding joins the characters with spaces.
 */
public final class CharTokenizer {
    public static final int PAD = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;
    public static final int UNK = 3;
    public static final int NEWLINE = 4;
    public static final int VOCAB_SIZE = 100;

    private CharTokenizer() {}

    /** The id of a character, or {@link #UNK}. */
    public static int id(char c) {
        if (c == '\n') {
            return NEWLINE;
        }
        return c >= ' ' && c <= '~' ? c - ' ' + 5 : UNK;
    }

    /** The tokenizer.json document. */
    public static ObjectNode json() {
        JsonMapper m = JsonMapper.builder().build();
        ObjectNode root = m.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {"<pad>", "<s>", "</s>", "<unk>"};
        for (int i = 0; i < specials.length; i++) {
            ObjectNode t = added.addObject();
            t.put("id", i);
            t.put("content", specials[i]);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "Fuse");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < specials.length; i++) {
            vocab.put(specials[i], i);
        }
        vocab.put("\n", NEWLINE);
        for (char c = ' '; c <= '~'; c++) {
            vocab.put(String.valueOf(c), id(c));
        }
        model.putArray("merges");
        return root;
    }

    /** Writes {@code dir/tokenizer.json}. */
    public static void write(Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), SafetensorsFile.jsonPretty(json()) + "\n");
    }
}
