package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.io.DType;
import org.mergelab.merge.MergeToFolder;
import org.mergelab.merge.Progress;
import org.mergelab.merge.ToyModels;

/**
 * Merges whose kernels read stored bf16 straight from the files once their lanes are compiled (linear and task
 * arithmetic's output pass, the magnitude ranks' key pass) write the bytes and report the non-finite inputs of the
 * merges that decode every chunk first: NaN and infinities planted in an input,
 * tensors whose length is no multiple of the chunk or the lanes, several chunk sizes and thread counts.
 */
class StoredBf16MergeTest {
    static final int N = 10_007;

    @TempDir
    Path dir;

    @AfterEach
    void asInANewJvm() {
        TaskVectorKernels.resetLanes();
    }

    /** Three bf16 models and the two configs; returns the folder they are in. */
    private Path models() throws IOException {
        Map<String, float[]> a = new LinkedHashMap<>();
        a.put("good.weight", ToyModels.random(1, 300, 1));
        float[] bad = ToyModels.planted(ToyModels.random(2, N, 1), Float.NaN, 5, 4000);
        bad[9999] = Float.POSITIVE_INFINITY;
        a.put("bad.weight", bad);
        ToyModels.write(dir.resolve("a"), DType.BF16, a);
        ToyModels.write(dir.resolve("b"), DType.BF16, Map.of("good.weight", ToyModels.random(3, 300, 1),
                "bad.weight", ToyModels.random(4, N, 1)));
        ToyModels.write(dir.resolve("c"), DType.BF16, Map.of("good.weight", ToyModels.random(5, 300, 1),
                "bad.weight", ToyModels.random(6, N, 1)));
        Files.writeString(dir.resolve("linear.yml"), "merge_method: linear\nmodels:\n  - model: " + dir.resolve("a")
                + "\n    parameters: {weight: 0.3}\n  - model: " + dir.resolve("b")
                + "\n    parameters: {weight: 0.7}\n");
        Files.writeString(dir.resolve("task_arithmetic.yml"), "merge_method: task_arithmetic\nbase_model: "
                + dir.resolve("c") + "\nmodels:\n  - model: " + dir.resolve("a")
                + "\n    parameters: {weight: 0.6}\n  - model: " + dir.resolve("b")
                + "\n    parameters: {weight: 0.8}\nparameters: {lambda: 0.9}\n");
        for (String method : new String[] {"ties", "breadcrumbs"}) {
            Files.writeString(dir.resolve(method + ".yml"), "merge_method: " + method + "\nbase_model: "
                    + dir.resolve("c") + "\nmodels:\n  - model: " + dir.resolve("a")
                    + "\n    parameters: {weight: 0.6, density: 0.4}\n  - model: " + dir.resolve("b")
                    + "\n    parameters: {weight: 0.8, density: 0.7}\n");
        }
        return dir;
    }

    private record Merged(byte[] bytes, String nonFinite) {}

    private Merged merge(Path cfg, String name, int threads, int chunk) throws IOException {
        Path out = dir.resolve(name);
        MergeToFolder.Summary s = MergeToFolder.run(cfg, out, new MergeToFolder.Options(threads, 1L << 30, 1, false,
                chunk, Progress.NONE, line -> {}, null));
        return new Merged(Files.readAllBytes(out.resolve("model.safetensors")), s.nonFinite().toString());
    }

    @Test
    void mergesFromStoredBf16AreTheDecodedMerges() throws IOException {
        Assumptions.assumeTrue(TaskVectorKernels.VECTOR, "no Vector API shape here");
        Path folder = models();
        for (String method : new String[] {"linear", "task_arithmetic", "ties", "breadcrumbs"}) {
            Path cfg = folder.resolve(method + ".yml");
            for (int threads : new int[] {1, 2}) {
                for (int chunk : new int[] {1000, 1 << 17}) {
                    mergeBothWays(cfg, method + ", " + threads + " threads, chunk " + chunk, threads, chunk);
                }
            }
        }
    }

    private void mergeBothWays(Path cfg, String run, int threads, int chunk) throws IOException {
        String name = run.replaceAll("[^a-z0-9]+", "-");
        TaskVectorKernels.useLanes(false);
        Merged decoded = merge(cfg, "decoded-" + name, threads, chunk);
        TaskVectorKernels.useLanes(true);
        Merged stored = merge(cfg, "stored-" + name, threads, chunk);
        assertArrayEquals(decoded.bytes(), stored.bytes(), run);
        assertEquals(decoded.nonFinite(), stored.nonFinite(), run);
        assertEquals(true, decoded.nonFinite().contains("bad.weight"), run + ": " + decoded.nonFinite());
    }
}
