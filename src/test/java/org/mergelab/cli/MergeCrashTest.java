package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.io.DType;
import org.mergelab.io.ModelFolder;
import org.mergelab.zoo.SyntheticLlama;

/**
 * {@code kill -9} in the middle of a real merge process: the output folder never appears, the next run removes the
 * temporary folder the killed one left and then finishes normally.
 */
class MergeCrashTest {
    @Test
    void killedMergeLeavesNoOutputAndTheNextRunCleansUp(@TempDir Path dir) throws Exception {
        var spec = SyntheticLlama.Spec.ofSize(80_000_000L, DType.BF16, 30_000_000L);
        Path base = dir.resolve("base");
        Path ft = dir.resolve("ft");
        SyntheticLlama.write(base, spec, 1, 0, 0);
        SyntheticLlama.write(ft, spec, 1, 2, 0.3);
        Path config = dir.resolve("merge.yml");
        Files.writeString(config, "merge_method: delerp\nbase_model: " + base + "\nmodels:\n  - model: " + ft
                + "\nparameters: {t: 0.5}\n");
        Path out = dir.resolve("out");
        Random random = new Random(11);
        int killedMidway = 0;
        for (int attempt = 0; attempt < 3; attempt++) {
            Process p = start(config, out);
            // wait until it is writing (the temporary folder exists), then kill at a random moment
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (temporaryFolders(dir).isEmpty() && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(random.nextInt(250));
            boolean finished = !p.isAlive();
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            if (!finished) {
                killedMidway++;
                assertFalse(Files.exists(out), "a killed merge must not leave OUT_DIR");
            }
            if (Files.exists(out)) {
                // it finished before the kill: a complete folder, and start over
                try (ModelFolder m = ModelFolder.open(out)) {
                    assertEquals(SyntheticLlama.tensors(spec).size(), m.tensorCount());
                }
                org.mergelab.io.OutputFolder.deleteRecursively(out);
            }
        }
        assertTrue(killedMidway >= 2, "the kills should land while merging; only " + killedMidway + " did");
        assertFalse(temporaryFolders(dir).isEmpty(), "killed runs leave their temporary folder behind");
        CliRun run = CliRun.of("merge", config, out);
        assertEquals(0, run.code(), run.err());
        assertTrue(temporaryFolders(dir).isEmpty(), "the next run removes what killed runs left");
        assertTrue(run.err().contains("left by an interrupted run"), run.err());
        try (ModelFolder m = ModelFolder.open(out)) {
            assertEquals(SyntheticLlama.tensors(spec).size(), m.tensorCount());
        }
    }

    private static Process start(Path config, Path out) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "org.mergelab.cli.Main", "merge", config.toString(), out.toString(), "--threads", "1",
                "--progress", "never"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
        return pb.start();
    }

    private static List<Path> temporaryFolders(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().contains(".mergelab-tmp-")).toList();
        }
    }
}
