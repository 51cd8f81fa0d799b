package org.mergelab.merge;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.mergelab.io.ModelTensor;

/**
 * Runs a {@link MergePlan}: tensors one after another in storage order (so reads stream through each shard), each
 * tensor's chunks in parallel on {@code threads} workers. Memory is a few chunks per worker plus the method's
 * per-vector statistics, whatever the model size.
 */
public final class MergeEngine implements AutoCloseable {
    /** Elements per chunk: 1 MiB of float32 per input, large enough to amortise a task, small enough for cache. */
    public static final int DEFAULT_CHUNK = 1 << 18;

    private final int threads;
    private final int chunk;
    private final ExecutorService pool;
    private final ChunkedJob.Scratch scratch = new ChunkedJob.Scratch();
    private final long seed;

    /** @param seed what random methods draw from ({@link CounterRandom}) */
    public MergeEngine(int threads, int chunk, long seed) {
        if (threads < 1 || chunk < 1) {
            throw new IllegalArgumentException("threads and chunk must be >= 1");
        }
        this.seed = seed;
        this.threads = threads;
        this.chunk = chunk;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "merge-worker");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Merges at least this large start compiling the bf16 codec's Vector API kernels at once, on a background thread
     * while the first tensors go through the scalar kernels (same bits); smaller ones stay scalar unless the process
     * does enough of them ({@link org.mergelab.io.FloatCodec#warmUp}). Profiled on a 0.5 GB merge, blocking on this
     * warm-up took 1.4–2.4 s of a 5–7 s process.
     */
    private static final long WARM_UP_ABOVE = 256L << 20;

    /** Input tensors at least this large are unmapped from the process once merged. */
    private static final long UNMAP_ABOVE = 1 << 20;

    /** How far the prefetcher may read ahead of the engine. */
    private static final long PREFETCH_WINDOW = 256L << 20;

    /** Starts the codec warm-up for a large plan, sampling a real input (the mapped-segment kind it will decode). */
    private static void warmUpFor(MergePlan plan) {
        if (plan.outputBytes() < WARM_UP_ABOVE) {
            return;
        }
        for (TensorTask t : plan.tasks()) {
            if (!t.isCopy()) {
                org.mergelab.io.FloatCodec.warmUpInBackground(t.inputs().get(0).data());
                return;
            }
        }
    }

    /**
     * What a run produced besides the tensors.
     *
     * @param stats one row per output tensor, in output order; empty unless asked for
     */
    public record Result(List<TensorStats> stats) {}

    /** Merges every tensor of {@code plan} into {@code sink}, gathering norm statistics when asked. */
    public Result run(MergePlan plan, TensorSink sink, Progress progress, boolean collectStats) {
        List<TensorStats> stats = new ArrayList<>();
        try (Prefetcher prefetcher = new Prefetcher(plan, PREFETCH_WINDOW)) {
            warmUpFor(plan);
            progress.start(plan.outputBytes(), plan.tasks().size());
            for (int i = 0; i < plan.tasks().size(); i++) {
                TensorStats row = runTask(plan, i, sink, progress, collectStats);
                if (collectStats) {
                    stats.add(row);
                }
                TensorTask task = plan.tasks().get(i);
                List<ModelTensor> used = task.isCopy() ? List.of(task.copyFrom()) : task.inputs();
                long read = 0;
                for (ModelTensor in : used) {
                    read += in.info().byteSize();
                    // drop the pages from this process (they stay in the page cache): RSS then stays at a few
                    // tensors instead of growing with the model
                    if (in.info().byteSize() >= UNMAP_ABOVE) {
                        in.data().unload();
                    }
                }
                prefetcher.consumed(read);
            }
            return new Result(List.copyOf(stats));
        }
    }

    private TensorStats runTask(MergePlan plan, int i, TensorSink sink, Progress progress, boolean collectStats) {
        TensorTask task = plan.tasks().get(i);
        if (task.isCopy()) {
            sink.copy(i, task.copyFrom().data());
            progress.advance(task.out().byteSize());
            return StatsCollector.copied(task);
        }
        List<TensorSource> sources = new ArrayList<>();
        for (var input : task.inputs()) {
            sources.add(TensorSource.of(input, plan.config().dtype(), task.out().shape()));
        }
        ChunkedJob job = new ChunkedJob(task.out().name(), task.out().shape(), sources, task.baseIndex(),
                task.params(), chunk, pool, threads, scratch, seed);
        ChunkKernel kernel = plan.method().prepare(job);
        int width = task.out().dtype().width();
        StatsCollector collector = collectStats ? new StatsCollector(sources.size(), task.baseIndex()) : null;
        double[] sums = job.map(kernel, (offset, values, n) -> {
            sink.write(i, offset, values, n);
            progress.advance((long) n * width);
        }, collector);
        if (collector == null) {
            return null;
        }
        List<String> names = task.inputs().stream()
                .map(in -> in.file().path().toAbsolutePath().getParent().getFileName().toString()).toList();
        return collector.finish(task, sums, names, job.prunedFraction());
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
