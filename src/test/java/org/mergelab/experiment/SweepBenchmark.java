package org.mergelab.experiment;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.eval.OrtRuntime;
import org.mergelab.io.DType;
import org.mergelab.zoo.CharTokenizer;
import org.mergelab.zoo.SyntheticLlama;

/**
 * A cell merged in memory against the same cell written to disk and read back ({@code --materialize}), in one JVM,
 * alternating, on the smoke tasks: family-sized models (4 layers, hidden 256, 3 M parameters) and larger ones
 * (8 layers, hidden 1024, 92 M). Off by default; run with
 * {@code mvn -q test -Dtest=SweepBenchmark -Dmergelab.bench=true}. Prints medians.
 */
@EnabledIfSystemProperty(named = "mergelab.bench", matches = "true")
class SweepBenchmark {
    static final int REPEATS = Integer.getInteger("mergelab.bench.repeats", 5);

    @TempDir
    Path dir;

    @Test
    void inMemoryVersusMaterialized() throws Exception {
        int threads = Integer.getInteger("mergelab.bench.threads", 2);
        compare("family-sized", new SyntheticLlama.Spec(4, 256, 688, 8, 4, CharTokenizer.VOCAB_SIZE, DType.BF16,
                Long.MAX_VALUE, false), threads);
        compare("larger", new SyntheticLlama.Spec(8, 1024, 2752, 16, 8, CharTokenizer.VOCAB_SIZE, DType.BF16,
                Long.MAX_VALUE, false), threads);
    }

    private void compare(String name, SyntheticLlama.Spec model, int threads) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        SyntheticLlama.write(d.resolve("base"), model, 1, 0, 0);
        SyntheticLlama.write(d.resolve("chat"), model, 1, 2, 0.1);
        Path spec = d.resolve("bench.yaml");
        Path tasks = Path.of("benchmarks-data/tasks-smoke").toAbsolutePath();
        Files.writeString(spec, "models:\n  base: " + d.resolve("base") + "\n  chat: " + d.resolve("chat")
                + "\ntokenizer: " + tasks.resolve("tokenizer") + "\ntasks: {dir: " + tasks + "}\nreferences: []\n"
                + "merges:\n  - {method: delerp, base: base, models: [base, chat], parameters: {t: 0.5}}\n");
        try (SweepPlan plan = SweepPlan.prepare(SpecParser.parse(spec), w -> {})) {
            Cell cell = plan.cells().getFirst();
            CellEvaluator evaluator = new CellEvaluator(OrtRuntime.create(threads), new EvalCache(d.resolve("cache"),
                    false), 8);
            List<MergeStrategy> strategies = List.of(new InMemoryMerge(plan, threads),
                    new MaterializedMerge(plan, threads, null, note -> {}));
            double[][] merge = new double[2][REPEATS];
            double[][] total = new double[2][REPEATS];
            for (int rep = -1; rep < REPEATS; rep++) { // rep -1 warms up
                for (int s = 0; s < 2; s++) {
                    long started = System.nanoTime();
                    try (CellModel m = strategies.get(s).merge(cell)) {
                        evaluator.evaluate(m, plan.tasks());
                        if (rep >= 0) {
                            merge[s][rep] = m.mergeSeconds();
                        }
                    }
                    if (rep >= 0) {
                        total[s][rep] = (System.nanoTime() - started) / 1e9;
                    }
                }
            }
            double params = model.layers() * (4.0 * model.hidden() * model.hidden() * (model.heads() + model.kvHeads())
                    / model.heads() / 2 + 3.0 * model.hidden() * model.intermediate()) + 2.0 * model.vocab()
                    * model.hidden();
            System.out.printf(Locale.ROOT, "%n== %s (~%.1f M params, bf16), delerp t=0.5, smoke tasks on val+test,"
                    + " threads %d, medians of %d%n", name, params / 1e6, threads, REPEATS);
            System.out.printf(Locale.ROOT, "in memory:    merge %.3f s, cell %.3f s%n", median(merge[0]),
                    median(total[0]));
            System.out.printf(Locale.ROOT, "materialized: merge %.3f s, cell %.3f s%n", median(merge[1]),
                    median(total[1]));
            System.out.printf(Locale.ROOT, "materialized / in memory: merge %.2fx, cell %.2fx%n",
                    median(merge[1]) / median(merge[0]), median(total[1]) / median(total[0]));
        }
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
