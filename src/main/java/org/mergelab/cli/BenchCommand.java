package org.mergelab.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.mergelab.bench.BenchReport;
import org.mergelab.bench.EvalBenchReport;
import org.mergelab.bench.EvalBenchmark;
import org.mergelab.bench.MergeBenchmark;
import org.mergelab.io.SafetensorsFile;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure merge speed against the machine's I/O floor (bench merge).",
            "Measure evaluation speed: scoring, session creation, generation with and without the KV cache, per "
                    + "ONNX Runtime thread count (bench eval)."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "WHAT", description = "merge or eval")
    String what;

    @Option(names = "--size", converter = Sizes.class, defaultValue = "1G", paramLabel = "SIZE",
            description = "bench merge only: size of each synthetic model (default ${DEFAULT-VALUE})")
    long size;

    @Option(names = "--methods", split = ",", defaultValue = "linear,slerp,delerp",
            description = "bench merge only: methods to time (default ${DEFAULT-VALUE})")
    List<String> methods;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "bench merge only: where models are cached (default: a temp folder)")
    Path dir;

    @Option(names = "--reps", defaultValue = "3",
            description = "repetitions (median reported; default 3 for merge, 5 for eval)")
    int reps;

    @Option(names = "--threads", split = ",", paramLabel = "N",
            description = "merge: only this thread count; eval: the ONNX Runtime intra-op thread counts to compare "
                    + "(default: 1 and all cores)")
    List<Integer> threads;

    @Option(names = "--report", paramLabel = "FILE.md", defaultValue = "reports/bench/merge.md",
            description = "where the Markdown table goes (default ${DEFAULT-VALUE}, reports/bench/eval.md for eval)")
    Path report;

    @Option(names = "--model", paramLabel = "DIR", defaultValue = "benchmarks-data/zoo/instruct",
            description = "bench eval only: the model folder (default ${DEFAULT-VALUE})")
    Path model;

    @Option(names = "--batches", split = ",", paramLabel = "B", defaultValue = "1,4,16",
            description = "bench eval only: batch sizes, for scoring and generation (default ${DEFAULT-VALUE})")
    List<Integer> batches;

    @Option(names = "--seqs", split = ",", paramLabel = "S", defaultValue = "16,64,128",
            description = "bench eval only: scored sequence lengths in tokens (default ${DEFAULT-VALUE})")
    List<Integer> seqs;

    @Option(names = "--gen-tokens", split = ",", paramLabel = "N", defaultValue = "16,64",
            description = "bench eval only: new tokens per generation, after a 16-token prompt (default "
                    + "${DEFAULT-VALUE})")
    List<Integer> genTokens;

    @Option(names = "--json", description = "print JSON instead of the table")
    boolean json;

    @Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        if (what.equals("eval")) {
            return eval();
        }
        if (!what.equals("merge")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "bench '" + what + "' is not available; expected: merge or eval");
        }
        onlyFor("merge", "--model", "--batches", "--seqs", "--gen-tokens");
        if (threads != null && threads.size() > 1) {
            throw new ParameterException(spec.commandLine(), "bench merge takes one --threads count (or none for 1"
                    + " and all)");
        }
        int threads = this.threads == null ? 0 : this.threads.get(0);
        Path cache = dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"), "mergelab-bench-" + size);
        var err = spec.commandLine().getErr();
        var bench = new MergeBenchmark(new MergeBenchmark.Settings(size, methods, cache, Math.max(1, reps), threads),
                line -> err.println("mergelab: " + line));
        MergeBenchmark.Report r = bench.run();
        String table = BenchReport.markdown(r, "./mergelab bench merge --size " + Sizes.format(size).replace(" ", "")
                + " --methods " + String.join(",", methods) + " --reps " + reps);
        Files.createDirectories(report.toAbsolutePath().getParent());
        Files.writeString(report, table);
        spec.commandLine().getOut().println(json ? SafetensorsFile.jsonPretty(r) : table);
        return Main.OK;
    }

    private Integer eval() throws Exception {
        onlyFor("eval", "--size", "--methods", "--dir");
        int cores = Runtime.getRuntime().availableProcessors();
        List<Integer> counts = threads != null ? threads : cores > 1 ? List.of(1, cores) : List.of(1);
        positive("--threads", counts);
        positive("--batches", batches);
        positive("--seqs", seqs);
        positive("--gen-tokens", genTokens);
        int n = spec.commandLine().getParseResult().hasMatchedOption("--reps") ? reps : 5;
        positive("--reps", List.of(n));
        Path out = spec.commandLine().getParseResult().hasMatchedOption("--report") ? report
                : Path.of("reports/bench/eval.md");
        var err = spec.commandLine().getErr();
        var settings = new EvalBenchmark.Settings(model, distinct(batches), distinct(seqs), distinct(genTokens),
                distinct(counts), n, 0.1);
        EvalBenchmark.Report r = new EvalBenchmark(settings, line -> {
            if (verbose.on) {
                err.println("mergelab: " + line);
            }
        }).run();
        String table = EvalBenchReport.markdown(r, "./mergelab bench eval --model " + model + " --batches "
                + join(batches) + " --seqs " + join(seqs) + " --gen-tokens " + join(genTokens) + " --threads "
                + join(counts) + " --reps " + n);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, table);
        spec.commandLine().getOut().println(json ? SafetensorsFile.jsonPretty(r) : table);
        return Main.OK;
    }

    /** Rejects options given that belong to the other benchmark. */
    private void onlyFor(String what, String... others) {
        for (String o : others) {
            if (spec.commandLine().getParseResult().hasMatchedOption(o)) {
                throw new ParameterException(spec.commandLine(), o + " applies to 'bench "
                        + (what.equals("eval") ? "merge" : "eval") + "' only, not to 'bench " + what + "'");
            }
        }
    }

    private void positive(String option, List<Integer> values) {
        for (int v : values) {
            if (v < 1) {
                throw new ParameterException(spec.commandLine(), option + " must be >= 1 (got " + v + ")");
            }
        }
    }

    private static List<Integer> distinct(List<Integer> values) {
        return values.stream().distinct().toList();
    }

    private static String join(List<Integer> values) {
        return String.join(",", values.stream().map(String::valueOf).toList());
    }
}
