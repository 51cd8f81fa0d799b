package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.eval.TinyModels;
import org.mergelab.io.DType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** {@code mergelab bench eval} on a tiny model: every row of the report, plausible numbers, one-line errors. */
class BenchEvalCliTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void model() throws Exception {
        TinyModels.Spec spec = TinyModels.Spec.llama().gqa();
        model = TinyModels.write(dir.resolve("tiny"), spec, TinyModels.weights(spec, 5, DType.BF16), DType.BF16);
    }

    @Test
    void reportHasEveryRowWithPositiveNumbers() throws Exception {
        Path report = dir.resolve("out/eval.md");
        CliRun r = CliRun.of("bench", "eval", "--model", model, "--batches", "1,2", "--seqs", "8,16", "--gen-tokens",
                "4,8", "--threads", "1,2", "--reps", 1, "--report", report);
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err(), "progress goes to stderr only with --verbose");
        String md = Files.readString(report);
        assertEquals(md.strip(), r.out().strip(), "the table printed is the table written");
        assertTrue(md.contains("--model " + model + " --batches 1,2 --seqs 8,16 --gen-tokens 4,8 --threads 1,2 "
                + "--reps 1"), md);
        assertTrue(md.contains("LlamaForCausalLM, 2 layers, hidden 32"), md);
        assertTrue(md.contains("ONNX Runtime 1."), md);

        // scoring: batch | seq | tokens/s at 1 and 2 threads | ratio
        for (int batch : new int[] {1, 2}) {
            for (int seq : new int[] {8, 16}) {
                List<Double> v = numbers(row(md, "| " + batch + " | " + seq + " | "));
                assertEquals(5, v.size(), "scoring row " + batch + "x" + seq);
                v.forEach(x -> assertTrue(x > 0 && Double.isFinite(x), "scoring " + v));
            }
        }
        // generation: batch | new | threads | no cache | cache | speed-up
        for (int batch : new int[] {1, 2}) {
            for (int n : new int[] {4, 8}) {
                for (int threads : new int[] {1, 2}) {
                    List<Double> v = numbers(row(md, "| " + batch + " | " + n + " | " + threads + " | "));
                    assertEquals(6, v.size(), "generation row " + batch + "x" + n + "@" + threads);
                    v.forEach(x -> assertTrue(x > 0 && Double.isFinite(x), "generation " + v));
                }
            }
        }
        // sessions: variant | source | ms at 1 and 2 threads | ratio
        for (String variant : List.of("LOGITS", "DECODER")) {
            for (String source : List.of("memory", "folder")) {
                List<Double> v = numbers(row(md, "| " + variant + " | " + source + " |"));
                assertEquals(3, v.size(), "session row " + variant + " " + source);
                v.forEach(x -> assertTrue(x > 0 && x < 60_000, "session ms " + v));
            }
        }
        assertTrue(md.matches("(?s).*takes [0-9.]+ ms \\(LOGITS\\), [0-9.]+ ms \\(DECODER\\).*"), md);
        assertTrue(md.contains("- Scoring: best "), md);
        assertTrue(md.contains("- 2 threads ÷ 1 thread"), md);
    }

    @Test
    void jsonAndVerboseProgress() throws Exception {
        CliRun r = CliRun.of("bench", "eval", "--model", model, "--batches", "2", "--seqs", "8", "--gen-tokens", "4",
                "--threads", "1", "--reps", 2, "--report", dir.resolve("json.md"), "--json", "--verbose");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("mergelab: repetition 2 of 2"), r.err());
        JsonNode j = JsonMapper.builder().build().readTree(r.out());
        assertEquals(2, j.get("reps").asInt());
        assertEquals(32, j.get("model").get("hidden").asInt());
        JsonNode score = j.get("scoring").get(0);
        assertEquals(8, score.get("seq").asInt());
        assertEquals(2, score.get("tokensPerSecond").get("samples").size());
        assertTrue(score.get("tokensPerSecond").get("median").asDouble() > 0);
        JsonNode gen = j.get("generation").get(0);
        assertTrue(gen.get("cached").get("median").asDouble() > 0);
        assertTrue(gen.get("uncached").get("median").asDouble() > 0);
        assertEquals(4, j.get("sessions").size());
        assertEquals(2, j.get("graphs").size());
    }

    @Test
    void badInputIsOneLineAndExit2() {
        assertOneLine(CliRun.of("bench", "eval", "--model", dir.resolve("nope")), "nope");
        assertOneLine(CliRun.of("bench", "eval", "--model", model, "--threads", "0"), "--threads must be >= 1");
        assertOneLine(CliRun.of("bench", "eval", "--model", model, "--threads", "two"), "--threads");
        assertOneLine(CliRun.of("bench", "eval", "--model", model, "--batches", "1,-4"), "--batches must be >= 1");
        assertOneLine(CliRun.of("bench", "eval", "--model", model, "--size", "1M"), "--size applies to 'bench merge'");
        assertOneLine(CliRun.of("bench", "eval", "--model", model, "--dir", dir), "--dir applies to 'bench merge'");
        assertOneLine(CliRun.of("bench", "merge", "--seqs", "8"), "--seqs applies to 'bench eval'");
        assertOneLine(CliRun.of("bench", "merge", "--threads", "1,2"), "one --threads count");
        assertOneLine(CliRun.of("bench", "eval", "--model", model, "--seqs", "300"), "max_position_embeddings 256");
        assertOneLine(CliRun.of("bench", "infer"), "expected: merge or eval");
    }

    private static void assertOneLine(CliRun r, String expected) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertEquals("", r.out());
    }

    private static String row(String md, String prefix) {
        return md.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + prefix + " in\n" + md));
    }

    private static List<Double> numbers(String row) {
        List<Double> out = new ArrayList<>();
        String[] cells = row.split("\\|");
        Matcher m;
        for (String c : cells) {
            m = Pattern.compile("^\\s*×?([0-9][0-9,]*(?:\\.[0-9]+)?)\\s*$").matcher(c);
            if (m.matches()) {
                out.add(Double.parseDouble(m.group(1).replace(",", "")));
            }
        }
        return out;
    }
}
