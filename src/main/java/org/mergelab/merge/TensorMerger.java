package org.mergelab.merge;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;

/**
 * Merges single tensors held in memory: the engine's chunked path without files. Used by tests and by callers that
 * already hold the tensors (evaluation of merged weights).
 */
public final class TensorMerger {
    private TensorMerger() {}

    /**
     * @param pool worker threads, or null to run on the calling thread
     * @param chunk elements per chunk (small values exercise chunk boundaries)
     */
    public static float[] merge(MergeMethod method, ResolvedParams params, int baseIndex, long[] shape,
            List<float[]> inputs, int chunk, ExecutorService pool, int threads) {
        return merge(method, params, baseIndex, shape, inputs, chunk, pool, threads, 42);
    }

    /** As above, with the seed random methods draw from. */
    public static float[] merge(MergeMethod method, ResolvedParams params, int baseIndex, long[] shape,
            List<float[]> inputs, int chunk, ExecutorService pool, int threads, long seed) {
        List<TensorSource> sources = new ArrayList<>();
        for (float[] x : inputs) {
            sources.add(TensorSource.of(x));
        }
        ChunkedJob job = new ChunkedJob("tensor", shape, sources, baseIndex, params, chunk, pool, threads,
                new ChunkedJob.Scratch(), seed);
        float[] out = new float[Math.toIntExact(job.numel())];
        ChunkKernel kernel = method.prepare(job);
        job.map(kernel, (offset, values, n) -> {
            System.arraycopy(values, 0, out, (int) offset, n);
            return 0;
        });
        return out;
    }
}
