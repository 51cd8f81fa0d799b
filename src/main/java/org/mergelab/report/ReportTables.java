package org.mergelab.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The report's tables as CSV (tables/*.csv): full-precision numbers, one field per number, for anyone who wants
 * to redo a plot or a test. The Markdown/HTML tables show the same numbers rounded.
 */
final class ReportTables {
    private ReportTables() {}

    static List<CsvTable> build(ReportModel m) {
        List<CsvTable> out = new ArrayList<>();
        out.add(absolute(m));
        if (!m.normalizer.isEmpty()) {
            out.add(normalized(m));
        }
        if (m.spec.published() != null) {
            out.add(published(m));
        }
        out.add(cells(m));
        if (!m.comparisons.isEmpty()) {
            out.add(bootstrap(m));
        }
        out.add(cliffs(m));
        if (m.selectOn != null) {
            out.add(bestOnVal(m));
        }
        return out;
    }

    private static CsvTable absolute(ReportModel m) {
        CsvTable t = new CsvTable("absolute");
        for (Cell c : m.rows) {
            Map<String, Object> r = describe(t.row(), c);
            r.put("split", m.split);
            for (ScoreColumn col : m.columns) {
                putEstimate(r, col.name(), col.estimate(c.row(m.split)));
            }
        }
        return t;
    }

    private static CsvTable normalized(ReportModel m) {
        CsvTable t = new CsvTable("normalized");
        for (Cell c : m.rows) {
            Map<String, Object> r = describe(t.row(), c);
            r.put("split", m.split);
            for (String task : m.normalizer.experts().keySet()) {
                putEstimate(r, task, m.normalizer.ratio(c, task, m.split));
            }
            putEstimate(r, "mean", m.normalizer.mean(c, m.split));
        }
        return t;
    }

    private static CsvTable published(ReportModel m) {
        CsvTable t = new CsvTable("published");
        for (ReportSpec.PublishedRow p : m.spec.published().rows()) {
            Map<String, Object> r = t.row();
            r.put("label", p.label());
            r.put("source", m.spec.published().title());
            for (ScoreColumn col : m.columns) {
                r.put(col.name(), p.values().get(col.name()));
            }
        }
        return t;
    }

    /** Every cell on every split, capability joined with norm statistics: the flat data behind every plot. */
    private static CsvTable cells(ReportModel m) {
        CsvTable t = new CsvTable("cells");
        TreeSet<String> params = new TreeSet<>();
        m.experiment.cells().forEach(c -> params.addAll(c.params().keySet()));
        for (Cell c : m.experiment.cells()) {
            for (String split : m.experiment.splits()) {
                ResultRow row = c.row(split);
                if (row == null) {
                    continue;
                }
                Map<String, Object> r = describe(t.row(), c);
                params.forEach(p -> r.put(p, c.params().get(p)));
                r.put("seed", c.isReference() ? null : c.seed());
                r.put("split", split);
                for (ScoreColumn col : m.columns) {
                    Estimate e = col.estimate(row);
                    r.put(col.name(), e == null ? null : e.value());
                    r.put(col.name() + " stderr", e == null ? null : e.stderr());
                }
                for (String task : m.experiment.tasks()) {
                    ResultRow.TaskScores ts = row.tasks().get(task);
                    ResultRow.Metric pm = ts == null ? null : ts.metric(ts.primary());
                    r.put(task + " primary", ts == null ? null : ts.primary());
                    r.put(task + " value", pm == null ? null : pm.value());
                    r.put(task + " stderr", pm == null ? null : pm.stderr());
                    r.put(task + " n", pm == null ? null : pm.n());
                }
                ResultRow.Norms n = c.norms();
                for (NormStatistic s : NormStatistic.values()) {
                    r.put(s.jsonName(), n == null ? null : n.statistic(s));
                }
            }
        }
        return t;
    }

    private static CsvTable bootstrap(ReportModel m) {
        CsvTable t = new CsvTable("bootstrap");
        for (PairedBootstrap.Comparison cmp : m.comparisons) {
            Map<String, Object> r = t.row();
            r.put("label", cmp.cell().label());
            r.put("baseline", m.baseline.label());
            r.put("column", cmp.column().name());
            PairedBootstrap.Result res = cmp.result();
            r.put("diff", res == null ? null : res.diff());
            r.put("ci95 low", res == null ? null : res.lo());
            r.put("ci95 high", res == null ? null : res.hi());
            r.put("p", res == null ? null : res.p());
            r.put("resamples", m.spec.bootstrap().resamples());
            r.put("seed", m.spec.bootstrap().seed());
            r.put("note", cmp.note() == null ? "" : cmp.note());
        }
        return t;
    }

    private static CsvTable cliffs(ReportModel m) {
        String x = m.spec.x();
        CsvTable t = new CsvTable("cliffs", List.of("series", "column", x, "label", "value", "best", "best " + x));
        for (Cliffs.Cliff c : m.cliffs) {
            Map<String, Object> r = t.row();
            r.put("series", c.series().label());
            r.put("column", c.column().name());
            r.put(x, c.x());
            r.put("label", c.cell().label());
            r.put("value", c.value());
            r.put("best", c.best());
            r.put("best " + x, c.bestX());
        }
        return t;
    }

    private static CsvTable bestOnVal(ReportModel m) {
        CsvTable t = new CsvTable("best_on_val");
        for (BestOnVal.Choice ch : m.bestOnVal) {
            Map<String, Object> r = t.row();
            r.put("group", ch.group().label());
            describe(r, ch.cell());
            r.put("candidates", ch.candidates());
            r.put("select on", m.selectOn);
            r.put("score", m.scorer.selector());
            r.put("score on " + m.selectOn, ch.selectionScore());
            r.put("score on " + m.split, ch.reportScore());
            for (ScoreColumn col : m.columns) {
                putEstimate(r, col.name(), col.estimate(ch.cell().row(m.split)));
            }
        }
        return t;
    }

    private static Map<String, Object> describe(Map<String, Object> r, Cell c) {
        r.put("label", c.label());
        r.put("kind", c.isReference() ? "reference" : "merge");
        r.put("method", c.method() == null ? "" : c.method());
        r.put("models", c.inputs());
        return r;
    }

    private static void putEstimate(Map<String, Object> r, String name, Estimate e) {
        r.put(name, e == null ? null : e.value());
        r.put(name + " ci95", e == null ? null : e.ci95());
        r.put(name + " n", e == null ? "" : e.nText());
    }
}
