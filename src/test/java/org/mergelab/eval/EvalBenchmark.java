package org.mergelab.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.mergelab.io.DType;

/**
 * Speed of the evaluation path on models the size of the in-house family (4 layers, hidden 128 and 256, vocab 100).
 * Off by default; run with {@code mvn -q test -Dtest=EvalBenchmark -Dmergelab.bench=true}. Prints medians.
 */
@EnabledIfSystemProperty(named = "mergelab.bench", matches = "true")
class EvalBenchmark {
    static final int REPEATS = Integer.getInteger("mergelab.bench.repeats", 7);

    @Test
    void speeds() throws Exception {
        int threads = Integer.getInteger("mergelab.bench.threads", 2);
        OrtRuntime runtime = OrtRuntime.create(threads);
        System.out.printf(Locale.ROOT, "threads=%d cores=%d%n", threads, Runtime.getRuntime().availableProcessors());
        for (int hidden : new int[] {128, 256}) {
            TinyModels.Spec spec = TinyModels.Spec.llama().size(4, hidden, hidden * 8 / 3 / 16 * 16, hidden / 32,
                    hidden / 64).vocab(100);
            Map<String, float[]> w = TinyModels.weights(spec, 1, DType.F32);
            Weights weights = Weights.of(w, TinyModels.shapes(spec), "memory");
            LlamaConfig config = LlamaConfig.parse(TinyModels.config(spec, DType.F32), java.nio.file.Path.of("c"));
            long params = w.values().stream().mapToLong(a -> a.length).sum();
            System.out.printf(Locale.ROOT, "%n== 4 layers, hidden %d, intermediate %d, heads %d/%d, vocab 100: %.2f M"
                    + " params%n", hidden, spec.inter(), spec.heads(), spec.kvHeads(), params / 1e6);

            long t0 = System.nanoTime();
            runtime.graph(config, LlamaGraph.Variant.LOGITS);
            runtime.graph(config, LlamaGraph.Variant.DECODER);
            System.out.printf(Locale.ROOT, "graph build (both variants): %.1f ms%n", (System.nanoTime() - t0) / 1e6);

            for (LlamaGraph.Variant v : LlamaGraph.Variant.values()) {
                LlamaModel.open(runtime, config, weights, v).close(); // warm-up
                double[] s = new double[REPEATS];
                for (int i = 0; i < REPEATS; i++) {
                    try (LlamaModel m = LlamaModel.open(runtime, config, weights, v)) {
                        s[i] = m.sessionSeconds();
                    }
                }
                System.out.printf(Locale.ROOT, "session creation with in-memory initializers (%s): median %.1f ms"
                        + " (min %.1f)%n", v, median(s) * 1e3, Arrays.stream(s).min().orElseThrow() * 1e3);
            }

            try (LlamaModel m = LlamaModel.open(runtime, config, weights, LlamaGraph.Variant.LOGITS)) {
                SplittableRandom r = new SplittableRandom(3);
                List<Scorer.Request> batch = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    batch.add(new Scorer.Request(r.longs(129, 0, 100).toArray(), 1));
                }
                Scorer scorer = new Scorer(m, 8);
                scorer.score(batch);
                double[] tps = new double[REPEATS];
                for (int i = 0; i < REPEATS; i++) {
                    long s = System.nanoTime();
                    scorer.score(batch);
                    tps[i] = 8 * 128 / ((System.nanoTime() - s) / 1e9);
                }
                System.out.printf(Locale.ROOT, "scoring batch 8 x 128 tokens: median %.0f tokens/s (max %.0f)%n",
                        median(tps), Arrays.stream(tps).max().orElseThrow());
            }

            for (int rows : new int[] {1, 8}) {
                List<long[]> prompts = new ArrayList<>();
                SplittableRandom r = new SplittableRandom(4);
                for (int i = 0; i < rows; i++) {
                    prompts.add(r.longs(32, 3, 100).toArray());
                }
                for (LlamaGraph.Variant v : LlamaGraph.Variant.values()) {
                    try (LlamaModel m = LlamaModel.open(runtime, config, weights, v)) {
                        Generator g = new Generator(m, rows);
                        g.greedy(prompts, 64, Set.of(), t -> false);
                        double[] tps = new double[Math.max(3, REPEATS / 2)];
                        for (int i = 0; i < tps.length; i++) {
                            long s = System.nanoTime();
                            g.greedy(prompts, 64, Set.of(), t -> false);
                            tps[i] = rows * 64 / ((System.nanoTime() - s) / 1e9);
                        }
                        System.out.printf(Locale.ROOT, "generation, batch %d, 32-token prompt + 64 new, %s: median"
                                + " %.0f new tokens/s%n", rows, v == LlamaGraph.Variant.DECODER ? "with KV cache"
                                        : "without cache", median(tps));
                    }
                }
            }
        }
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
