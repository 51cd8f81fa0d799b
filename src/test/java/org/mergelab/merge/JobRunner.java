package org.mergelab.merge;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;

/**
 * Test access to the engine's chunked path on tensors held in memory, with what {@link TensorMerger} leaves out: the
 * pruned fraction a sparsifying method reported.
 */
public final class JobRunner {
    private JobRunner() {}

    /** The merged tensor and the fraction of task-vector entries the method reported as zeroed (NaN if none). */
    public record Run(float[] out, double prunedFraction) {}

    public static Run run(MergeMethod method, ResolvedParams params, int baseIndex, long[] shape, List<float[]> inputs,
            int chunk, ExecutorService pool, int threads, long seed, String tensorName) {
        List<TensorSource> sources = new ArrayList<>();
        for (float[] x : inputs) {
            sources.add(TensorSource.of(x));
        }
        ChunkedJob job = new ChunkedJob(tensorName, shape, sources, baseIndex, params, chunk, pool, threads,
                new ChunkedJob.Scratch(), seed);
        float[] out = new float[Math.toIntExact(job.numel())];
        ChunkKernel kernel = method.prepare(job);
        job.map(kernel, (offset, values, n) -> System.arraycopy(values, 0, out, (int) offset, n));
        return new Run(out, job.prunedFraction());
    }
}
