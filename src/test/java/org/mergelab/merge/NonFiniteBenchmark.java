package org.mergelab.merge;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;

/**
 * What counting non-finite values costs in the merge pass: a bf16 LERP of two 16M-element tensors (decode, kernel,
 * encode to bf16 in memory; no disk, so the count's share is as large as it gets), run with and without the counter in
 * ABBA order, and once more timing the count calls themselves inside the pass. Opt-in:
 * {@code mvn -q test -Dtest=NonFiniteBenchmark -Dmergelab.bench=true}.
 */
@EnabledIfSystemProperty(named = "mergelab.bench", matches = "true")
class NonFiniteBenchmark {
    static final int N = 16 << 20;
    static final long[] SHAPE = {N / 4096, 4096};
    static final int REPS = 21;

    @TempDir
    static Path dir;

    @Test
    void countingCostsLittleNextToTheMerge() throws IOException {
        ToyModels.write(dir.resolve("a"), DType.BF16, Map.of("w", ToyModels.random(1, N, 1)));
        ToyModels.write(dir.resolve("b"), DType.BF16, Map.of("w", ToyModels.random(2, N, 1)));
        FloatCodec.warmUp();
        NonFiniteCounter.warmUp();
        try (ModelFolder a = ModelFolder.open(dir.resolve("a")); ModelFolder b = ModelFolder.open(dir.resolve("b"))) {
            List<TensorSource> sources = List.of(TensorSource.of(a.tensor("w"), null),
                    TensorSource.of(b.tensor("w"), null));
            for (int threads : new int[] {1, 2}) {
                ExecutorService pool = threads == 1 ? null : Executors.newFixedThreadPool(threads);
                try {
                    Bench bench = new Bench(sources, pool, threads);
                    List<Double> without = new ArrayList<>();
                    List<Double> with = new ArrayList<>();
                    for (int rep = 0; rep < REPS; rep++) {
                        boolean countFirst = rep % 2 == 1;
                        (countFirst ? with : without).add(bench.seconds(countFirst));
                        (countFirst ? without : with).add(bench.seconds(!countFirst));
                    }
                    double[] inside = bench.countShare();
                    // the fastest run is the one least disturbed by other processes on this shared machine
                    System.out.printf(Locale.ROOT, "%d thread(s): median %.4f s, with the count %.4f s (%+.1f %%);"
                            + " fastest %.4f s and %.4f s (%+.1f %%); count calls inside one pass: %.1f %% of it"
                            + " (%.4f of %.4f s)%n", threads, median(without), median(with),
                            100 * (median(with) / median(without) - 1), min(without), min(with),
                            100 * (min(with) / min(without) - 1), 100 * inside[0] / inside[1], inside[0], inside[1]);
                } finally {
                    if (pool != null) {
                        pool.shutdown();
                    }
                }
            }
        }
    }

    /** One configuration's merge, with buffers kept across runs so runs differ only in the count. */
    record Bench(List<TensorSource> sources, ExecutorService pool, int threads, ChunkedJob.Scratch scratch,
            ThreadLocal<MemorySegment> encoded) {
        Bench(List<TensorSource> sources, ExecutorService pool, int threads) {
            this(sources, pool, threads, new ChunkedJob.Scratch(), ThreadLocal.withInitial(
                    () -> Arena.ofAuto().allocate(2L * MergeEngine.DEFAULT_CHUNK)));
        }

        ChunkedJob job() {
            return new ChunkedJob("w", SHAPE, sources, 0, null, MergeEngine.DEFAULT_CHUNK, pool, threads, scratch, 1);
        }

        static void lerp(float[][] in, float[] out, int n) {
            float[] x = in[0];
            float[] y = in[1];
            for (int j = 0; j < n; j++) {
                out[j] = x[j] + 0.3f * (y[j] - x[j]);
            }
        }

        double seconds(boolean count) {
            ChunkedJob job = job();
            long t0 = System.nanoTime();
            job.map((offset, in, out, n) -> lerp(in, out, n),
                    (offset, values, n) -> FloatCodec.encode(DType.BF16, values, n, encoded.get()), null,
                    count ? new NonFiniteCounter(2, DType.BF16) : null);
            return (System.nanoTime() - t0) / 1e9;
        }

        /** Seconds inside the count calls (made as the engine makes them) and for the whole pass, best of 5. */
        double[] countShare() {
            double[] best = {Double.MAX_VALUE, 0};
            for (int rep = 0; rep < 5; rep++) {
                LongAdder counting = new LongAdder();
                NonFiniteCounter counter = new NonFiniteCounter(2, DType.BF16);
                ChunkedJob job = job();
                long t0 = System.nanoTime();
                job.map((offset, in, out, n) -> {
                    long c0 = System.nanoTime();
                    counter.countInputs(in, n);
                    long c1 = System.nanoTime();
                    lerp(in, out, n);
                    long c2 = System.nanoTime();
                    counter.countOutput(out, n);
                    counting.add(c1 - c0 + System.nanoTime() - c2);
                }, (offset, values, n) -> FloatCodec.encode(DType.BF16, values, n, encoded.get()));
                double total = (System.nanoTime() - t0) / 1e9 * threads; // thread-seconds, as the count's are
                double share = counting.sum() / 1e9;
                if (share / total < best[0] / Math.max(best[1], 1e-12) || rep == 0) {
                    best = new double[] {share, total};
                }
            }
            return best;
        }
    }

    static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    static double median(List<Double> v) {
        double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s[s.length / 2];
    }
}
