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

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;

/**
 * What counting non-finite values costs in the merge pass: a bf16 LERP of two 64M-element tensors (decode, kernel,
 * encode to bf16 in memory; no disk, so the count's share is as large as it gets) with and without the counter,
 * alternating, on 1 and 2 threads. Opt-in: {@code mvn -q test -Dtest=NonFiniteBenchmark -Dmergelab.bench=true}.
 */
@EnabledIfSystemProperty(named = "mergelab.bench", matches = "true")
class NonFiniteBenchmark {
    static final int N = 64 << 20;
    static final int REPS = 7;

    @TempDir
    static Path dir;

    @Test
    void countingCostsLittleNextToTheMerge() throws IOException {
        ToyModels.write(dir.resolve("a"), DType.BF16, Map.of("w", ToyModels.random(1, N, 1)));
        ToyModels.write(dir.resolve("b"), DType.BF16, Map.of("w", ToyModels.random(2, N, 1)));
        FloatCodec.warmUp();
        Reductions.warmUp();
        NonFiniteCounter.warmUp();
        try (ModelFolder a = ModelFolder.open(dir.resolve("a")); ModelFolder b = ModelFolder.open(dir.resolve("b"))) {
            List<TensorSource> sources = List.of(TensorSource.of(a.tensor("w"), null),
                    TensorSource.of(b.tensor("w"), null));
            for (int threads : new int[] {1, 2}) {
                ExecutorService pool = threads == 1 ? null : Executors.newFixedThreadPool(threads);
                try {
                    List<Double> without = new ArrayList<>();
                    List<Double> with = new ArrayList<>();
                    for (int rep = 0; rep < REPS; rep++) {
                        without.add(seconds(sources, pool, threads, false));
                        with.add(seconds(sources, pool, threads, true));
                    }
                    double w0 = median(without);
                    double w1 = median(with);
                    System.out.printf(Locale.ROOT, "%d thread(s): merge %.3f s, with the count %.3f s (%+.1f %%);"
                            + " %.2f Gelem/s of input without%n", threads, w0, w1, 100 * (w1 / w0 - 1),
                            2.0 * N / w0 / 1e9);
                } finally {
                    if (pool != null) {
                        pool.shutdown();
                    }
                }
            }
        }
    }

    static double seconds(List<TensorSource> sources, ExecutorService pool, int threads, boolean count) {
        ChunkedJob job = new ChunkedJob("w", new long[] {N}, sources, 0, null, MergeEngine.DEFAULT_CHUNK, pool,
                threads, new ChunkedJob.Scratch(), 1);
        ThreadLocal<MemorySegment> encoded = ThreadLocal.withInitial(
                () -> Arena.ofAuto().allocate(2L * MergeEngine.DEFAULT_CHUNK));
        long t0 = System.nanoTime();
        job.map((offset, in, out, n) -> {
            float[] x = in[0];
            float[] y = in[1];
            for (int j = 0; j < n; j++) {
                out[j] = x[j] + 0.3f * (y[j] - x[j]);
            }
        }, (offset, values, n) -> FloatCodec.encode(DType.BF16, values, n, encoded.get()), null,
                count ? new NonFiniteCounter(2, DType.BF16) : null);
        return (System.nanoTime() - t0) / 1e9;
    }

    static double median(List<Double> v) {
        double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s[s.length / 2];
    }
}
