package org.mergelab.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/** Lays out a report: overview, tables, column definitions, plots, analysis, notes. */
final class ReportContent {
    private ReportContent() {}

    static Document build(ReportModel m, List<Document.Figure> figures, List<String> plotNotes) {
        Document doc = new Document(m.title());
        overview(doc, m);
        doc.heading(2, "Scores on " + m.split);
        doc.table(absolute(m));
        if (m.spec.published() != null) {
            published(doc, m);
        }
        if (!m.normalizer.isEmpty()) {
            doc.heading(2, "Normalized scores on " + m.split);
            doc.table(normalized(m));
        }
        doc.heading(2, "Columns");
        doc.bullets(m.columns.stream().map(c -> c.name() + " = " + c.definition()).toList());
        if (m.columns.stream().anyMatch(c -> c.components().stream()
                .anyMatch(p -> p.transform() == ReportSpec.Transform.FLUENCY))) {
            doc.paragraph("Fluency = 100 · 2^(−bits per byte): the model's geometric-mean probability of each next"
                    + " byte of held-out text, in percent (bits per byte 0 → 100, 1 → 50, 2 → 25). Its 95% CI"
                    + " follows from the bits-per-byte standard error by the delta method.");
        }
        if (!figures.isEmpty()) {
            doc.heading(2, "Plots");
            figures.forEach(doc::figure);
        }
        doc.heading(2, "Analysis");
        cliffs(doc, m);
        List<String> notes = new ArrayList<>(plotNotes);
        bootstrap(doc, m, notes);
        bestOnVal(doc, m);
        notes.addAll(m.results.warnings());
        notes.addAll(m.experiment.warnings());
        if (!notes.isEmpty()) {
            doc.heading(2, "Notes");
            doc.bullets(notes);
        }
        return doc;
    }

    private static void overview(Document doc, ReportModel m) {
        long refs = m.experiment.references().size();
        long merges = m.experiment.merges().size();
        doc.paragraph(String.format(Locale.ROOT, "Experiment %s: %d cells (%d reference%s, %d merge%s) from"
                + " results.jsonl, splits %s. Tables and plots report %s%s%s.", m.experiment.name(),
                refs + merges, refs, refs == 1 ? "" : "s", merges, merges == 1 ? "" : "s",
                String.join(", ", m.experiment.splits()), m.split,
                m.selectOn == null ? "" : "; \"best on " + m.selectOn + "\" selects on " + m.selectOn,
                m.baseline == null ? "" : "; the paired bootstrap compares every row with " + m.baseline.label()));
        Set<String> versions = new TreeSet<>();
        Set<String> commits = new TreeSet<>();
        m.experiment.cells().forEach(c -> c.bySplit().values().forEach(r -> {
            if (r.mergelabVersion() != null) {
                versions.add(r.mergelabVersion());
            }
            if (r.gitCommit() != null) {
                commits.add(r.gitCommit());
            }
        }));
        if (!versions.isEmpty() || !commits.isEmpty()) {
            doc.paragraph("Produced by MergeLab " + (versions.isEmpty() ? "(version unknown)"
                    : String.join(", ", versions)) + (commits.isEmpty() ? "" : ", git commit "
                            + String.join(", ", commits)) + ".");
        }
    }

    // ---------------------------------------------------------------- tables

    private static final String CELL_CAPTION = "Each cell: value ± 95% CI half-width (n items; a+b for a column"
            + " averaging two tasks). Bold: the best value in its column. ↑ higher is better, ↓ lower is better.";

    private static Document.Table absolute(ReportModel m) {
        List<String> header = new ArrayList<>(List.of("model", "kind"));
        m.columns.forEach(c -> header.add(c.name() + (c.higherIsBetter() ? " ↑" : " ↓")));
        List<List<Document.Entry>> rows = new ArrayList<>();
        for (Cell c : m.rows) {
            List<Document.Entry> row = new ArrayList<>(List.of(Document.Entry.plain(c.label()),
                    Document.Entry.plain(c.isReference() ? "reference" : "merge")));
            for (ScoreColumn col : m.columns) {
                row.add(entry(col.estimate(c.row(m.split)), col.decimals(),
                        best(m.rows, cell -> col.estimate(cell.row(m.split)), col.higherIsBetter(), col.decimals())));
            }
            rows.add(row);
        }
        return new Document.Table(header, rows, 2, CELL_CAPTION);
    }

