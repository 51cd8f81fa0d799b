package org.mergelab.merge;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Runs one tensor's merge over fixed-size chunks: reductions first (when the method asks), then the elementwise pass.
 * Chunks run on the engine's pool; every chunk reads its slice of each input into per-thread scratch arrays, so memory
 * stays at a few chunks per thread whatever the tensor size.
 */
final class ChunkedJob implements TensorJob {
    private final String name;
    private final long[] shape;
    private final long numel;
    private final List<TensorSource> sources;
    private final int baseIndex;
    private final ResolvedParams params;
    private final int chunk;
    private final ExecutorService pool;
    private final int threads;
    private final Scratch scratch;
    private final long seed;

    /** Rows up to this many elements are never split across chunks. */
    static final int MAX_ROW = 1 << 24;

    ChunkedJob(String name, long[] shape, List<TensorSource> sources, int baseIndex, ResolvedParams params,
            int chunk, ExecutorService pool, int threads, Scratch scratch, long seed) {
        this.name = name;
        this.shape = shape.clone();
        this.numel = org.mergelab.io.TensorInfo.numel(shape);
        this.sources = sources;
        this.baseIndex = baseIndex;
        this.params = params;
        this.chunk = rowAligned(shape, chunk);
        this.seed = seed;
        this.pool = pool;
        this.threads = threads;
        this.scratch = scratch;
    }

