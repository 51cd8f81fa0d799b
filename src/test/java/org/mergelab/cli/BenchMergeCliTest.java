package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.bench.MergeBenchmark;

/** {@code bench merge} end to end on small models: every row measured, numbers plausible, the table written. */
class BenchMergeCliTest {
    @TempDir
    Path dir;

    @Test
    void measuresEveryMethodAgainstTheFloorAndWritesTheTable() throws Exception {
        Path report = dir.resolve("bench/merge.md");
        CliRun run = CliRun.of("bench", "merge", "--size", "8M", "--methods", "linear", "--reps", "1",
                "--threads", "1", "--dir", dir.resolve("models"), "--report", report);
        assertEquals(0, run.code(), run.err());
        String md = Files.readString(report);
        assertEquals(run.out().strip(), md.strip(), "prints what it writes");
        Matcher floor = Pattern.compile("\\*\\*([0-9.]+) s\\*\\* for 2 inputs, \\*\\*([0-9.]+) s\\*\\* for 3").matcher(md);
        assertTrue(floor.find(), md);
        assertTrue(Double.parseDouble(floor.group(1)) > 0 && Double.parseDouble(floor.group(2)) > 0, md);
        for (String method : new String[] {"linear"}) {
            // | method | threads | s | GB/s | x floor | in-process s | x floor | RSS | CPU | runs |
            Matcher row = Pattern.compile("\\| " + method + " \\| 1 \\| ([0-9.]+) \\| ([0-9.]+) \\| \\*\\*([0-9.]+)\\*\\*"
                    + " \\| ([0-9.]+) \\| ([0-9.]+) \\| ([0-9]+) MB \\| ([0-9.]+) \\|").matcher(md);
            assertTrue(row.find(), method + " row missing:\n" + md);
            double seconds = Double.parseDouble(row.group(1));
            double inProcess = Double.parseDouble(row.group(4));
            assertTrue(inProcess > 0 && inProcess < seconds, "the merge's own phases are part of its process time");
            assertTrue(Long.parseLong(row.group(6)) > 0, "peak RSS read from /proc");
        }
        assertTrue(md.contains("numpy") , md);
    }

    @Test
    void readsTheMergePhasesLine() {
        assertEquals(2.5, MergeBenchmark.phaseSeconds("x\nmergelab: phases: plan 0.25 s merge 1.75 s sync 0.50 s"
                + " finish 0.00 s\nmerged ..."), 1e-9);
        assertTrue(Double.isNaN(MergeBenchmark.phaseSeconds("mergelab 0.1.0")));
    }
}
