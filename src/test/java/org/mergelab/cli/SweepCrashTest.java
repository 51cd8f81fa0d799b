package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.experiment.SweepFixture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * {@code kill -9} of a real sweep process at random moments, several times: each rerun resumes, and the last one
 * leaves exactly one row per cell and split.
 */
class SweepCrashTest {
    @Test
    void killedSweepsResumeToExactlyOneRowPerCellAndSplit(@TempDir Path dir) throws Exception {
        SweepFixture f = SweepFixture.write(dir);
        Path spec = f.spec("crash", "references: [base, chat]\nmerges:\n  - {method: nlerp, base: base, models:"
                + " [base, chat], parameters: {t: {from: 0.02, to: 0.98, step: 0.02}}}\n");
        int cellCount = 2 + 49; // two references and t = 0.02 ... 0.98: long enough that kills land mid-sweep
        int rowCount = 2 * cellCount; // val and test
        Path results = dir.resolve("results");
        Path rows = results.resolve("results.jsonl");
        Random random = new Random(7);
        int killedMidway = 0;
        for (int attempt = 0; attempt < 4; attempt++) {
            long before = lines(rows);
            Process p = start(spec, results);
            // let it store at least one more row, then kill it at a random moment
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (lines(rows) <= before && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            Thread.sleep(random.nextInt(400));
            boolean finished = !p.isAlive();
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            if (!finished) {
                killedMidway++;
            }
        }
        assertTrue(killedMidway >= 3, "the kills should land while sweeping; only " + killedMidway + " did");
        assertTrue(lines(rows) < rowCount, "the killed runs should not have finished the sweep");

        CliRun r = CliRun.of("sweep", spec, "--results", results, "--resume", "--quiet", "--threads", 1,
                "--no-report");
        assertEquals(0, r.code(), r.err());
        JsonMapper json = JsonMapper.builder().build();
        List<String> stored = Files.readAllLines(rows);
        Set<String> keys = new HashSet<>();
        Set<String> cells = new HashSet<>();
        for (String line : stored) {
            JsonNode row = json.readTree(line);
            assertTrue(keys.add(row.get("cell_id").asText() + "/" + row.get("split").asText()), "duplicate: " + line);
            cells.add(row.get("label").asText());
        }
        assertEquals(rowCount, stored.size());
        assertEquals(cellCount, cells.size());
        JsonNode manifest = json.readTree(results.resolve("manifest.json").toFile());
        assertEquals(cellCount, manifest.get("cells_done").asInt());
        assertEquals(rowCount, manifest.get("rows").asInt());
        assertEquals(stored.size() + 1, Files.readAllLines(results.resolve("results.csv")).size());
    }

    private static long lines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        try (var s = Files.lines(file)) {
            return s.count();
        }
    }

    private static Process start(Path spec, Path results) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "org.mergelab.cli.Main", "sweep", spec.toString(), "--results", results.toString(), "--threads", "1",
                "--progress", "never", "--no-report").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
        return pb.start();
    }
}
