package org.mergelab.zoo.train;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.mergelab.zoo.world.Example;

/**
 * Training speed of the family's default shape (4 layers, hidden 128, context 128) at batch 16 and 32. Off by default;
 * run with {@code mvn -q test -Dtest=TrainBenchmark -Dmergelab.bench=true} (Surefire sets OMP_NUM_THREADS=1,
 * OPENBLAS_NUM_THREADS=2). Prints the median and mean ms per step after warm-up.
 */
@EnabledIfSystemProperty(named = "mergelab.bench", matches = "true")
class TrainBenchmark {
    static final int STEPS = Integer.getInteger("mergelab.bench.steps", 20);

    @Test
    void stepTimes() {
        ModelShape shape = ModelShape.family();
        System.out.printf(Locale.ROOT, "shape %s, %.3f M params, OMP_NUM_THREADS=%s OPENBLAS_NUM_THREADS=%s%n", shape,
                shape.parameters() / 1e6, System.getenv("OMP_NUM_THREADS"), System.getenv("OPENBLAS_NUM_THREADS"));
        for (int rows : new int[] {16, 32}) {
            Supplier<Example> source = randomWords(1);
            Packer packer = new Packer(shape.context());
            try (LlamaTrainer trainer = LlamaTrainer.create(shape, 1)) {
                for (int i = 0; i < 3; i++) {
                    trainer.step(packer.next(source, rows), 1e-3); // warm-up (the first builds the gradient graph)
                }
                double[] ms = new double[STEPS];
                double first = 0;
                double last = 0;
                for (int i = 0; i < STEPS; i++) {
                    Batch b = packer.next(source, rows);
                    long t0 = System.nanoTime();
                    last = trainer.step(b, 1e-3);
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                    first = i == 0 ? last : first;
                }
                long t0 = System.nanoTime();
                trainer.loss(packer.next(source, rows));
                double forward = (System.nanoTime() - t0) / 1e6;
                double[] sorted = ms.clone();
                Arrays.sort(sorted);
                System.out.printf(Locale.ROOT, "batch %d x %d: median %.0f ms/step (%.0f tokens/s), mean %.0f, min %.0f,"
                        + " max %.0f; forward only %.0f ms; loss %.3f -> %.3f; %s%n", rows, shape.context(),
                        sorted[STEPS / 2], rows * shape.context() * 1000 / sorted[STEPS / 2],
                        Arrays.stream(ms).average().orElseThrow(), sorted[0], sorted[STEPS - 1], forward, first, last,
                        residentMemory());
            }
        }
    }

    /** VmRSS and VmHWM of this JVM (Linux), to see that native memory stays bounded over the steps. */
    static String residentMemory() {
        try {
            return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("VmRSS") || l.startsWith("VmHWM")).map(l -> l.replaceAll("\\s+", " "))
                    .reduce((a, b) -> a + ", " + b).orElse("");
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** Sentences of random words from a small lexicon: text of the family's kind at no cost. */
    static Supplier<Example> randomWords(long seed) {
        String[] words = {"the", "cat", "sat", "on", "a", "mat", "red", "fox", "runs", "to", "river", "and", "sees",
            "blue", "bird", "over", "hill", "is", "3", "plus", "4", "equals", "7", "?"};
        SplittableRandom r = new SplittableRandom(seed);
        return () -> {
            StringBuilder sb = new StringBuilder();
            int n = 4 + r.nextInt(12);
            for (int i = 0; i < n; i++) {
                sb.append(i == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
            }
            return Example.text(sb.append('.').toString());
        };
    }
}