    private static Document.Table normalized(ReportModel m) {
        List<String> header = new ArrayList<>(List.of("model", "kind"));
        m.normalizer.experts().forEach((task, expert) -> header.add(task + " (÷ " + expert.label() + ") ↑"));
        header.add("mean ↑");
        List<List<Document.Entry>> rows = new ArrayList<>();
        List<Function<Cell, Estimate>> cols = new ArrayList<>();
        m.normalizer.experts().keySet().forEach(task -> cols.add(c -> m.normalizer.ratio(c, task, m.split)));
        cols.add(c -> m.normalizer.mean(c, m.split));
        for (Cell c : m.rows) {
            List<Document.Entry> row = new ArrayList<>(List.of(Document.Entry.plain(c.label()),
                    Document.Entry.plain(c.isReference() ? "reference" : "merge")));
            for (Function<Cell, Estimate> f : cols) {
                row.add(entry(f.apply(c), 1, best(m.rows, f, true, 1)));
            }
            rows.add(row);
        }
        return new Document.Table(header, rows, 2, "Per task: the row's primary metric as a percentage of the task's"
                + " expert on that task (for lower-is-better metrics expert ÷ row, so higher stays better); mean:"
                + " the mean of the per-task ratios. " + CELL_CAPTION);
    }

    private static void published(Document doc, ReportModel m) {
        ReportSpec.Published p = m.spec.published();
        doc.heading(3, "Published numbers (a different model and benchmark)");
        doc.paragraph(p.title() + ". " + p.note());
        List<ScoreColumn> shown = m.columns.stream()
                .filter(c -> p.rows().stream().anyMatch(r -> r.values().containsKey(c.name()))).toList();
        List<String> header = new ArrayList<>(List.of("model (published)"));
        shown.forEach(c -> header.add(c.name()));
        List<List<Document.Entry>> rows = new ArrayList<>();
        for (ReportSpec.PublishedRow r : p.rows()) {
            List<Document.Entry> row = new ArrayList<>(List.of(Document.Entry.plain(r.label())));
            shown.forEach(c -> row.add(Document.Entry.plain(r.values().containsKey(c.name())
                    ? Format.param(r.values().get(c.name())) : "–")));
            rows.add(row);
        }
        doc.table(new Document.Table(header, rows, 1, "As published; not recomputed and not comparable number for"
                + " number with the rows above."));
    }

    /** The best displayed value among {@code cells}, as displayed (ties at display precision are all bold). */
    private static String best(List<Cell> cells, Function<Cell, Estimate> f, boolean higher, int decimals) {
        Double best = null;
        for (Cell c : cells) {
            Estimate e = f.apply(c);
            if (e != null && (best == null || (higher ? e.value() > best : e.value() < best))) {
                best = e.value();
            }
        }
        return best == null ? null : Format.fixed(best, decimals);
    }

    private static Document.Entry entry(Estimate e, int decimals, String best) {
        if (e == null) {
            return Document.Entry.plain("–");
        }
        String value = Format.fixed(e.value(), decimals);
        String ci = e.ci95() == null ? "" : " ± " + Format.fixed(e.ci95(), decimals);
        return new Document.Entry(value + ci + " (n=" + e.nText() + ")", value.equals(best));
    }

    // ---------------------------------------------------------------- analysis

    private static void cliffs(Document doc, ReportModel m) {
        String x = m.spec.x();
        String rule = String.format(Locale.ROOT, "a point where a column falls below %s of the best value it"
                + " reaches along the same method's %s path (above best ÷ %s for a lower-is-better column)",
                Format.param(m.spec.cliffFraction()), x, Format.param(m.spec.cliffFraction()));
        doc.heading(3, "Cliffs along " + x);
        if (m.series.stream().noneMatch(s -> s.cells().size() > 1)) {
            doc.paragraph("No method varies " + x + ", so there is no path to check for cliffs (" + rule + ").");
            return;
        }
        if (m.cliffs.isEmpty()) {
            doc.paragraph("None: no " + rule + ".");
            return;
        }
        doc.paragraph("A cliff is " + rule + ".");
        List<List<Document.Entry>> rows = new ArrayList<>();
        for (Cliffs.Cliff c : m.cliffs) {
            int d = c.column().decimals();
            rows.add(List.of(Document.Entry.plain(c.series().label()), Document.Entry.plain(c.column().name()),
                    Document.Entry.plain(Format.param(c.x())), Document.Entry.plain(Format.fixed(c.value(), d)),
                    Document.Entry.plain(Format.fixed(c.best(), d) + " at " + x + "=" + Format.param(c.bestX()))));
        }
        doc.table(new Document.Table(List.of("method", "column", x, "value", "best on the path"), rows, 2, null));
    }

