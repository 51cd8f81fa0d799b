package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.report.ResultsFixture;

/** {@code mergelab report} end to end, and its one-line errors (exit 2). */
class ReportCliTest {
    @TempDir
    Path dir;

    @Test
    void writesTheReportFromResultsAndSpec() throws Exception {
        Path results = ResultsFixture.standard().write(dir.resolve("results")).getParent();
        Path spec = Files.writeString(dir.resolve("fixture.yaml"), ResultsFixture.SPEC);
        Path out = dir.resolve("out");
        CliRun run = CliRun.of("report", spec, "--results", results, "--out", out);
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().startsWith("report " + out.resolve("report.md") + " (6 tables, 13 plots"), run.out());
        assertTrue(Files.size(out.resolve("report.html")) > 100_000);
        // --results also takes the file itself
        CliRun again = CliRun.of("report", spec, "--results", results.resolve("results.jsonl"), "--out", out);
        assertEquals(0, again.code(), again.err());
    }

    @Test
    void missingResultsAreOneLineAndExitTwo() throws Exception {
        // default folders: reports/<name>/results relative to the working directory; nothing is there for this name
        Path spec = Files.writeString(dir.resolve("no-such-experiment-2f9c.yaml"), "references: [base]\n");
        CliRun run = CliRun.of("report", spec);
        assertEquals(2, run.code(), run.err());
        assertEquals("mergelab: reports/no-such-experiment-2f9c/results/results.jsonl: not found (run ./mergelab"
                + " sweep SPEC first, or pass --results DIR)\n", run.err());
        assertFalse(Files.exists(Path.of("reports/no-such-experiment-2f9c")));
    }

    @Test
    void aBadSpecIsOneLineNamingFileAndKey() throws Exception {
        Path results = ResultsFixture.standard().write(dir.resolve("results")).getParent();
        Path spec = Files.writeString(dir.resolve("bad.yaml"), "report:\n  columns:\n    - {name: a, task: k, transform: log}\n");
        CliRun run = CliRun.of("report", spec, "--results", results, "--out", dir.resolve("out"));
        assertEquals(2, run.code());
        assertEquals("mergelab: " + spec + ": report.columns[0].transform: unknown transform 'log'; expected none or"
                + " fluency\n", run.err());
        assertFalse(Files.exists(dir.resolve("out")));
    }
}
