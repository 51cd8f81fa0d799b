package org.mergelab.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.BadInputException;
import org.mergelab.zoo.CharTokenizer;

/** Known encodings of both tokenizer kinds, no truncation, no implicit BOS, BOS/EOS from the model files. */
class TextTokenizerTest {
    @TempDir
    Path dir;

    @Test
    void byteLevelBpeKnownEncodings() throws Exception {
        TestTokenizers.write(dir, TestTokenizers.byteLevelBpe());
        Files.writeString(dir.resolve("config.json"), "{\"bos_token_id\": 262, \"eos_token_id\": [263, 10]}");
        try (TextTokenizer t = TextTokenizer.load(dir)) {
            // "hello" merges fully, " the" is Ġthe, " world" stays bytes; no BOS although the post-processor has one
            assertArrayEquals(new long[] {261, 258, 32, 119, 111, 114, 108, 100}, t.encode("hello the world"));
            assertArrayEquals(new long[] {261, 263, 116, 257}, t.encode("hello<|end_of_text|>the"));
            String text = "héllo  日本\n\ttab 12345";
            long[] ids = t.encode(text);
            // h, é as two bytes, ll, o
            assertArrayEquals(new long[] {104, 195, 169, 259, 111}, java.util.Arrays.copyOf(ids, 5));
            assertEquals(text, t.decode(ids));
            assertEquals("hello the", t.decode(new long[] {262, 261, 258, 263})); // specials left out
            assertEquals(262, t.bos());
            assertEquals(Set.of(263L, 10L), t.eos());
            String longText = "hello" + " the".repeat(1999); // one token per word
            assertEquals(2000, t.encode(longText).length, "no truncation at 512");
        }
    }

    @Test
    void characterLevelKnownEncodings() throws Exception {
        CharTokenizer.write(dir);
        try (TextTokenizer t = TextTokenizer.load(dir)) {
            assertArrayEquals(new long[] {45, 78, 17, 5, 94, 84, 90, 6, 4}, t.encode("Hi, you!\n"));
            assertEquals("Hi, you!\n", t.decode(t.encode("Hi, you!\n")));
            assertArrayEquals(new long[] {CharTokenizer.UNK}, t.encode("é"));
            assertArrayEquals(new long[] {CharTokenizer.BOS, 42}, t.encode("<s>E"));
            assertEquals("Q: 2+2?\nA: 4", t.decode(new long[] {1, 54, 31, 5, 23, 16, 23, 36, 4, 38, 31, 5, 25, 2}));
            String longText = "x".repeat(5000);
            assertEquals(5000, t.encode(longText).length);
            for (char c = ' '; c <= '~'; c++) {
                assertArrayEquals(new long[] {CharTokenizer.id(c)}, t.encode(String.valueOf(c)), "char " + c);
            }
            // no config: no BOS, no EOS (unless tokenizer_config.json names them)
            assertEquals(-1, t.bos());
            assertEquals(Set.of(), t.eos());
        }
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": \"<s>\", \"eos_token\": {\"content\": \"</s>\"}}");
        try (TextTokenizer t = TextTokenizer.load(dir)) {
            assertEquals(CharTokenizer.BOS, t.bos());
            assertEquals(Set.of((long) CharTokenizer.EOS), t.eos());
        }
    }

    @Test
    void missingTokenizerIsBadInput() {
        var e = assertThrows(BadInputException.class, () -> TextTokenizer.load(dir));
        assertEquals(dir.resolve("tokenizer.json") + ": missing; text needs the model's tokenizer.json",
                e.getMessage());
    }
}
