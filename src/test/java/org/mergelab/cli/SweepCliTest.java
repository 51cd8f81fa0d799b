package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.experiment.SweepFixture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** {@code mergelab sweep} end to end on tiny models built here, its dry run, and its one-line errors. */
class SweepCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path dir;
    static SweepFixture f;

    @BeforeAll
    static void models() throws Exception {
        f = SweepFixture.write(dir);
    }

    @Test
    void sweepStoresOneRowPerCellAndSplitAndSkipsThemNextTime() throws Exception {
        Path spec = f.spec("e2e", "name: e2e\nreferences: [base, chat]\nmerges:\n  - method: delerp\n    base: base\n"
                + "    models: [base, chat]\n    parameters: {t: [0.5, 0.999]}\n");
        Path results = dir.resolve("e2e-results");
        Path report = dir.resolve("e2e-report");
        CliRun r = CliRun.of("sweep", spec, "--results", results, "--threads", 2, "--jobs", 2, "--report", report);
        assertEquals(0, r.code(), r.err());
        List<String> out = r.out().lines().toList();
        assertEquals(6, out.size(), r.out());
        assertTrue(out.getLast().matches("report: " + java.util.regex.Pattern.quote(report.resolve("report.md")
                .toString()) + " \\(\\d+ files\\)"), out.getLast());
        assertTrue(Files.readString(report.resolve("report.md")).contains("delerp t=0.999"));
        out = out.subList(0, 5);
        assertTrue(out.stream().anyMatch(l -> l.matches("\\[\\d/4] delerp t=0\\.999  val: choice acc=\\d\\.\\d{4}"
                + " qa exact_match=\\d\\.\\d{4} refuse refusal_rate=\\d\\.\\d{4}"
                + " text bits_per_byte=\\d+\\.\\d{4}  test: .*"
                + "\\(merge \\d+\\.\\d\\d s, eval \\d+\\.\\d\\d s\\)")), r.out());
        assertTrue(out.getLast().matches("sweep e2e: 4 cells \\(4 run, 0 already done\\), 8 rows in \\d+\\.\\d s;"
                + " results in " + results), out.getLast());
        assertEquals("", r.err(), "nothing on stderr: no bar without a terminal");
        List<String> lines = Files.readAllLines(results.resolve("results.jsonl"));
        assertEquals(8, lines.size());
        JsonNode row = JSON.readTree(lines.stream().filter(l -> l.contains("\"delerp t=0.999\"")).findFirst()
                .orElseThrow());
        for (String key : List.of("cell_id", "experiment", "kind", "label", "method", "model", "base", "models",
                "params", "seed", "split", "tasks", "norms", "timing", "provenance")) {
            assertTrue(row.has(key), key);
        }
        assertEquals("merge", row.get("kind").asText());
        assertEquals("[\"base\",\"chat\"]", row.get("models").toString());
        assertEquals(0.999, row.at("/params/t").asDouble());
        assertEquals(List.of("choice", "qa", "refuse", "text"), row.get("tasks").propertyStream().map(e -> e.getKey())
                .toList(), "task files in name order");
        JsonNode text = row.at("/tasks/text");
        assertEquals("bits_per_byte", text.get("primary").asText());
        assertEquals(2, text.get("items").size());
        assertEquals(2, text.get("weights").size());
        assertFalse(row.at("/tasks/qa").has("weights"), "weights only for a weighted mean");
        assertTrue(row.at("/timing/peak_rss_mb").asLong() > 0);
        assertTrue(row.at("/provenance/model_hashes/chat").asText().startsWith("sha256:"));
        assertTrue(row.at("/provenance/created").asText().matches("\\d{4}-\\d\\d-\\d\\dT.*Z"));
        assertEquals(9, Files.readAllLines(results.resolve("results.csv")).size());
        JsonNode manifest = JSON.readTree(results.resolve("manifest.json").toFile());
        assertEquals(4, manifest.get("cells_done").asInt());
        assertEquals(spec.toString(), manifest.get("spec").asText());

        CliRun again = CliRun.of("sweep", spec, "--results", results, "--resume", "--quiet", "--no-report");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().strip().matches("sweep e2e: 4 cells \\(0 run, 4 already done\\), 8 rows in .*"),
                again.out());
        assertEquals(8, Files.readAllLines(results.resolve("results.jsonl")).size());
    }

    @Test
    void dryRunListsCellsAndWritesNothing() throws Exception {
        Path spec = f.spec("dry", "references: [math]\nmerges:\n  - {method: lerp, base: base, models: [chat],"
                + " parameters: {t: {from: 0, to: 1, step: 0.5}}}\n");
        Path results = dir.resolve("dry-results");
        CliRun r = CliRun.of("sweep", spec, "--results", results, "--dry-run");
        assertEquals(0, r.code(), r.err());
        List<String> out = r.out().lines().toList();
        assertEquals(5, out.size(), r.out());
        assertTrue(out.get(0).matches("[0-9a-f]{16}  to run  math"), out.get(0));
        assertTrue(out.get(3).endsWith("lerp t=1"), out.get(3));
        assertEquals("dry run of dry: 4 cells (4 to run) on splits [val, test]; results would go to " + results,
                out.get(4));
        assertFalse(Files.exists(results));
    }

    @Test
    void materializeKeepsTheMergedModels() throws Exception {
        Path spec = f.spec("keep", "references: []\nmerges:\n  - {method: slerp, base: base, models: [base, math],"
                + " parameters: {t: 0.5}}\n");
        Path kept = dir.resolve("kept-models");
        CliRun r = CliRun.of("sweep", spec, "--results", dir.resolve("keep-results"), "--materialize", kept,
                "--quiet", "--no-report");
        assertEquals(0, r.code(), r.err());
        try (var s = Files.list(kept)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(2, names.size(), names.toString());
            assertTrue(names.get(0).matches("slerp_t=0\\.5-[0-9a-f]{16}"), names.toString());
            assertTrue(Files.isRegularFile(kept.resolve(names.get(0)).resolve("mergelab_config.yml")));
            assertEquals(names.get(0) + ".stats.csv", names.get(1));
        }
    }

    @Test
    void badSpecsAreOneLineExitTwoAndWriteNothing() throws Exception {
        Path results = dir.resolve("never");
        String merge = "merges:\n  - {method: delerp, base: base, models: [base, chat], parameters: {t: 0.5}}\n";
        Path missing = dir.resolve("missing.yaml");
        Files.writeString(missing, f.header().replace(f.math().toString(), dir.resolve("nowhere").toString()) + merge);
        expectBad(missing + ": models.math: model folder " + dir.resolve("nowhere") + " not found", missing, results);

        Path unknownTask = f.spec("unknown-task", "references: [base]\n").resolveSibling("unknown-task.yaml");
        Files.writeString(unknownTask, f.header() + "  names: [qa, trivia]\nreferences: [base]\n");
        expectBad(unknownTask + ": tasks.names: no task 'trivia' in " + f.tasks().resolve("val")
                + " (it has [choice, qa, refuse, text])", unknownTask, results);

        Path split = f.spec("bad-split", "references: [base]\n");
        Files.writeString(split, f.header() + "  splits: [val, holdout]\nreferences: [base]\n");
        expectBad(split + ": tasks.splits: split 'holdout' has no folder " + f.tasks().resolve("holdout"), split,
                results);

        Path method = f.spec("bad-method", "merges:\n  - {method: slurp, base: base, models: [base, chat]}\n");
        expectBad(method + ": merges[0].method: unknown method 'slurp'; expected one of linear, slerp", method,
                results);

        Path models = f.spec("bad-models", "merges:\n  - {method: delerp, base: base, models: [base, chat, math],"
                + " parameters: {t: 0.5}}\n");
        expectBad(models + ": merges[0]: delerp", models, results);

        Path value = f.spec("bad-value", "merges:\n  - {method: ties, base: base, models: [chat], parameters:"
                + " {weight: 1, density: [0.5, 1.5]}}\n");
        expectBad(value + ": merges[0]: ", value, results);

        Path tokenizer = f.spec("no-tokenizer", "tokenizer: " + dir.resolve("nowhere") + "\nreferences: [base]\n");
        expectBad(tokenizer + ": tokenizer: " + dir.resolve("nowhere") + " has no tokenizer.json", tokenizer, results);

        CliRun r = CliRun.of("sweep", dir.resolve("absent.yaml"));
        assertEquals(2, r.code());
        assertEquals("mergelab: " + dir.resolve("absent.yaml") + ": config file not found\n", r.err());
    }

    private static void expectBad(String start, Path spec, Path results) {
        CliRun r = CliRun.of("sweep", spec, "--results", results);
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("mergelab: " + start), r.err());
        assertEquals("", r.out());
        assertFalse(Files.exists(results), "nothing written");
    }
}
