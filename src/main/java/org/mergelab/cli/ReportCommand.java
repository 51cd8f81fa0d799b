package org.mergelab.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.mergelab.report.ReportSpec;
import org.mergelab.report.ReportSpecParser;
import org.mergelab.report.ReportWriter;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write a sweep's report (tables, plots, Markdown, HTML) from its results.jsonl and the"
                + " spec's report: section, without rerunning anything.")
final class ReportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SPEC", description = "the sweep spec (experiments/NAME.yaml)")
    Path specFile;

    @Option(names = "--results", paramLabel = "DIR",
            description = "folder holding results.jsonl, or the file itself (default: reports/<name>/results)")
    Path results;

    @Option(names = "--out", paramLabel = "DIR", description = "report folder (default: reports/<name>)")
    Path out;

    @Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        ReportSpec report = ReportSpecParser.parse(specFile);
        Path resultsDir = results != null ? results : ReportWriter.defaultResultsDir(report);
        Path outDir = out != null ? out : ReportWriter.defaultOutDir(report);
        Path jsonl = Files.isRegularFile(resultsDir) ? resultsDir : resultsDir.resolve("results.jsonl");
        List<Path> written = ReportWriter.write(report, jsonl, outDir);
        long plots = written.stream().filter(p -> p.toString().endsWith(".png")).count();
        long tables = written.stream().filter(p -> p.toString().endsWith(".csv")).count();
        spec.commandLine().getOut().printf("report %s (%d tables, %d plots as PNG and SVG, report.html)%n",
                outDir.resolve("report.md"), tables, plots);
        return Main.OK;
    }
}
