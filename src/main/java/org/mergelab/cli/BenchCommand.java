package org.mergelab.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.mergelab.bench.BenchReport;
import org.mergelab.bench.MergeBenchmark;
import org.mergelab.io.SafetensorsFile;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure merge speed against the machine's I/O floor (bench merge).")
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "WHAT", description = "merge")
    String what;

    @Option(names = "--size", converter = Sizes.class, defaultValue = "1G", paramLabel = "SIZE",
            description = "size of each synthetic model (default ${DEFAULT-VALUE})")
    long size;

    @Option(names = "--methods", split = ",", defaultValue = "linear,slerp,delerp",
            description = "methods to time (default ${DEFAULT-VALUE})")
    List<String> methods;

    @Option(names = "--dir", paramLabel = "DIR", description = "where models are cached (default: a temp folder)")
    Path dir;

    @Option(names = "--reps", defaultValue = "3", description = "repetitions (median reported)")
    int reps;

    @Option(names = "--threads", defaultValue = "0", description = "only this thread count (default: 1 and all)")
    int threads;

    @Option(names = "--report", paramLabel = "FILE.md", defaultValue = "reports/bench/merge.md",
            description = "where the Markdown table goes (default ${DEFAULT-VALUE})")
    Path report;

    @Option(names = "--json", description = "print JSON instead of the table")
    boolean json;

    @Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        if (!what.equals("merge")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "bench '" + what + "' is not available; expected: merge");
        }
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
}
