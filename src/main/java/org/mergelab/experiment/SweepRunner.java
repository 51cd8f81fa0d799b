package org.mergelab.experiment;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.mergelab.BadInputException;
import org.mergelab.Version;
import org.mergelab.eval.LlamaConfig;
import org.mergelab.eval.OrtRuntime;
import org.mergelab.eval.Task;
import org.mergelab.eval.Weights;
import org.mergelab.io.ModelFolder;

import com.fasterxml.jackson.databind.JsonNode;

import ai.onnxruntime.OrtException;

/**
 * Runs a planned sweep: every cell not yet stored is merged (in memory, or written to disk with
 * {@link Options#materialize()}), evaluated on each split it lacks, and stored as one row per split. Cells whose rows
 * are all stored are skipped, so a rerun after a kill resumes where it stopped; {@link Options#force()} reruns all.
 */
public final class SweepRunner {
    /** The methods that interpolate from the base (t = 0) to one other model (t = 1). */
    private static final Set<String> INTERPOLATIONS = Set.of(ExperimentSpec.Merge.LERP, "slerp", "nlerp", "delerp");

    /**
     * @param resultsDir where the rows, the manifest and the evaluation cache go
     * @param force run every cell again, without reading stored rows or cached task results
     * @param materialize write each merge to disk and evaluate it from there
     * @param keepDir with {@code materialize}: where the merged models stay; null deletes each after its cell
     * @param jobs cells at once; each holds its merged model (output dtype) plus its ONNX Runtime session (float32)
     * @param threads cores for the whole sweep, shared evenly by the jobs (merge workers and ORT threads)
     * @param batchSize sequences per forward pass (never changes a score)
     */
    public record Options(Path resultsDir, boolean force, boolean materialize, Path keepDir, int jobs, int threads,
            int batchSize) {}

    /**
     * @param ran cells run now
     * @param skipped cells whose rows were all stored already
     * @param rows rows in the results file
     */
    public record Summary(Path resultsDir, int cells, int ran, int skipped, int rows, double seconds) {}

    private final SweepPlan plan;
    private final Options options;
    private final SweepListener listener;

    public SweepRunner(SweepPlan plan, Options options, SweepListener listener) {
        if (options.jobs() < 1 || options.threads() < 1 || options.batchSize() < 1) {
            throw new IllegalArgumentException("jobs, threads and batch size must be >= 1");
        }
        this.plan = plan;
        this.options = options;
        this.listener = listener;
    }

    /** {@code reports/<experiment>/results}, relative to the current directory. */
    public static Path defaultResultsDir(ExperimentSpec spec) {
        return Path.of("reports", spec.name(), "results");
    }

    /**
     * The splits each cell still lacks, for the cells that lack any, given the rows stored in {@code resultsDir}
     * (read only); stored rows made with other tasks are an error.
     */
    public static Map<Cell, List<String>> pending(SweepPlan plan, Path resultsDir) throws IOException {
        return pending(plan, ResultStore.read(resultsDir), resultsDir);
    }

    private static Map<Cell, List<String>> pending(SweepPlan plan, Map<ResultStore.Key, JsonNode> stored,
            Path resultsDir) {
        Map<Cell, List<String>> todo = new LinkedHashMap<>();
        for (Cell cell : plan.cells()) {
            List<String> missing = new ArrayList<>();
            for (String split : plan.spec().tasks().splits()) {
                JsonNode row = stored.get(new ResultStore.Key(cell.id(), split));
                if (row == null) {
                    missing.add(split);
                } else {
                    checkSameTasks(plan, resultsDir, cell, split, row);
                }
            }
            if (!missing.isEmpty()) {
                todo.put(cell, missing);
            }
        }
        return todo;
    }

    /** A stored row counts only if it was made with the tasks this run would use. */
    private static void checkSameTasks(SweepPlan plan, Path resultsDir, Cell cell, String split, JsonNode row) {
        List<Task> tasks = plan.tasks().get(split);
        JsonNode stored = row.path("tasks");
        String problem = stored.size() != tasks.size() ? stored.size() + " tasks, now " + tasks.size() : null;
        for (int i = 0; i < tasks.size() && problem == null; i++) {
            Task t = tasks.get(i);
            JsonNode s = stored.path(t.name());
            if (s.isMissingNode()) {
                problem = "no task '" + t.name() + "'";
            } else if (!s.path("task_hash").asText().equals(t.hash())) {
                problem = "task '" + t.name() + "' has changed";
            } else if (s.path("items").size() != t.items().size()) {
                problem = "task '" + t.name() + "' had " + s.path("items").size() + " items, now " + t.items().size();
            }
        }
        if (problem != null) {
            throw new BadInputException(resultsDir.resolve(ResultStore.ROWS) + ": the row of cell '" + cell.label()
                    + "' on split " + split + " was made with other tasks (" + problem + "); rerun with --force, or"
                    + " choose another --results folder");
        }
    }

    public Summary run() throws IOException, InterruptedException {
        long started = System.nanoTime();
        String startedAt = now();
        String git = ProcessFacts.gitCommit();
        try (ResultStore store = ResultStore.open(options.resultsDir(), options.force(), listener::note)) {
            Map<Cell, List<String>> todo = pending(plan, store.rows(), store.dir());
            store.writeManifest(manifest(store, startedAt, null, git));
            listener.starting(plan.cells().size(), todo.size());
            if (!todo.isEmpty()) {
                runAll(todo, store, startedAt, git);
            }
            store.writeManifest(manifest(store, startedAt, now(), git));
            return new Summary(store.dir(), plan.cells().size(), todo.size(), plan.cells().size() - todo.size(),
                    store.size(), (System.nanoTime() - started) / 1e9);
        }
    }

