package org.mergelab.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.mergelab.BadInputException;

/**
 * Everything a report shows, computed once from the results and the spec: the rows, columns and splits it reports,
 * the normalized scores, the paired bootstrap against the baseline, the cliffs, and the best-on-val choices. The
 * renderers (tables, plots, Markdown, HTML) only format what is here.
 */
public final class ReportModel {
    public final ReportSpec spec;
    public final ResultsReader.Results results;
    public final Experiment experiment;
    public final String split;
    /** The split "best on val" selects on; null when the results have no other split. */
    public final String selectOn;
    public final List<ScoreColumn> columns;
    public final List<Cell> rows;
    /** The bootstrap baseline; null when the results have no reference. */
    public final Cell baseline;
    public final Normalizer normalizer;
    public final Scorer scorer;
    /** Merges moving along the spec's x parameter. */
    public final List<Experiment.Series> series;
    public final List<PairedBootstrap.Comparison> comparisons;
    public final List<Cliffs.Cliff> cliffs;
    public final List<BestOnVal.Choice> bestOnVal;

    private ReportModel(ReportSpec spec, ResultsReader.Results results) {
        this.spec = spec;
        this.results = results;
        this.experiment = Experiment.of(spec, results);
        this.split = reportSplit();
        this.selectOn = selectionSplit();
        this.columns = ScoreColumn.resolve(spec, experiment);
        this.rows = rows();
        this.baseline = baseline();
        this.normalizer = Normalizer.of(spec, experiment);
        if (spec.selectBy() != null && spec.columns() == null && !List.of(ReportSpec.NORMALIZED_MEAN,
                ReportSpec.RELATIVE_MEAN).contains(spec.selectBy())
                && columns.stream().noneMatch(c -> c.name().equals(spec.selectBy()))) {
            throw bad("report.select_by: '" + spec.selectBy() + "' is not a column (the default columns are the"
                    + " task names: " + String.join(", ", experiment.tasks()) + ")");
        }
        this.scorer = Scorer.of(spec.selectBy(), columns, normalizer, experiment);
        checkNames();
        this.series = experiment.series(spec.x());
        this.comparisons = baseline == null ? List.of()
                : PairedBootstrap.compare(rows, baseline, columns, split, spec.bootstrap());
        this.cliffs = Cliffs.detect(series, columns, spec.x(), split, spec.cliffFraction());
        this.bestOnVal = selectOn == null ? List.of()
                : BestOnVal.select(experiment.methodGroups(), scorer, selectOn, split);
    }

    public static ReportModel build(ReportSpec spec, ResultsReader.Results results) {
        return new ReportModel(spec, results);
    }

    public String title() {
        return spec.title() != null ? spec.title() : "Report: " + experiment.name();
    }

