package org.mergelab.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.BadInputException;
import org.mergelab.io.ModelFolder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** The runner on tiny models: in memory vs on disk, resume after a partial row, the evaluation cache, norms. */
class SweepRunnerTest {
    static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path dir;
    static SweepFixture f;

    @BeforeAll
    static void models() throws Exception {
        f = SweepFixture.write(dir);
    }

    /** What a run reported: the cells it ran and the notes. */
    record Run(List<String> labels, List<String> notes, SweepRunner.Summary summary) {}

    static Run run(Path spec, Path results, boolean force, boolean materialize, Path keep) throws Exception {
        List<String> labels = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        SweepListener listener = new SweepListener() {
            @Override
            public void cellDone(Cell cell, List<ResultRow> rows) {
                labels.add(cell.label());
            }

            @Override
            public void note(String message) {
                notes.add(message);
            }
        };
        try (SweepPlan plan = SweepPlan.prepare(SpecParser.parse(spec), notes::add)) {
            var options = new SweepRunner.Options(results, force, materialize, keep, 1, 2, 4);
            SweepRunner.Summary s = new SweepRunner(plan, options, listener).run();
            return new Run(labels, notes, s);
        }
    }

    static List<JsonNode> rows(Path results) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(results.resolve(ResultStore.ROWS))) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    static Map<String, JsonNode> byLabelAndSplit(List<JsonNode> rows) {
        Map<String, JsonNode> m = new HashMap<>();
        rows.forEach(r -> assertNull(m.put(r.get("label").asText() + "/" + r.get("split").asText(), r)));
        return m;
    }

    @Test
    void inMemoryCellsEqualMaterializedCells() throws Exception {
        Path spec = f.spec("memory-vs-disk", """
                references: []
                merges:
                  - {method: delerp, base: base, models: [base, chat], parameters: {t: 0.7}}
                  - {method: ties, base: base, models: [chat, math], parameters: {weight: 1, density: 0.5},
                     dtype: float32}
                  - {method: dare_ties, base: base, models: [chat, math], parameters: {weight: 1, density: 0.6},
                     seeds: [5]}
                """);
        run(spec, dir.resolve("memory"), false, false, null);
        Path kept = dir.resolve("kept");
        run(spec, dir.resolve("disk"), false, true, kept);
        Map<String, JsonNode> memory = byLabelAndSplit(rows(dir.resolve("memory")));
        Map<String, JsonNode> disk = byLabelAndSplit(rows(dir.resolve("disk")));
        assertEquals(6, memory.size());
        assertEquals(memory.keySet(), disk.keySet());
        for (String k : memory.keySet()) {
            JsonNode a = memory.get(k);
            JsonNode b = disk.get(k);
            assertEquals(a.get("cell_id"), b.get("cell_id"), k);
            assertEquals(a.at("/provenance/model_identity"), b.at("/provenance/model_identity"), k);
            assertEquals(a.get("tasks"), b.get("tasks"), k + ": the same metrics and items, exactly");
            assertEquals(a.get("norms"), b.get("norms"), k);
        }
        // the kept folders: a complete model each, its config and statistics beside it
        for (JsonNode r : memory.values()) {
            String name = r.get("label").asText().replaceAll("[^A-Za-z0-9._=-]+", "_") + "-" + r.get("cell_id")
                    .asText();
            try (ModelFolder m = ModelFolder.open(kept.resolve(name))) {
                assertTrue(m.tensorCount() > 0);
            }
            assertTrue(Files.isRegularFile(kept.resolve(name + ".stats.csv")), name);
        }
        assertNotEquals(memory.get("delerp t=0.7/val").at("/provenance/model_identity"),
                memory.get("ties weight=1 density=0.5/val").at("/provenance/model_identity"));
    }

    @Test
    void aPartialLastRowIsDroppedAndItsCellRunsOnceMore() throws Exception {
        Path spec = f.spec("resume", "references: [base]\nmerges:\n  - {method: nlerp, base: base, models: [base,"
                + " chat], parameters: {t: [0.25, 0.75]}}\n");
        Path results = dir.resolve("resume-results");
        Run first = run(spec, results, false, false, null);
        assertEquals(List.of("base", "nlerp t=0.25", "nlerp t=0.75"), first.labels());
        Path file = results.resolve(ResultStore.ROWS);
        List<String> lines = Files.readAllLines(file);
        assertEquals(6, lines.size());
        // as if killed while appending the last row: it is half there, without its newline
        String last = lines.getLast();
        StringBuilder cut = new StringBuilder();
        lines.subList(0, 5).forEach(l -> cut.append(l).append('\n'));
        cut.append(last, 0, last.length() / 2);
        Files.writeString(file, cut.toString());

        Run second = run(spec, results, false, false, null);
        assertEquals(List.of("nlerp t=0.75"), second.labels(), "only the cell of the partial row runs");
        assertTrue(second.notes().stream().anyMatch(n -> n.contains("dropped an incomplete last row")),
                second.notes().toString());
        List<JsonNode> rows = rows(results);
        assertEquals(6, rows.size());
        assertEquals(6, byLabelAndSplit(rows).size(), "one row per cell and split");
        assertTrue(Files.readString(file).endsWith("\n"));
        JsonNode rerun = rows.getLast();
        assertEquals("nlerp t=0.75/test", rerun.get("label").asText() + "/" + rerun.get("split").asText());
        assertEquals(4, rerun.at("/timing/cached_tasks").asInt(), "its results were cached before the row was cut");

        Run third = run(spec, results, false, false, null);
        assertEquals(List.of(), third.labels(), "all done: nothing runs");
        assertEquals(3, third.summary().skipped());
        JsonNode manifest = JSON.readTree(results.resolve(ResultStore.MANIFEST).toFile());
        assertEquals(3, manifest.get("cells_planned").asInt());
        assertEquals(3, manifest.get("cells_done").asInt());
        assertEquals(6, manifest.get("rows").asInt());
        assertTrue(manifest.get("finished").isTextual());
        List<String> csv = Files.readAllLines(results.resolve(ResultStore.CSV), StandardCharsets.UTF_8);
        assertEquals(7, csv.size());
        assertTrue(csv.getFirst().startsWith("cell_id,experiment,kind,label,method,model,base,models,"),
                csv.getFirst());
        assertTrue(csv.getFirst().contains("tasks.choice.metrics.acc.value"), csv.getFirst());
        assertTrue(csv.getFirst().contains("norms.max_norm_ratio"), csv.getFirst());

        Run forced = run(spec, results, true, false, null);
        assertEquals(first.labels(), forced.labels(), "--force runs every cell again");
        assertEquals(6, rows(results).size());
        assertTrue(rows(results).stream().allMatch(r -> r.at("/timing/cached_tasks").asInt() == 0),
                "and evaluates again");
        assertEquals(6, Files.readAllLines(results.resolve(ResultStore.PREVIOUS_ROWS)).size());
    }

    @Test
    void lerpAtZeroIsTheBaseAndFindsItsResultsInTheCache() throws Exception {
        Path spec = f.spec("cache", "references: [base]\nmerges:\n  - {method: lerp, base: base, models: [chat],"
                + " parameters: {t: [0, 0.5]}}\n");
        Path results = dir.resolve("cache-results");
        run(spec, results, false, false, null);
        Map<String, JsonNode> rows = byLabelAndSplit(rows(results));
        for (String split : List.of("val", "test")) {
            JsonNode base = rows.get("base/" + split);
            JsonNode zero = rows.get("lerp t=0/" + split);
            JsonNode half = rows.get("lerp t=0.5/" + split);
            assertEquals(base.at("/provenance/model_identity"), zero.at("/provenance/model_identity"));
            assertEquals(4, zero.at("/timing/cached_tasks").asInt(), "every task from the base's results");
            assertEquals(base.get("tasks"), zero.get("tasks"));
            assertEquals(0, base.at("/timing/cached_tasks").asInt());
            assertEquals(0, half.at("/timing/cached_tasks").asInt());
            assertNotEquals(base.at("/provenance/model_identity"), half.at("/provenance/model_identity"));
            assertEquals(1.0, zero.at("/norms/norm_ratio").asDouble(), 1e-12);
            assertEquals(0.0, zero.at("/norms/rel_dist_to_base").asDouble(), 1e-12);
            assertEquals(1.0, zero.at("/norms/cos_to_base").asDouble(), 1e-9);
            assertEquals(1.0, zero.at("/norms/interpolation_ratio").asDouble(), 1e-9);
            // LERP's norm dip between two different models
            assertTrue(half.at("/norms/interpolation_ratio").asDouble() < 0.999, half.get("norms").toString());
            assertTrue(base.get("norms").isNull());
            assertEquals("{}", base.get("params").toString());
            assertEquals(0.5, half.at("/params/t").asDouble());
        }
    }

    @Test
    void normsFollowEachMethod() throws Exception {
        Path spec = f.spec("norms", """
                references: []
                merges:
                  - {method: delerp, base: base, models: [base, chat], parameters: {t: 0.5}}
                  - {method: ties, base: base, models: [chat, math], parameters: {weight: 1, density: 0.25}}
                  - {method: linear, models: [chat, math], parameters: {weight: 1}}
                """);
        Path results = dir.resolve("norms-results");
        run(spec, results, false, false, null);
        Map<String, JsonNode> rows = byLabelAndSplit(rows(results));
        JsonNode delerp = rows.get("delerp t=0.5/val").get("norms");
        assertEquals(1.0, delerp.get("max_norm_ratio").asDouble(), 1e-3, "DeLERP keeps the larger norm (bf16 aside)");
        assertTrue(delerp.get("pruned_fraction").isNull());
        assertEquals(3, delerp.get("layers").size(), "layer -1, 0 and 1");
        assertEquals(-1, delerp.at("/layers/0/layer").asInt());
        JsonNode ties = rows.get("ties weight=1 density=0.25/val").get("norms");
        assertEquals(0.75, ties.get("pruned_fraction").asDouble(), 0.02);
        assertTrue(ties.get("sign_agreement").asDouble() > 0 && ties.get("sign_agreement").asDouble() < 1);
        assertTrue(ties.get("interpolation_ratio").isNull(), "not an interpolation");
        JsonNode linear = rows.get("linear weight=1/val").get("norms");
        assertTrue(linear.get("rel_dist_to_base").asDouble() > 0, "measured against the first model");
        assertTrue(linear.get("cos_to_base").asDouble() < 1);
    }

    @Test
    void storedRowsMadeWithOtherTasksAreAnError() throws Exception {
        SweepFixture g = SweepFixture.write(dir.resolve("changing"));
        Path spec = g.spec("changing", "references: [base]\n");
        Path results = dir.resolve("changing-results");
        run(spec, results, false, false, null);
        Files.writeString(g.tasks().resolve("val/qa.jsonl"), "{\"q\": \"1+1\", \"answer\": \"2\"}\n");
        BadInputException e = assertThrows(BadInputException.class, () -> run(spec, results, false, false, null));
        assertEquals(results.resolve(ResultStore.ROWS) + ": the row of cell 'base' on split val was made with other"
                + " tasks (task 'qa' has changed); rerun with --force, or choose another --results folder",
                e.getMessage());
        assertEquals(List.of("base"), run(spec, results, true, false, null).labels());
    }
}
