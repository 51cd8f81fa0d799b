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

    /** A job over tensors held in memory, for testing what a method's reductions compute. */
    public static TensorJob job(ResolvedParams params, int baseIndex, long[] shape, List<float[]> inputs, int chunk,
            ExecutorService pool, int threads, long seed, String tensorName) {
        List<TensorSource> sources = new ArrayList<>();
        for (float[] x : inputs) {
            sources.add(TensorSource.of(x));
        }
        return new ChunkedJob(tensorName, shape, sources, baseIndex, params, chunk, pool, threads,
                new ChunkedJob.Scratch(), seed);
    }

    /**
     * As {@link #job}, the inputs stored as bf16 (each rounded to it) and read as a model file's are: decoded per
     * chunk, or straight from memory by the reductions and kernels that can.
     */
    public static TensorJob jobBf16(ResolvedParams params, int baseIndex, long[] shape, List<float[]> inputs,
            int chunk, ExecutorService pool, int threads, long seed, String tensorName) {
        List<TensorSource> sources = new ArrayList<>();
        for (float[] x : inputs) {
            java.lang.foreign.MemorySegment stored = java.lang.foreign.Arena.ofAuto().allocate(2L * x.length, 64);
            org.mergelab.io.FloatCodec.encode(org.mergelab.io.DType.BF16, x, x.length, stored);
            sources.add(new TensorSource() {
                @Override
                public long numel() {
                    return x.length;
                }

                @Override
                public int read(long from, float[] dst, int n) {
                    return org.mergelab.io.FloatCodec.decode(org.mergelab.io.DType.BF16, stored, from, dst, n);
                }

                @Override
                public java.lang.foreign.MemorySegment bf16() {
                    return stored;
                }
            });
        }
        return new ChunkedJob(tensorName, shape, sources, baseIndex, params, chunk, pool, threads,
                new ChunkedJob.Scratch(), seed);
    }

    /** The flat offsets of the chunks {@link #job} cuts a tensor into. */
    public static long[] chunkOffsets(long[] shape, int chunk) {
        long numel = org.mergelab.io.TensorInfo.numel(shape);
        int step = ChunkedJob.rowAligned(shape, chunk);
        long[] offsets = new long[(int) ((numel + step - 1) / step)];
        for (int c = 0; c < offsets.length; c++) {
            offsets[c] = (long) c * step;
        }
        return offsets;
    }

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
        job.map(kernel, (offset, values, n) -> {
            System.arraycopy(values, 0, out, (int) offset, n);
            return 0;
        });
        return new Run(out, job.prunedFraction());
    }
}
