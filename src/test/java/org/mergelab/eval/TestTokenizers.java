package org.mergelab.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.mergelab.io.SafetensorsFile;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Hand-made tokenizer.json files for tests. */
final class TestTokenizers {
    private TestTokenizers() {}

    static final String LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
            + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /**
     * A byte-level BPE in the Llama 3 layout: Split by Llama 3's regex, then ByteLevel without its own regex; ids
     * 0..255 are the bytes (GPT-2's bytes_to_unicode symbols), merges {@code Ġ t, h e, Ġt he, l l, he ll, hell o}
     * make ids 256..261, {@code <|begin_of_text|>} = 262 and {@code <|end_of_text|>} = 263 are special. The
     * post-processor would prepend BOS; the harness encodes without it.
     */
    static ObjectNode byteLevelBpe() {
        JsonMapper m = JsonMapper.builder().build();
        ObjectNode root = m.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        special(added, 262, "<|begin_of_text|>");
        special(added, 263, "<|end_of_text|>");
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode seq = pre.putArray("pretokenizers");
        ObjectNode split = seq.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", LLAMA3_SPLIT);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        ObjectNode bl = seq.addObject();
        bl.put("type", "ByteLevel");
        bl.put("add_prefix_space", false);
        bl.put("trim_offsets", true);
        bl.put("use_regex", false);
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<|begin_of_text|>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        post.putArray("pair");
        ObjectNode st = post.putObject("special_tokens").putObject("<|begin_of_text|>");
        st.put("id", "<|begin_of_text|>");
        st.putArray("ids").add(262);
        st.putArray("tokens").add("<|begin_of_text|>");
        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "ByteLevel");
        dec.put("add_prefix_space", true);
        dec.put("trim_offsets", true);
        dec.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        String[] sym = bytesToUnicode();
        for (int b = 0; b < 256; b++) {
            vocab.put(sym[b], b);
        }
        String[][] merges = {{"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}};
        ArrayNode ml = model.putArray("merges");
        int id = 256;
        for (String[] mg : merges) {
            vocab.put(mg[0] + mg[1], id++);
            ml.add(mg[0] + " " + mg[1]);
        }
        return root;
    }

    private static void special(ArrayNode added, int id, String content) {
        ObjectNode t = added.addObject();
        t.put("id", id);
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
    }

    /** GPT-2's byte → printable symbol map. */
    static String[] bytesToUnicode() {
        List<Integer> bs = new ArrayList<>();
        for (int c = '!'; c <= '~'; c++) {
            bs.add(c);
        }
        for (int c = 0xA1; c <= 0xAC; c++) {
            bs.add(c);
        }
        for (int c = 0xAE; c <= 0xFF; c++) {
            bs.add(c);
        }
        String[] out = new String[256];
        for (int b : bs) {
            out[b] = new String(Character.toChars(b));
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (out[b] == null) {
                out[b] = new String(Character.toChars(256 + n++));
            }
        }
        return out;
    }

    static void write(Path dir, ObjectNode tokenizer) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("tokenizer.json"), SafetensorsFile.jsonPretty(tokenizer));
    }
}
