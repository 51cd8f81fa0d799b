package org.mergelab.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.mergelab.experiment.Cell;
import org.mergelab.experiment.ExperimentSpec;
import org.mergelab.experiment.ResultStore;
import org.mergelab.experiment.ResultRow;
import org.mergelab.experiment.SpecParser;
import org.mergelab.experiment.SweepListener;
import org.mergelab.experiment.SweepPlan;
import org.mergelab.experiment.SweepRunner;
import org.mergelab.experiment.TaskScores;
import org.mergelab.merge.Progress;
import org.mergelab.report.ReportSpec;
import org.mergelab.report.ReportSpecParser;
import org.mergelab.report.ReportWriter;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run an experiment: merge every cell of the spec's grid in memory, evaluate it and its reference"
                + " models on the spec's tasks, and store one result row per cell and split.")
final class SweepCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SPEC", description = "experiment spec (experiments/NAME.yaml)")
    Path specFile;

    @Option(names = "--results", paramLabel = "DIR",
            description = "results folder (default: reports/<experiment>/results)")
    Path results;

    @Option(names = "--force", description = "run every cell again, ignoring stored rows and cached task results")
    boolean force;

    @Option(names = "--resume", description = "run only the cells without stored rows (the default; a rerun after a"
            + " kill loses at most the cells in flight)")
    boolean resume;

    @Option(names = "--materialize", paramLabel = "DIR", arity = "0..1", fallbackValue = "",
            description = "write each merge to disk as 'mergelab merge' does and evaluate it from there; keep the"
                    + " models in DIR when given (else each goes to a temporary folder deleted after its cell);"
                    + " before SPEC, write --materialize=DIR")
    String materialize;

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "1",
            description = "cells at once (default ${DEFAULT-VALUE}); each holds its merged model and an ONNX Runtime"
                    + " session, about 2.5x the model's float32 size at the peak")
    int jobs;

    @Option(names = "--threads", paramLabel = "N", description = "cores for the whole sweep, shared by the jobs"
            + " (default: all)")
    Integer threads;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "8",
            description = "sequences per forward pass (default ${DEFAULT-VALUE}); never changes a score")
    int batchSize;

    @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto",
            description = "progress bar over cells: auto (on a terminal), always, never")
    String progress;

    @Option(names = "--dry-run", description = "check the spec and everything it names, list the cells, run nothing")
    boolean dryRun;

    @Option(names = "--report", paramLabel = "DIR",
            description = "where the report goes after the run (default: reports/<experiment>)")
    Path reportDir;

    @Option(names = "--no-report", description = "store results only; './mergelab report SPEC' renders them later")
    boolean noReport;

    @Option(names = "--quiet", description = "no line per cell; only the final summary")
    boolean quiet;

    @Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        int n = EvalCommand.threads(spec, threads);
        if (jobs < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--jobs must be >= 1");
        }
        if (batchSize < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--batch-size must be >= 1");
        }
        if (force && resume) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--force and --resume contradict each other");
        }
        TerminalProgress.Mode mode = ProgressOption.parse(spec, progress);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ExperimentSpec experiment = SpecParser.parse(specFile);
        ReportSpec layout = ReportSpecParser.parse(specFile); // a bad report section fails before the first cell
        Path resultsDir = results != null ? results : SweepRunner.defaultResultsDir(experiment);
        try (SweepPlan plan = SweepPlan.prepare(experiment, w -> err.println("mergelab: warning: " + w))) {
            if (dryRun) {
                return listCells(plan, resultsDir, out);
            }
            var options = new SweepRunner.Options(resultsDir, force, materialize != null,
                    materialize == null || materialize.isEmpty() ? null : Path.of(materialize), jobs, n, batchSize);
            SweepRunner.Summary s = new SweepRunner(plan, options, new Lines(out, err, mode, quiet)).run();
            out.printf(Locale.ROOT, "sweep %s: %d cells (%d run, %d already done), %d rows in %.1f s; results in %s%n",
                    experiment.name(), s.cells(), s.ran(), s.skipped(), s.rows(), s.seconds(), s.resultsDir());
            if (!noReport) {
                Path outDir = reportDir != null ? reportDir : ReportWriter.defaultOutDir(layout);
                List<Path> written = ReportWriter.write(layout, s.resultsDir().resolve(ResultStore.ROWS), outDir);
                out.printf(Locale.ROOT, "report: %s (%d files)%n", outDir.resolve("report.md"), written.size());
            }
            return Main.OK;
        }
    }

    private static int listCells(SweepPlan plan, Path resultsDir, PrintWriter out) throws java.io.IOException {
        Map<Cell, List<String>> todo = SweepRunner.pending(plan, resultsDir);
        for (Cell c : plan.cells()) {
            out.printf(Locale.ROOT, "%s  %-6s  %s%n", c.id(), todo.containsKey(c) ? "to run" : "done", c.label());
        }
        out.printf(Locale.ROOT, "dry run of %s: %d cells (%d to run) on splits %s; results would go to %s%n",
                plan.spec().name(), plan.cells().size(), todo.size(), plan.spec().tasks().splits(), resultsDir);
        return Main.OK;
    }

    /** A bar over cells, and a line per cell with its primary metrics. */
    private static final class Lines implements SweepListener {
        private final PrintWriter out;
        private final PrintWriter err;
        private final TerminalProgress.Mode mode;
        private final boolean quiet;
        private Progress bar = Progress.NONE;
        private int done;
        private int toRun;

        Lines(PrintWriter out, PrintWriter err, TerminalProgress.Mode mode, boolean quiet) {
            this.out = out;
            this.err = err;
            this.mode = mode;
            this.quiet = quiet;
        }

        @Override
        public void starting(int cells, int toRun) {
            this.toRun = toRun;
            if (toRun > 0) {
                bar = TerminalProgress.create(mode, "sweep", " cells", 1);
                bar.start(toRun, toRun);
            }
        }

        @Override
        public void cellDone(Cell cell, List<ResultRow> rows) {
            done++;
            if (!quiet) {
                StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "[%d/%d] %s", done, toRun,
                        cell.label()));
                int cached = 0;
                for (ResultRow r : rows) {
                    b.append("  ").append(r.split()).append(':');
                    r.tasks().forEach((name, t) -> b.append(' ').append(name).append(' ').append(t.primary())
                            .append('=').append(format(t)));
                    cached += r.timing().cachedTasks();
                }
                ResultRow first = rows.getFirst();
                double eval = rows.stream().mapToDouble(r -> r.timing().evalS()).sum() + first.timing().loadS();
                b.append(String.format(Locale.ROOT, "  (%smerge %.2f s, eval %.2f s)", cached > 0 ? cached
                        + " cached, " : "", first.timing().mergeS(), eval));
                out.println(b);
                out.flush();
            }
            bar.advance(1);
            if (done == toRun) {
                bar.close();
            }
        }

        @Override
        public void note(String message) {
            err.println("mergelab: " + message);
        }

        private static String format(TaskScores t) {
            Double v = t.metrics().get(t.primary()).value();
            return v == null ? "n/a" : String.format(Locale.ROOT, "%.4f", v);
        }
    }
}
