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
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.zoo.SyntheticLlama;

/** {@code bench merge} end to end on small models: every row measured, numbers plausible, the table written. */
class BenchMergeCliTest {
    @TempDir
    Path dir;

    @Test
    void measuresEveryMethodAgainstTheFloorAndWritesTheTable() throws Exception {
        Path report = dir.resolve("bench/merge.md");
        CliRun run = CliRun.of("bench", "merge", "--size", "8M", "--methods", "linear,ties", "--reps", "1",
                "--threads", "1", "--dir", dir.resolve("models"), "--report", report);
        assertEquals(0, run.code(), run.err());
        String md = Files.readString(report);
        assertEquals(run.out().strip(), md.strip(), "prints what it writes");
        // results differ by CPU generation and vector width, so the report says which this was
        assertTrue(Pattern.compile("Machine: .*\\(.*[0-9]+-bit vectors\\), [0-9]+ cores?, JDK 25").matcher(md).find(), md);
        Matcher floor = Pattern.compile("\\*\\*([0-9.]+) s\\*\\* for 2 inputs, \\*\\*([0-9.]+) s\\*\\* for 3").matcher(md);
        assertTrue(floor.find(), md);
        assertTrue(Double.parseDouble(floor.group(1)) > 0 && Double.parseDouble(floor.group(2)) > 0, md);
        for (String method : new String[] {"linear", "ties"}) {
            // | method | threads | s | GB/s | x floor | in-process s | x floor | RSS | CPU | allocated | runs |
            Matcher row = Pattern.compile("\\| " + method + " \\| 1 \\| ([0-9.]+) \\| ([0-9.]+) \\| \\*\\*([0-9.]+)\\*\\*"
                    + " \\| ([0-9.]+) \\| ([0-9.]+) \\| ([0-9]+) MB \\| ([0-9.]+) \\| ([0-9.]+) \\|").matcher(md);
            assertTrue(row.find(), method + " row missing:\n" + md);
            double seconds = Double.parseDouble(row.group(1));
            double inProcess = Double.parseDouble(row.group(4));
            assertTrue(inProcess > 0 && inProcess < seconds, "the merge's own phases are part of its process time");
            assertTrue(Long.parseLong(row.group(6)) > 0, "peak RSS read from /proc");
            double allocated = Double.parseDouble(row.group(8));
            assertTrue(allocated > 0 && allocated < 5, "heap allocated, as the merge reported it: " + allocated);
        }
        assertTrue(Pattern.compile("Inputs dropped from the page cache and read back from disk at the start of each "
                + "repetition, as a first read caches a file; mapped in 2 MB pages before each run: [0-9]+ % of their "
                + "bytes \\(median; least [0-9]+ %\\)").matcher(md).find(), md);
        assertTrue(md.contains("numpy") , md);
        if (md.contains("Compared against: numpy")) {
            // numpy installed: its linear merge is MergeLab's bit for bit, its TIES (float32 mixing) within a step
            assertTrue(md.contains("- linear: **") && md.contains("identical to MergeLab's byte for byte"), md);
            assertTrue(Pattern.compile("- ties: \\*\\*[0-9.]+ s\\*\\*, peak RSS [0-9]+ MB, output (identical to MergeLab's"
                    + " byte for byte|equal to MergeLab's but for [0-9]+ of [0-9]+ elements .*, by at most 1 bf16 step)")
                    .matcher(md).find(), md);
        }
    }

    @Test
    void countsTheElementsWhereTwoMergedModelsDiffer() throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        SyntheticLlama.write(a, SyntheticLlama.Spec.tiny(), 1, 1, 0.3);
        SyntheticLlama.write(b, SyntheticLlama.Spec.tiny(), 1, 1, 0.3);
        MergeBenchmark.Agreement same = MergeBenchmark.compare(a, b);
        assertTrue(same.identical() && same.elements() > 1000, same.toString());
        // two elements of one tensor changed, by one bf16 step and by three
        try (ModelFolder m = ModelFolder.open(b)) {
            ModelTensor t = m.tensors().getFirst();
            long at = t.file().dataStart() + t.info().begin();
            try (var ch = java.nio.channels.FileChannel.open(t.file().path(), java.nio.file.StandardOpenOption.WRITE)) {
                for (int i = 0; i < 2; i++) {
                    short bits = t.data().get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i);
                    ch.write(java.nio.ByteBuffer.allocate(2).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                            .putShort(0, (short) (bits + (i == 0 ? 1 : 3))), at + 2L * i);
                }
            }
        }
        MergeBenchmark.Agreement differ = MergeBenchmark.compare(a, b);
        assertEquals(same.elements(), differ.elements());
        assertEquals(2, differ.differing(), differ.toString());
        assertEquals(3, differ.maxUlps(), differ.toString());
    }

    @Test
    void readsTheMergePhasesLine() {
        assertEquals(2.5, MergeBenchmark.phaseSeconds("x\nmergelab: phases: plan 0.25 s merge 1.75 s sync 0.50 s"
                + " finish 0.00 s\nmerged ..."), 1e-9);
        assertTrue(Double.isNaN(MergeBenchmark.phaseSeconds("mergelab 0.1.0")));
        assertEquals(0.31, MergeBenchmark.allocatedGb("x\nmergelab: heap allocated 0.31 GB (all threads)\n"), 1e-9);
        assertTrue(Double.isNaN(MergeBenchmark.allocatedGb("mergelab 0.1.0")));
    }
}
