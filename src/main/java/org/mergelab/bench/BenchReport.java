package org.mergelab.bench;

import java.util.Locale;

/** The benchmark's table, as Markdown (also what the CLI prints). */
public final class BenchReport {
    private BenchReport() {}

    /** How the inputs sat in the page cache, which changes merge times by ~10 % (see PageCache). */
    private static String pageCache(MergeBenchmark.Report r) {
        String how = r.readFromDisk() ? "Inputs dropped from the page cache and read back from disk at the start of each"
                + " repetition, as a first read caches a file" : "Inputs not dropped from the page cache (not possible"
                + " here): cached as earlier work left them";
        String huge = Double.isNaN(r.hugePagesMin()) ? "the kernel does not report how many were mapped in 2 MB pages"
                : String.format(Locale.ROOT, "mapped in 2 MB pages before each run: %.0f %% of their bytes (median; "
                        + "least %.0f %%)", 100 * r.hugePagesMedian(), 100 * r.hugePagesMin());
        return how + "; " + huge + ". A file read from disk is cached in 2 MB folios on Linux with large folios (ext4 "
                + "since 6.x, XFS); one cached in 4 KB pages (written in small pieces, or re-read while memory was "
                + "fragmented) merges ~10 % slower, as every page is mapped one by one.\n\n";
    }

    public static String markdown(MergeBenchmark.Report r, String command) {
        StringBuilder b = new StringBuilder();
        b.append("# Merge benchmark\n\n");
        b.append(String.format(Locale.ROOT, "Command: `%s`  \nMachine: %s  \nModels: %d synthetic Llama-shaped bf16 "
                + "checkpoints of %.2f GB each (hidden 2048, intermediate 5632, vocab 32000); every input is read into the "
                + "page cache again before each timed run.%n%n",
                command, r.machine(), r.models(), r.modelBytes() / 1e9));
        b.append(pageCache(r));
        b.append(String.format(Locale.ROOT, "I/O floor (read every byte of every input once through a mapping, into "
                + "a 1 MiB buffer as `cat` reads, and meanwhile, on a second thread, write one output-sized file as the "
                + "engine does: O_DIRECT writes of 4 MiB windows where the file system allows it, synced in the "
                + "background every 64 MB, then fsync; done "
                + "when both are), measured before every merge run on the same inputs and at the start of each "
                + "repetition, median: **%.2f s** for 2 inputs, **%.2f s** for 3. Each run's × floor is its time over "
                + "the floor measured just before it (the disk's write speed drifts within the hour); the table gives "
                + "the median of those ratios. "
                + "External check, `cp` of one model + `cat` of another + `sync`: %.2f s. JVM and CLI start-up "
                + "(`mergelab --version` in a child JVM), part of every merge's time: %.2f s.%n%n", r.floorSeconds(),
                r.floor3Seconds(), r.cpCatSeconds(), r.startupSeconds()));
        // the end value counts the benchmark's own merges; only the start says whether other work was running
        b.append(String.format(Locale.ROOT, "1-minute load average: %.2f at the start, %.2f at the end (which counts "
                + "these merges) on %d cores%s.%n%n", r.loadStart(), r.loadEnd(), r.cores(), r.loadStart() > 1
                        ? "; above 1 at the start: the cores were busy when it began (other work, or work that had just "
                        + "ended, which the 1-minute average still counts)" : ""));
        b.append("| method | threads | median s (process start to finished folder) | input GB/s | × floor "
                + "| in-process s (plan to synced folder) | × floor | peak RSS | CPU s (user + sys) "
                + "| heap allocated, GB (most of any run) | runs (s) |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (MergeBenchmark.Measurement m : r.merges()) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.2f | **%.2f** | %.2f | %.2f | %.0f MB | %.2f | %.2f "
                    + "| %s |%n", m.name(), m.threads(), m.seconds(), m.inputGbPerSecond(), m.floorRatio(),
                    m.inProcessSeconds(), m.inProcessFloorRatio(), m.peakRssBytes() / 1e6, m.cpuSeconds(),
                    m.maxAllocatedGb(),
                    String.join(" ", m.samples().stream().map(x -> String.format(Locale.ROOT, "%.2f", x)).toList())));
        }
        if (r.numpy().isEmpty()) {
            b.append("\nNo numpy comparison: python3 with numpy is not installed here.\n");
        } else {
            b.append(String.format(Locale.ROOT, "%nCompared against: numpy %s, float32, single thread (`numpy_merge.py` in"
                    + " the jar: each tensor loaded whole, widened to float32, combined with array expressions, rounded"
                    + " to bf16, written, fsync'd; TIES keeps each task vector's largest magnitudes by `np.partition`,"
                    + " ties in index order as MergeLab), on the same models as the rows above:%n%n",
                    r.numpy().getFirst().version()));
            for (MergeBenchmark.Baseline np : r.numpy()) {
                double fastest = r.merges().stream().filter(m -> m.name().equals(np.method()))
                        .mapToDouble(MergeBenchmark.Measurement::seconds).min().orElse(Double.NaN);
                b.append(String.format(Locale.ROOT, "- %s: **%.2f s**, peak RSS %.0f MB, output %s; MergeLab's fastest"
                        + " %s run above is **%.1f×** faster.%n", np.method(), np.seconds(), np.peakRssBytes() / 1e6,
                        agreement(np.agreement()), np.method(), np.seconds() / fastest));
            }
        }
        b.append("\nMedians over alternating repetitions; the machine is shared, so single runs vary. Heap allocated: what"
                + " the merge allocated on the Java heap, all threads (the JVM's count, `merge --verbose`); its data"
                + " lives in mappings and pooled buffers, so a run far above the others had a kernel allocating per"
                + " vector.\n");
        return b.toString();
    }

    /** How a numpy output compares with MergeLab's, in words. */
    static String agreement(MergeBenchmark.Agreement a) {
        if (a.identical()) {
            return "identical to MergeLab's byte for byte";
        }
        if (a.maxUlps() == Long.MAX_VALUE) {
            return "NOT comparable with MergeLab's (tensors, shapes or dtypes differ)";
        }
        return String.format(Locale.ROOT, "equal to MergeLab's but for %d of %d elements (%.2g %%), by at most %d bf16 "
                + "step%s", a.differing(), a.elements(), 100.0 * a.differing() / a.elements(), a.maxUlps(),
                a.maxUlps() == 1 ? " (float32 against MergeLab's float64 mixing)" : "s");
    }
}