    /** Runs the cells on {@code jobs} threads, storing each cell's rows as it finishes. */
    private void runAll(Map<Cell, List<String>> todo, ResultStore store, String startedAt, String git)
            throws IOException, InterruptedException {
        int perJob = Math.max(1, options.threads() / options.jobs());
        CellEvaluator evaluator = new CellEvaluator(OrtRuntime.create(perJob),
                new EvalCache(store.dir().resolve("cache"), !options.force()), options.batchSize());
        MergeStrategy merges = options.materialize()
                ? new MaterializedMerge(plan, perJob, options.keepDir(), listener::note)
                : new InMemoryMerge(plan, perJob);
        ExecutorService pool = Executors.newFixedThreadPool(options.jobs(), r -> {
            Thread t = new Thread(r, "sweep-cell");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> running = new ArrayList<>();
            todo.forEach((cell, splits) -> running.add(pool.submit(() -> {
                List<ResultRow> rows = runCell(cell, splits, merges, evaluator, git);
                synchronized (store) {
                    for (ResultRow row : rows) {
                        store.append(row);
                    }
                    store.writeManifest(manifest(store, startedAt, null, git));
                    listener.cellDone(cell, rows);
                }
                return null;
            })));
            for (Future<?> f : running) {
                await(f);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Waits for a cell; its failure ends the sweep (rows stored so far stay, and a rerun resumes). */
    private static void await(Future<?> f) throws IOException, InterruptedException {
        try {
            f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            switch (c) {
                case IOException io -> throw io;
                case RuntimeException re -> throw re;
                case Error err -> throw err;
                case OrtException ort -> throw new IllegalStateException("ONNX Runtime: " + ort.getMessage(), ort);
                default -> throw new IllegalStateException(c);
            }
        }
    }

    private List<ResultRow> runCell(Cell cell, List<String> splits, MergeStrategy merges, CellEvaluator evaluator,
            String git) throws IOException, OrtException {
        Map<String, List<Task>> tasks = new LinkedHashMap<>();
        splits.forEach(s -> tasks.put(s, plan.tasks().get(s)));
        try (CellModel model = cell.isReference() ? reference(cell) : merges.merge(cell)) {
            List<ResultRow> rows = rows(cell, model, evaluator.evaluate(model, tasks), git);
            NormSummary.NonFiniteCounts nonFinite = rows.getFirst().norms() == null ? null
                    : rows.getFirst().norms().nonfinite();
            if (nonFinite != null && nonFinite.any()) {
                listener.note("warning: cell '" + cell.label() + "': the merge read " + nonFinite.inputs()
                        + " NaN/Inf input values and wrote " + nonFinite.outputs() + " in " + nonFinite.tensors()
                        + " tensors; its rows say so under norms.nonfinite");
            }
            return rows;
        } catch (BadInputException e) {
            throw new BadInputException("cell '" + cell.label() + "': " + e.getMessage(), e);
        }
    }

    /** The cell's rows, one per split evaluated. */
    private List<ResultRow> rows(Cell cell, CellModel model, CellEvaluator.Evaluation ev, String git) {
        NormSummary norms = cell.isReference() ? null : NormSummary.of(model.stats(), cell.config().baseInput(),
                interpolationT(cell));
        Long rss = ProcessFacts.peakRssMb();
        Map<String, String> hashes = new LinkedHashMap<>();
        List<String> used = cell.isReference() ? List.of(cell.model()) : cell.config().inputs();
        used.forEach(a -> hashes.put(a, plan.modelHashes().get(a)));
        ExperimentSpec spec = plan.spec();
        var provenance = new ResultRow.Provenance(Version.get(), git, spec.hash(), hashes, ev.identity(), now());
        List<ResultRow> rows = new ArrayList<>();
        ev.splits().forEach((split, s) -> rows.add(new ResultRow(cell.id(), spec.name(), cell.kind().key(),
                cell.label(), cell.method(), cell.model(), cell.base(), cell.models(), cell.params(), cell.seed(),
                split, s.tasks(), norms, new ResultRow.Timing(ResultRow.Timing.round(model.mergeSeconds()),
                        ResultRow.Timing.round(ev.loadSeconds()), ResultRow.Timing.round(s.seconds()), rss,
                        s.cached()), provenance)));
        return rows;
    }

    /** The {@code t} of a two-model interpolation from the base, else null. */
    private static Double interpolationT(Cell cell) {
        return INTERPOLATIONS.contains(cell.method()) && cell.params().get("t") instanceof Number n
                ? n.doubleValue() : null;
    }

    /** A reference model: the folder as it is. */
    private CellModel reference(Cell cell) {
        ModelFolder folder = plan.folder(cell.model());
        return new CellModel(Weights.of(folder), LlamaConfig.of(folder), plan.tokenizerDir(folder.dir()), List.of(),
                0, () -> {});
    }

    private Manifest manifest(ResultStore store, String started, String finished, String git) {
        List<Manifest.PlannedCell> cells = new ArrayList<>();
        int done = 0;
        for (Cell c : plan.cells()) {
            boolean complete = plan.spec().tasks().splits().stream().allMatch(s -> store.has(c.id(), s));
            done += complete ? 1 : 0;
            cells.add(new Manifest.PlannedCell(c.id(), c.label(), complete));
        }
        ExperimentSpec spec = plan.spec();
        return new Manifest(spec.name(), spec.file().toString(), spec.hash(), Version.get(), git, started, finished,
                spec.tasks().splits(), plan.cells().size(), done, store.size(), cells);
    }

    private static String now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