    @Override
    public String tensorName() {
        return name;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public long numel() {
        return numel;
    }

    @Override
    public int inputCount() {
        return sources.size();
    }

    @Override
    public int baseIndex() {
        return baseIndex;
    }

    @Override
    public ResolvedParams params() {
        return params;
    }

    @Override
    public long seed() {
        return seed;
    }

    /** The chunk length: a whole number of rows when rows are at most {@link #MAX_ROW} long. */
    static int rowAligned(long[] shape, int chunk) {
        long numel = org.mergelab.io.TensorInfo.numel(shape);
        long row = shape.length >= 2 ? shape[shape.length - 1] : numel;
        if (row <= 0 || row > MAX_ROW) {
            return chunk;
        }
        return (int) (Math.max(1, chunk / row) * row);
    }

    private int chunkCount() {
        return (int) ((numel + chunk - 1) / chunk);
    }

    /**
     * Reads the inputs of chunk {@code c}; returns the scratch rows (the last one is free for output). Each input's
     * largest magnitude bits go to {@code largest} when given.
     */
    private float[][] load(int c, int[] largest) {
        float[][] rows = scratch.rows(sources.size() + 1, chunk);
        long offset = (long) c * chunk;
        int n = (int) Math.min(chunk, numel - offset);
        for (int i = 0; i < sources.size(); i++) {
            int m = sources.get(i).read(offset, rows[i], n);
            if (largest != null) {
                largest[i] = m;
            }
        }
        return rows;
    }

    private float[][] inputsOf(float[][] rows) {
        float[][] in = new float[sources.size()][];
        System.arraycopy(rows, 0, in, 0, in.length);
        return in;
    }

    @Override
    public <S> S reduce(ChunkReducer<S> reducer) {
        int chunks = chunkCount();
        S total = reducer.newState(0, (int) Math.min(Integer.MAX_VALUE, numel));
        MemorySegment[] bf16 = bf16Inputs();
        int wave = Math.max(1, threads * 8);
        for (int first = 0; first < chunks; first += wave) {
            int last = Math.min(chunks, first + wave);
            List<S> states = runAll(first, last, c -> {
                long offset = (long) c * chunk;
                int n = (int) Math.min(chunk, numel - offset);
                S s = reducer.newState(offset, n);
                if (bf16 == null || !reducer.accumulateBf16(s, offset, bf16, n)) {
                    reducer.accumulate(s, offset, inputsOf(load(c, null)), n);
                }
                return s;
            });
            for (S s : states) {
                reducer.combine(total, s);
            }
        }
        return total;
    }

    /** Every input's stored bf16 elements, or null unless all are bf16 read unchanged. */
    private MemorySegment[] bf16Inputs() {
        MemorySegment[] bf16 = new MemorySegment[sources.size()];
        for (int i = 0; i < bf16.length; i++) {
            bf16[i] = sources.get(i).bf16();
            if (bf16[i] == null) {
                return null;
            }
        }
        return bf16;
    }

    /** Runs {@code kernel} over every chunk and hands each output chunk to {@code sink}. */
    void map(ChunkKernel kernel, OutputChunkSink sink) {
        map(kernel, sink, null, null);
    }

    /**
     * As {@link #map(ChunkKernel, OutputChunkSink)}, also counting non-finite values in every input and output chunk
     * into {@code nonFinite} (when given) and running {@code observer} over each chunk's inputs plus its output (as the
     * last row); returns the observer's combined state, or null without one.
     */
    <S> S map(ChunkKernel kernel, OutputChunkSink sink, ChunkReducer<S> observer, NonFiniteCounter nonFinite) {
        MemorySegment[] bf16 = observer == null ? bf16Inputs() : null; // an observer reads the decoded inputs
        int k = sources.size();
        List<S> states = runAll(0, chunkCount(), c -> {
            long offset = (long) c * chunk;
            int n = (int) Math.min(chunk, numel - offset);
            int[] largest = scratch.largest(k);
            float[] out = scratch.rows(k + 1, chunk)[k];
            float[][] in = null;
            if (bf16 != null && kernel.applyBf16(offset, bf16, out, n, largest)) {
                if (nonFinite != null && NonFiniteCounter.anyInputNonFinite(largest, k)) {
                    in = inputsOf(load(c, largest)); // rare: count them in the decoded chunk
                    nonFinite.countInputs(in, largest, n);
                }
            } else {
                in = inputsOf(load(c, largest));
                if (nonFinite != null) {
                    nonFinite.countInputs(in, largest, n);
                }
                kernel.apply(offset, in, out, n);
            }
            int largestOut = sink.accept(offset, out, n);
            if (nonFinite != null) {
                nonFinite.countOutput(out, largestOut, n);
            }
            if (observer == null) {
                return null;
            }
            float[][] inAndOut = java.util.Arrays.copyOf(in, in.length + 1);
            inAndOut[in.length] = out;
            S s = observer.newState(offset, n);
            observer.accumulate(s, offset, inAndOut, n);
            return s;
        });
        if (observer == null) {
            return null;
        }
        S total = observer.newState(0, (int) Math.min(Integer.MAX_VALUE, numel));
        states.forEach(s -> observer.combine(total, s));
        return total;
    }

    private final java.util.concurrent.atomic.LongAdder pruned = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder prunable = new java.util.concurrent.atomic.LongAdder();

    @Override
    public void countPruned(long zeroed, long considered) {
        pruned.add(zeroed);
        prunable.add(considered);
    }

    /** The fraction of task-vector entries the method reported as zeroed, or NaN if it reported none. */
    double prunedFraction() {
        long total = prunable.sum();
        return total == 0 ? Double.NaN : (double) pruned.sum() / total;
    }

    /**
     * Per-thread chunk buffers (k input rows plus one output row), kept by the engine across tensors so a merge
     * allocates them once per worker instead of once per tensor.
     */
    static final class Scratch {
        private final ThreadLocal<float[][]> rows = new ThreadLocal<>();
        private final ThreadLocal<int[]> largest = new ThreadLocal<>();

        int[] largest(int count) {
            int[] m = largest.get();
            if (m == null || m.length < count) {
                m = new int[count];
                largest.set(m);
            }
            return m;
        }

        float[][] rows(int count, int length) {
            float[][] r = rows.get();
            if (r == null || r.length < count || r[0].length < length) {
                r = new float[count][length];
                rows.set(r);
            }
            return r;
        }
    }

    interface OutputChunkSink {
        /** Takes one merged chunk; returns its largest magnitude bits ({@link TensorSink#write}). */
        int accept(long offset, float[] values, int length);
    }

    private interface ChunkTask<T> {
        T run(int chunkIndex);
    }

    /**
     * Runs chunks {@code [first, last)} and returns their results in chunk order. Each worker takes the next chunk
     * from a shared counter: one task per worker rather than per chunk keeps scheduling off the profile when chunks
     * are small (cache-sized) and many.
     */
    private <T> List<T> runAll(int first, int last, ChunkTask<T> task) {
        int count = last - first;
        List<T> results = new ArrayList<>(count);
        if (count == 1 || pool == null) {
            for (int c = first; c < last; c++) {
                results.add(task.run(c));
            }
            return results;
        }
        Object[] out = new Object[count];
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger(first);
        java.util.concurrent.atomic.AtomicBoolean failed = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable worker = () -> {
            for (int c; !failed.get() && (c = next.getAndIncrement()) < last; ) {
                try {
                    out[c - first] = task.run(c);
                } catch (RuntimeException | Error e) {
                    failed.set(true);
                    throw e;
                }
            }
        };
        int workers = Math.min(threads, count);
        List<Future<?>> futures = new ArrayList<>(workers);
        for (int w = 0; w < workers; w++) {
            futures.add(pool.submit(worker));
        }
        try {
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            failed.set(true);
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            failed.set(true);
            futures.forEach(f -> f.cancel(true));
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
        for (Object r : out) {
            @SuppressWarnings("unchecked")
            T t = (T) r;
            results.add(t);
        }
        return results;
    }
}
