package org.mergelab.report;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;

/**
 * Writes a report folder from a sweep's results.jsonl and the spec's {@code report:} section: report.md,
 * report.html (self-contained), tables/*.csv, plots/*.png and plots/*.svg. Everything is checked before the first
 * file is written; the output depends only on the inputs (no clock, fixed bootstrap seed, stable order), so a
 * regenerated report is byte-identical.
 */
public final class ReportWriter {
    private ReportWriter() {}

    /** Where a spec's results live by default: {@code reports/<name>/results}. */
    public static Path defaultResultsDir(ReportSpec spec) {
        return defaultOutDir(spec).resolve("results");
    }

    /** Where a spec's report goes by default: {@code reports/<name>}. */
    public static Path defaultOutDir(ReportSpec spec) {
        return Path.of("reports", spec.experiment());
    }

    /**
     * The one-call entry point (the sweep runner calls it after a run): reads {@code specFile}'s report section and
     * {@code resultsDir}/results.jsonl, writes the report into {@code outDir}, returns the files written.
     */
    public static List<Path> write(Path specFile, Path resultsDir, Path outDir) throws IOException {
        return write(ReportSpecParser.parse(specFile), resultsDir.resolve("results.jsonl"), outDir);
    }

    public static List<Path> write(ReportSpec spec, Path resultsJsonl, Path outDir) throws IOException {
        ReportModel model = ReportModel.build(spec, ResultsReader.read(resultsJsonl));
        Plots plots = Plots.draw(model);
        List<Document.Figure> figures = new ArrayList<>();
        List<byte[]> svgs = new ArrayList<>();
        for (Plots.Plot p : plots.plots()) {
            figures.add(new Document.Figure("plots/" + p.name() + ".png", p.title(), p.caption(),
                    BitmapEncoder.getBitmapBytes(p.chart(), BitmapEncoder.BitmapFormat.PNG)));
            ByteArrayOutputStream svg = new ByteArrayOutputStream();
            VectorGraphicsEncoder.saveVectorGraphic(p.chart(), svg, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
            svgs.add(compactSvg(svg.toString(StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
        }
        Document doc = ReportContent.build(model, figures, plots.notes());

        Files.createDirectories(outDir);
        Path tables = outDir.resolve("tables");
        Path plotDir = outDir.resolve("plots");
        removeStale(tables, ".csv");
        removeStale(plotDir, ".png", ".svg");
        List<Path> written = new ArrayList<>();
        for (CsvTable t : ReportTables.build(model)) {
            written.add(replace(tables.resolve(t.name() + ".csv"), t.toCsv().getBytes(StandardCharsets.UTF_8)));
        }
        for (int i = 0; i < figures.size(); i++) {
            Document.Figure f = figures.get(i);
            written.add(replace(outDir.resolve(f.path()), f.png()));
            written.add(replace(outDir.resolve(f.path().replaceAll("\\.png$", ".svg")), svgs.get(i)));
        }
        written.add(replace(outDir.resolve("report.md"),
                MarkdownRenderer.render(doc).getBytes(StandardCharsets.UTF_8)));
        written.add(replace(outDir.resolve("report.html"), HtmlRenderer.render(doc).getBytes(StandardCharsets.UTF_8)));
        return List.copyOf(written);
    }

    private static final Pattern LONG_DECIMAL = Pattern.compile("-?\\d+\\.\\d{3,}");

    /**
     * XChart draws text as glyph outlines with coordinates to 1/64 px; rounding every coordinate to 1/100 px halves
     * the file and changes nothing visible.
     */
    static String compactSvg(String svg) {
        return LONG_DECIMAL.matcher(svg).replaceAll(m -> {
            String s = new BigDecimal(m.group()).setScale(2, RoundingMode.HALF_EVEN).stripTrailingZeros()
                    .toPlainString();
            return s.equals("-0") ? "0" : s;
        });
    }

    /** Plots and tables of an earlier report that this one may not redraw (a removed column, a renamed method). */
    private static void removeStale(Path dir, String... extensions) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (Files.isRegularFile(f) && Stream.of(extensions).anyMatch(name::endsWith)) {
                    Files.delete(f);
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Written beside the target and renamed over it: a reader never sees half a file. */
    private static Path replace(Path target, byte[] bytes) throws IOException {
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }
}