    /** The column called {@code name}; bad input naming {@code key} when there is none. */
    public ScoreColumn column(String name, String key) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow(() -> bad(key + ": '"
                + name + "' is not a column (columns: " + String.join(", ",
                        columns.stream().map(ScoreColumn::name).toList()) + ")"));
    }

    /** Names in the spec that refer to columns, methods or cells exist (checked before anything is written). */
    private void checkNames() {
        if (spec.published() != null) {
            List<ReportSpec.PublishedRow> pub = spec.published().rows();
            for (int i = 0; i < pub.size(); i++) {
                for (String col : pub.get(i).values().keySet()) {
                    column(col, "report.published.rows[" + i + "].values");
                }
            }
        }
        if (spec.pareto() != null) {
            spec.pareto().forEach(pair -> pair.forEach(name -> column(name, "report.pareto")));
        }
        if (spec.heatmaps() != null) {
            for (ReportSpec.Heatmap h : spec.heatmaps()) {
                if (h.method() != null && !experiment.methods().contains(h.method())) {
                    throw bad("report.heatmap.method: no merges with method '" + h.method() + "' in the results");
                }
                if (h.score() != null && !h.score().equals(ReportSpec.RELATIVE_MEAN)) {
                    if (h.score().equals(ReportSpec.NORMALIZED_MEAN) && normalizer.isEmpty()) {
                        throw bad("report.heatmap.score: normalized_mean needs report.experts");
                    }
                    if (!h.score().equals(ReportSpec.NORMALIZED_MEAN)) {
                        column(h.score(), "report.heatmap.score");
                    }
                }
            }
        }
        ReportSpec.LayerMap layers = spec.layers();
        if (layers != null && layers.method() != null && !experiment.methods().contains(layers.method())) {
            throw bad("report.layers.method: no merges with method '" + layers.method() + "' in the results");
        }
        if (layers != null && layers.cells() != null) {
            for (String label : layers.cells()) {
                Cell c = experiment.byLabel(label);
                if (c == null || c.isReference()) {
                    throw bad("report.layers.cells: no merge labelled '" + label + "' in the results");
                }
            }
        }
    }

    private String reportSplit() {
        List<String> splits = experiment.splits();
        if (spec.split() != null) {
            if (!splits.contains(spec.split())) {
                throw bad("report.split: no results on split '" + spec.split() + "' (splits present: "
                        + String.join(", ", splits) + ")");
            }
            return spec.split();
        }
        if (splits.contains("test")) {
            return "test";
        }
        if (splits.size() == 1) {
            return splits.get(0);
        }
        throw bad("the results have splits " + String.join(", ", splits) + "; say which to report with report.split");
    }

    private String selectionSplit() {
        if (spec.selectOn() != null) {
            if (!experiment.splits().contains(spec.selectOn())) {
                throw bad("report.select_on: no results on split '" + spec.selectOn() + "' (splits present: "
                        + String.join(", ", experiment.splits()) + ")");
            }
            if (spec.selectOn().equals(split)) {
                throw bad("report.select_on must differ from the reported split '" + split + "'");
            }
            return spec.selectOn();
        }
        return experiment.splits().contains("val") && !"val".equals(split) ? "val" : null;
    }

    private List<Cell> rows() {
        ReportSpec.Rows r = spec.rows();
        List<Cell> out = new ArrayList<>();
        if (r.labels() != null) {
            for (String label : r.labels()) {
                Cell c = experiment.byLabel(label);
                if (c == null) {
                    throw bad("report.rows: no cell labelled '" + label + "' in the results");
                }
                out.add(c);
            }
        } else {
            if (r.references() == null) {
                out.addAll(experiment.references());
            } else {
                for (String name : r.references()) {
                    Cell c = experiment.reference(name);
                    if (c == null) {
                        throw bad("report.rows.references: no reference '" + name + "' in the results");
                    }
                    out.add(c);
                }
            }
            if (r.methods() != null) {
                for (String m : r.methods()) {
                    if (!experiment.methods().contains(m)) {
                        throw bad("report.rows.methods: no merges with method '" + m + "' in the results (methods: "
                                + String.join(", ", experiment.methods()) + ")");
                    }
                }
            }
            for (Cell c : experiment.merges()) {
                if ((r.methods() == null || r.methods().contains(c.method())) && matches(c, r.where())) {
                    out.add(c);
                }
            }
        }
        List<Cell> reported = out.stream().filter(c -> c.row(split) != null).toList();
        if (reported.isEmpty()) {
            throw bad("report.rows selects no cell with results on split '" + split + "'");
        }
        return reported;
    }

    private static boolean matches(Cell c, Map<String, Object> where) {
        for (Map.Entry<String, Object> e : where.entrySet()) {
            Object v = c.params().get(e.getKey());
            boolean same = v instanceof Double d && e.getValue() instanceof Double w
                    ? Math.abs(d - w) <= 1e-9 * Math.max(1, Math.abs(w))
                    : v != null && v.toString().equals(e.getValue().toString());
            if (!same) {
                return false;
            }
        }
        return true;
    }

    private Cell baseline() {
        if (spec.baseline() != null) {
            Cell c = experiment.reference(spec.baseline());
            if (c == null) {
                throw bad("report.baseline: no reference '" + spec.baseline() + "' in the results");
            }
            if (c.row(split) == null) {
                throw bad("report.baseline: reference '" + spec.baseline() + "' has no results on split '" + split
                        + "'");
            }
            return c;
        }
        return experiment.references().stream().filter(c -> c.row(split) != null).findFirst().orElse(null);
    }

    private BadInputException bad(String message) {
        return new BadInputException(spec.file() + ": " + message);
    }
}
