package org.mergelab.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.BadInputException;

/** The report folder written from the standard sweep fixture: files, plots, tables, HTML, determinism. */
class ReportWriterTest {
    @TempDir
    Path dir;
    Path spec;
    Path results;

    static final String SPEC = ResultsFixture.SPEC.replace("  baseline: instruct\n",
            "  baseline: instruct\n  experts: {knowledge: instruct, restricted: base}\n");

    @BeforeEach
    void fixture() throws IOException {
        results = ResultsFixture.standard().write(dir.resolve("results"));
        spec = dir.resolve("fixture.yaml");
        Files.writeString(spec, SPEC);
    }

    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @Test
    void writesEveryPlotKindAsPngAndSvg() throws IOException {
        Path out = dir.resolve("report");
        List<Path> written = ReportWriter.write(spec, results.getParent(), out);
        List<String> pngs = written.stream().map(p -> out.relativize(p).toString()).filter(p -> p.endsWith(".png"))
                .toList();
        for (String expected : List.of("plots/capability_vs_t_ugi.png", "plots/capability_vs_t_w-10.png",
                "plots/capability_vs_t_writing.png", "plots/capability_vs_t_natint.png", "plots/norm_ratio_vs_t.png",
                "plots/max_norm_ratio_vs_t.png", "plots/capability_vs_norm_ratio_ugi.png",
                "plots/pareto_ugi_vs_w-10.png", "plots/heatmap_ties_density_lambda.png",
                "plots/layers_norm_ratio_lerp.png")) {
            assertTrue(pngs.contains(expected), expected + " in " + pngs);
        }
        for (String png : pngs) {
            byte[] bytes = Files.readAllBytes(out.resolve(png));
            assertArrayEquals(PNG_MAGIC, Arrays.copyOf(bytes, 8), png);
            assertTrue(bytes.length > 10_000, png + " is only " + bytes.length + " bytes");
            String svg = Files.readString(out.resolve(png.replace(".png", ".svg")));
            assertTrue(svg.startsWith("<?xml") && svg.contains("<svg") && svg.length() > 10_000, png);
            assertFalse(Pattern.compile("\\d\\.\\d{3,}").matcher(svg).find(), "coordinates rounded in " + png);
        }
        for (String table : List.of("absolute", "normalized", "published", "cells", "bootstrap", "cliffs",
                "best_on_val")) {
            assertTrue(Files.size(out.resolve("tables/" + table + ".csv")) > 50, table);
        }
        assertTrue(written.contains(out.resolve("report.md")));
        assertTrue(written.contains(out.resolve("report.html")));
    }