    private static void bootstrap(Document doc, ReportModel m, List<String> notes) {
        doc.heading(3, "Paired bootstrap against " + (m.baseline == null ? "a reference" : m.baseline.label()));
        if (m.baseline == null) {
            doc.paragraph("The results have no reference model, so there is no baseline to compare with.");
            return;
        }
        if (m.comparisons.isEmpty()) {
            doc.paragraph("The table has no row besides the baseline.");
            return;
        }
        ReportSpec.Bootstrap b = m.spec.bootstrap();
        doc.paragraph(String.format(Locale.ROOT, "Each entry: row − %s on %s, [95%% CI of the difference], two-sided"
                + " p-value of no difference. %,d resamples of the items (the same for both models; (item, weight)"
                + " pairs for weighted metrics), seed %d.", m.baseline.label(), m.split, b.resamples(), b.seed()));
        List<String> header = new ArrayList<>(List.of("model"));
        m.columns.forEach(c -> header.add(c.name()));
        List<List<Document.Entry>> rows = new ArrayList<>();
        Map<String, List<String>> why = new LinkedHashMap<>(); // reason → the entries it blanks
        List<Cell> order = m.comparisons.stream().map(PairedBootstrap.Comparison::cell).distinct().toList();
        for (Cell c : order) {
            List<Document.Entry> row = new ArrayList<>(List.of(Document.Entry.plain(c.label())));
            for (ScoreColumn col : m.columns) {
                PairedBootstrap.Comparison cmp = m.comparisons.stream()
                        .filter(x -> x.cell() == c && x.column() == col).findFirst().orElseThrow();
                PairedBootstrap.Result r = cmp.result();
                if (r == null) {
                    row.add(Document.Entry.plain("–"));
                    why.computeIfAbsent(cmp.note(), k -> new ArrayList<>()).add(c.label() + " / " + col.name());
                    continue;
                }
                int d = col.decimals();
                row.add(Document.Entry.plain(signed(r.diff(), d) + " [" + signed(r.lo(), d) + ", "
                        + signed(r.hi(), d) + "] p" + Format.pValue(r.p())));
            }
            rows.add(row);
        }
        doc.table(new Document.Table(header, rows, 1, null));
        why.forEach((reason, entries) -> notes.add("No bootstrap for " + String.join(", ", entries) + ": " + reason
                + "."));
    }

    private static String signed(double v, int decimals) {
        String s = Format.fixed(v, decimals);
        return s.startsWith("-") ? "−" + s.substring(1) : Objects.equals(s, Format.fixed(0.0, decimals)) ? s : "+" + s;
    }

    private static void bestOnVal(Document doc, ReportModel m) {
        doc.heading(3, "Best on " + (m.selectOn == null ? "val" : m.selectOn) + ", measured on " + m.split);
        if (m.selectOn == null) {
            doc.paragraph("The results have no second split to select on, so no selection is reported.");
            return;
        }
        if (m.bestOnVal.isEmpty()) {
            doc.paragraph("No merge has scores on both " + m.selectOn + " and " + m.split + ".");
            return;
        }
        doc.paragraph("Per method, the cell with the best " + m.scorer.description() + " on " + m.selectOn
                + ", and its scores on " + m.split + ".");
        List<String> header = new ArrayList<>(List.of("method", "chosen", "candidates", "score on " + m.selectOn,
                "score on " + m.split));
        m.columns.forEach(c -> header.add(c.name()));
        List<List<Document.Entry>> rows = new ArrayList<>();
        int d = switch (m.scorer.selector()) {
            case ReportSpec.RELATIVE_MEAN -> 3;
            case ReportSpec.NORMALIZED_MEAN -> 1;
            default -> m.column(m.scorer.selector(), "report.select_by").decimals();
        };
        for (BestOnVal.Choice ch : m.bestOnVal) {
            List<Document.Entry> row = new ArrayList<>(List.of(Document.Entry.plain(ch.group().label()),
                    Document.Entry.plain(ch.cell().label()), Document.Entry.plain(String.valueOf(ch.candidates())),
                    Document.Entry.plain(Format.fixed(ch.selectionScore(), d)),
                    Document.Entry.plain(Format.fixed(ch.reportScore(), d))));
            for (ScoreColumn col : m.columns) {
                row.add(entry(col.estimate(ch.cell().row(m.split)), col.decimals(), null));
            }
            rows.add(row);
        }
        doc.table(new Document.Table(header, rows, 2, "Score: " + m.scorer.description() + "."));
    }
}
