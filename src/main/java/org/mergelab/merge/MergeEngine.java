package org.mergelab.merge;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.mergelab.BadInputException;
import org.mergelab.io.DType;
import org.mergelab.io.ModelTensor;

/**
 * Runs a {@link MergePlan}: tensors one after another in storage order (so reads stream through each shard), each
 * tensor's chunks in parallel on {@code threads} workers. Memory is a few chunks per worker plus the method's
 * per-vector statistics, whatever the model size.
 */
public final class MergeEngine implements AutoCloseable {
    /**
     * Elements per chunk: 512 KiB of float32 per input. Measured on 1 GB bf16 merges, 2 cores: against 32K-element
     * chunks (which kept a chunk in L2) the merge phase took 10-30 % less (linear 0.78 -> 0.64 s, breadcrumbs 3.6 ->
     * 2.3 s), and fsync ~20 % less: fewer, larger positional writes cost less in the kernel than the cache misses.
     */
    public static final int DEFAULT_CHUNK = 1 << 17;

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
     * Merges at least this large run with the compiled Vector API kernels from their first chunk: they wait for the
     * codec's warm-up (started at process start by {@link #warmUpKernelsInBackground}, so mostly done while the
     * config was read and planned). Smaller merges start at once on the scalar twins (same bits). Measured on a 1 GB
     * linear merge, 2 cores: waiting for a warm-up that overlapped the start beat running the scalar twins beside a
     * background warm-up (which competes with the workers for the cores) by ~10 %, and ~25 % for DeLERP.
     */
    private static final long WARM_UP_ABOVE = 256L << 20;

    /**
     * Merges at least this large also start compiling the float64 dots' kernels ({@link Reductions}) when the method
     * takes dots or the merge collects norm statistics; smaller ones run the dots' bit-identical scalar twins unless
     * they do enough of them to start the compile themselves. On 2 cores that compile keeps the warm-up thread busy for
     * 1.1-1.4 s of a core while the merge runs, and the scalar twins cost ~0.25 s more per GB of each input: 1 GB
     * DeLERP and slerp took 1.6-1.9 s without the compile against 1.9-2.5 s with it (3 alternating pairs each), while
     * 4 GB ones on one thread took 4.1-4.5 s without it against 3.2-3.5 s with it (benchmark medians).
     */
    private static final long REDUCTIONS_WARM_UP_ABOVE = 2L << 30;

    /** Input tensors at least this large are unmapped from the process once merged. */
    private static final long UNMAP_ABOVE = 1 << 20;

    /** How far the prefetcher may read ahead of the engine. */
    private static final long PREFETCH_WINDOW = 256L << 20;

    /**
     * Starts compiling the bf16 codec's Vector API kernels on a background thread; a CLI that is about to merge calls
     * this first thing, so the compile overlaps start-up and planning.
     */
    public static void warmUpKernelsInBackground() {
        org.mergelab.io.FloatCodec.warmUpInBackground();
    }

    /** Waits for the codec warm-up when the plan is large enough to profit; returns the seconds waited. */
    private static double warmUpFor(MergePlan plan, boolean collectStats) {
        if (plan.outputBytes() < WARM_UP_ABOVE) {
            return 0;
        }
        long start = System.nanoTime();
        warmUpKernelsInBackground();
        if (plan.outputBytes() >= REDUCTIONS_WARM_UP_ABOVE && (plan.method().usesReductions() || collectStats)) {
            if (!collectStats && plan.readsStoredBf16()) {
                Reductions.warmUpBf16InBackground(); // its Gram passes read stored bf16 only
            } else {
                Reductions.warmUpInBackground();
            }
        }
        org.mergelab.io.FloatCodec.warmUp(); // runs it, or waits for the background one to finish
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * What a run produced besides the tensors.
     *
     * @param warmUpSeconds time spent waiting for the kernels to compile (inputs were already being read meanwhile)
     * @param stats one row per output tensor, in output order; empty unless asked for
     * @param nonFinite the tensors whose inputs or output held NaN or infinite values, in output order
     */
    public record Result(double warmUpSeconds, List<TensorStats> stats, List<NonFiniteTensor> nonFinite) {}

    /** Merges every tensor of {@code plan} into {@code sink}, gathering norm statistics when asked. */
    public Result run(MergePlan plan, TensorSink sink, Progress progress, boolean collectStats) {
        return run(plan, sink, progress, collectStats, false);
    }

    /**
     * As {@link #run(MergePlan, TensorSink, Progress, boolean)}; with {@code strict}, the first tensor whose inputs or
     * output hold a NaN or an infinity ends the merge with a {@link BadInputException} naming it and its counts, once
     * that tensor's pass is done (so the counts are whole); nothing after it is merged.
     */
    public Result run(MergePlan plan, TensorSink sink, Progress progress, boolean collectStats, boolean strict) {
        List<TensorStats> stats = new ArrayList<>();
        List<NonFiniteTensor> nonFinite = new ArrayList<>();
        try (Prefetcher prefetcher = new Prefetcher(plan, PREFETCH_WINDOW)) {
            double warmUp = warmUpFor(plan, collectStats);
            progress.start(plan.outputBytes(), plan.tasks().size());
            for (int i = 0; i < plan.tasks().size(); i++) {
                TensorStats row = runTask(plan, i, sink, progress, collectStats, strict, nonFinite);
                if (collectStats) {
                    stats.add(row);
                }
                TensorTask task = plan.tasks().get(i);
                List<ModelTensor> used = task.isCopy() ? List.of(task.copyFrom()) : task.inputs();
                long read = 0;
                List<MemorySegment> unload = new ArrayList<>();
                for (ModelTensor in : used) {
                    read += in.info().byteSize();
                    // drop the pages from this process (they stay in the page cache): RSS then stays at a few
                    // tensors instead of growing with the model
                    if (in.info().byteSize() >= UNMAP_ABOVE) {
                        unload.add(in.data());
                    }
                }
                prefetcher.consumed(read, unload);
            }
            return new Result(warmUp, List.copyOf(stats), List.copyOf(nonFinite));
        }
    }

    private TensorStats runTask(MergePlan plan, int i, TensorSink sink, Progress progress, boolean collectStats,
            boolean strict, List<NonFiniteTensor> nonFinite) {
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
        NonFiniteCounter counter = new NonFiniteCounter(sources.size(), task.out().dtype());
        double[] sums = job.map(kernel, (offset, values, n) -> {
            int largest = sink.write(i, offset, values, n);
            progress.advance((long) n * width);
            return largest;
        }, collector, counter);
        List<String> names = task.inputs().stream()
                .map(in -> in.file().path().toAbsolutePath().getParent().getFileName().toString()).toList();
        NonFiniteTensor found = nonFiniteOf(task, names, counter);
        if (found != null) {
            if (strict) {
                throw strictFailure(plan, task, found);
            }
            nonFinite.add(found);
        }
        if (collector == null) {
            return null;
        }
        return collector.finish(task, sums, names, job.prunedFraction(), counter.inputs(), counter.output());
    }

    /** What {@code counter} found in {@code task}, or null when every value was finite. */
    private static NonFiniteTensor nonFiniteOf(TensorTask task, List<String> names, NonFiniteCounter counter) {
        List<NonFinite> counts = counter.inputs();
        List<NonFiniteTensor.Input> affected = new ArrayList<>();
        for (int j = 0; j < counts.size(); j++) {
            if (counts.get(j).any()) {
                affected.add(new NonFiniteTensor.Input(j, names.get(j), task.inputs().get(j).file().path(),
                        counts.get(j)));
            }
        }
        if (affected.isEmpty() && !counter.output().any()) {
            return null;
        }
        return new NonFiniteTensor(task.out().name(), affected, counter.output());
    }

    /**
     * The {@code --strict} error: it names the first input file holding non-finite values (the input is bad), else the
     * config (the merge overflowed the output dtype: the weights or {@code out_dtype} are the problem).
     */
    private static BadInputException strictFailure(MergePlan plan, TensorTask task, NonFiniteTensor found) {
        if (!found.inputs().isEmpty()) {
            NonFiniteTensor.Input first = found.inputs().getFirst();
            StringBuilder also = new StringBuilder();
            found.inputs().stream().skip(1).forEach(in -> also.append("; also model ").append(in.model())
                    .append(" (").append(in.file()).append("): ").append(in.count()));
            DType stored = task.inputs().get(first.index()).dtype();
            DType loaded = plan.config().dtype();
            // rounding to the config's dtype can itself overflow (an f32 value above 65504 read as float16)
            String readAs = loaded != null && loaded != stored && loaded != DType.F32
                    ? " when read as " + loaded.torchName() + " (the config's dtype)" : "";
            return new BadInputException(first.file() + ": tensor '" + task.out().name() + "' of model "
                    + first.model() + " holds " + first.count() + readAs + " (of " + task.out().numel()
                    + " values merged)" + also + "; --strict refuses non-finite inputs");
        }
        return new BadInputException(plan.config().file() + ": merging tensor '" + task.out().name() + "' gives "
                + found.output() + " as " + task.out().dtype().torchName() + " (overflow: check the weights and"
                + " out_dtype); --strict refuses non-finite outputs");
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