    @Test
    void reportMdHoldsTheTablesAndLinksThePlots() throws IOException {
        Path out = dir.resolve("report");
        ReportWriter.write(spec, results.getParent(), out);
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.startsWith("# Report: fixture\n"), md);
        assertTrue(md.contains("## Scores on test"));
        assertTrue(md.contains("| model | kind | UGI\\* ↑ | W/10\\* ↑ | Writing\\* ↑ | NatInt\\* ↑ |"), md);
        assertTrue(md.lines().anyMatch(l -> l.startsWith("| delerp t=0.5 | merge | ")), md);
        assertTrue(md.contains("### Published numbers (a different model and benchmark)"));
        assertTrue(md.contains("| Mistral-Nemo-Instruct-2407 | 30.26 | 5.5 | 33.07 | 20.8 |"), md);
        assertTrue(md.contains("## Normalized scores on test"));
        assertTrue(md.contains("### Cliffs along t") && md.contains("| lerp | NatInt\\* | 0.5 |"), md);
        assertTrue(md.contains("### Paired bootstrap against instruct"));
        assertTrue(md.contains("### Best on val, measured on test"));
        assertTrue(md.contains("![NatInt\\* vs t (test, 95% CI bands)](plots/capability_vs_t_natint.png)"), md);
        // the CSV holds the same numbers at full precision
        String csv = Files.readString(out.resolve("tables/absolute.csv"));
        assertTrue(csv.startsWith("\"label\",\"kind\",\"method\",\"models\",\"split\",\"UGI*\",\"UGI* ci95\",\"UGI* n\""),
                csv);
        assertTrue(csv.contains("\"instruct\",\"reference\",\"\",\"instruct\",\"test\","), csv);
    }

    @Test
    void htmlIsSelfContained() throws IOException {
        Path out = dir.resolve("report");
        List<Path> written = ReportWriter.write(spec, results.getParent(), out);
        String html = Files.readString(out.resolve("report.html"));
        long plots = written.stream().filter(p -> p.toString().endsWith(".png")).count();
        Matcher img = Pattern.compile("<img [^>]*src=\"([^\"]*)\"").matcher(html);
        int images = 0;
        while (img.find()) {
            assertTrue(img.group(1).startsWith("data:image/png;base64,iVBORw0KGgo"), "embedded PNG");
            images++;
        }
        assertEquals(plots, images);
        assertFalse(html.contains("href="), "no links out");
        assertFalse(Pattern.compile("src=\"(?!data:)").matcher(html).find(), "no external sources");
        assertFalse(html.contains("http://") || html.contains("https://"));
        assertTrue(html.contains("<th>NatInt* ↑</th>"), "the same tables");
        assertTrue(html.contains("<td class=\"text\">Mistral-Nemo-Instruct-2407</td><td>30.26</td>"), "published");
    }

    @Test
    void aRegeneratedReportIsByteIdentical() throws IOException {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        List<Path> first = ReportWriter.write(spec, results.getParent(), a);
        ReportWriter.write(spec, results.getParent(), b);
        for (Path f : first) {
            Path rel = a.relativize(f);
            assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(b.resolve(rel)), rel.toString());
        }
    }

    @Test
    void stalePlotsAndTablesOfAnEarlierReportAreRemoved() throws IOException {
        Path out = dir.resolve("report");
        Files.createDirectories(out.resolve("plots"));
        Files.createDirectories(out.resolve("tables"));
        Files.writeString(out.resolve("plots/old_column.png"), "x");
        Files.writeString(out.resolve("tables/old.csv"), "x");
        Files.writeString(out.resolve("plots/notes.txt"), "kept");
        ReportWriter.write(spec, results.getParent(), out);
        assertFalse(Files.exists(out.resolve("plots/old_column.png")));
        assertFalse(Files.exists(out.resolve("tables/old.csv")));
        assertTrue(Files.exists(out.resolve("plots/notes.txt")));
        try (Stream<Path> s = Files.list(out)) {
            assertTrue(s.noneMatch(p -> p.toString().endsWith(".tmp")));
        }
    }

    @Test
    void askedForPlotsTheResultsCannotSupportAreNoted() throws IOException {
        ResultsFixture refsOnly = new ResultsFixture()
                .reference("base", "test", ResultsFixture.standardTasks(20, 2, 2.0, 0))
                .reference("instruct", "test", ResultsFixture.standardTasks(28, 24, 1.6, 0));
        Path res = refsOnly.write(dir.resolve("refs"));
        Path s = dir.resolve("refs.yaml");
        Files.writeString(s, "name: fixture\nreport: {plots: [capability, heatmap, layers, pareto]}\n");
        Path out = dir.resolve("refs-report");
        List<Path> written = ReportWriter.write(s, res.getParent(), out);
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("Plot 'capability' skipped: no method has two or more values of 't'."), md);
        assertTrue(md.contains("Plot 'heatmap' skipped"), md);
        assertTrue(md.contains("Plot 'layers' skipped"), md);
        assertEquals(List.of(out.resolve("plots/pareto_knowledge_vs_restricted.png")),
                written.stream().filter(p -> p.toString().endsWith(".png")).toList());
    }

    @Test
    void badInputWritesNothing() throws IOException {
        Path out = dir.resolve("report");
        Files.writeString(spec, SPEC.replace("metric: acc, scale: 100, decimals: 1", "metric: f1, scale: 100"));
        BadInputException e = assertThrows(BadInputException.class,
                () -> ReportWriter.write(spec, results.getParent(), out));
        assertTrue(e.getMessage().contains("no result has metric 'f1'"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void flatResultsStillGiveEveryPlot() throws IOException {
        // every cell scores the same and keeps the norm: zero-width CIs, flat lines, a one-colour heatmap
        ResultsFixture f = new ResultsFixture();
        f.reference("base", "test", ResultsFixture.standardTasks(20, 0, 2.0, 0));
        for (double t : new double[] {0, 0.5, 1}) {
            f.merge("slerp", ResultsFixture.params("t", t), "test", ResultsFixture.standardTasks(20, 0, 2.0, 0),
                    ResultsFixture.norms(1, 1, 2));
        }
        for (double lambda : new double[] {0.5, 1}) {
            for (double density : new double[] {0.5, 1}) {
                java.util.Map<String, Object> p = new java.util.LinkedHashMap<>();
                p.put("lambda", lambda);
                p.put("density", density);
                f.merge("ties", p, "test", ResultsFixture.standardTasks(20, 0, 2.0, 0), ResultsFixture.norms(1, 1, 2));
            }
        }
        Path res = f.write(dir.resolve("flat"));
        Path s = dir.resolve("flat.yaml");
        Files.writeString(s, "name: fixture\n");
        List<Path> written = ReportWriter.write(s, res.getParent(), dir.resolve("flat-report"));
        List<String> names = written.stream().map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".png"))
                .toList();
        assertTrue(names.contains("heatmap_ties_density_lambda.png"), names.toString());
        assertTrue(names.contains("layers_norm_ratio_slerp.png"), names.toString());
        assertTrue(names.contains("pareto_knowledge_vs_restricted.png"), names.toString());
        assertTrue(names.contains("capability_vs_t_narratives.png"), names.toString());
    }
}
