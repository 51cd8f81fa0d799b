package org.mergelab.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's plots (XChart, drawn headless): capability vs x with 95% CI bands, norm ratios vs x, capability vs a
 * norm statistic, task-vs-task Pareto fronts, 2-D sweep heatmaps, and a per-layer norm heatmap. Each kind is drawn
 * when the spec asks for it or, by default, when the results hold what it needs; {@link #notes()} says why a
 * requested kind was skipped.
 */
final class Plots {
    /** One chart and the file name (without extension) it is saved under. */
    record Plot(String name, String title, String caption, Chart<?, ?> chart) {}

    private static final int WIDTH = 900;
    private static final int HEIGHT = 540;
    /** Tableau 10: distinguishable, and readable in print. */
    private static final Color[] PALETTE = {new Color(0x4E79A7), new Color(0xF28E2B), new Color(0xE15759),
        new Color(0x76B7B2), new Color(0x59A14F), new Color(0xEDC948), new Color(0xB07AA1), new Color(0xFF9DA7),
        new Color(0x9C755F), new Color(0xBAB0AC)};
    private static final Color[] GREYS = {new Color(0x222222), new Color(0x666666), new Color(0x999999),
        new Color(0x444444), new Color(0x888888)};
    private static final Marker[] MARKERS = {SeriesMarkers.CIRCLE, SeriesMarkers.SQUARE, SeriesMarkers.DIAMOND,
        SeriesMarkers.TRIANGLE_UP, SeriesMarkers.TRIANGLE_DOWN, SeriesMarkers.CROSS};
    private static final BasicStroke DASHED = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
            10f, new float[] {6f, 4f}, 0f);

    private final ReportModel m;
    private final String x;
    private final List<Plot> plots = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    private Plots(ReportModel model) {
        this.m = model;
        this.x = model.spec.x();
    }

    static Plots draw(ReportModel model) {
        Plots p = new Plots(model);
        p.drawAll();
        return p;
    }

    List<Plot> plots() {
        return plots;
    }

    List<String> notes() {
        return notes;
    }

    private void drawAll() {
        Set<ReportSpec.PlotKind> asked = m.spec.plots();
        for (ReportSpec.PlotKind kind : ReportSpec.PlotKind.values()) {
            if (asked != null && !asked.contains(kind)) {
                continue;
            }
            String missing = switch (kind) {
                case CAPABILITY -> capabilityVsX();
                case NORMS -> normsVsX();
                case CAPABILITY_VS_NORM -> capabilityVsNorm();
                case PARETO -> pareto();
                case HEATMAP -> heatmaps();
                case LAYERS -> layers();
            };
            if (missing != null && asked != null) {
                notes.add("Plot '" + kind.yamlName + "' skipped: " + missing + ".");
            }
        }
    }

    // ---------------------------------------------------------------- capability and norms along x

    /** Series with at least two points along x: the ones a curve can be drawn for. */
    private List<Experiment.Series> curves() {
        return m.series.stream().filter(s -> s.cells().size() >= 2).toList();
    }

    private String capabilityVsX() {
        if (curves().isEmpty()) {
            return "no method has two or more values of '" + x + "'";
        }
        for (ScoreColumn col : m.columns) {
            XYChart chart = xyChart(col.name() + " vs " + x + " (" + m.split + ", 95% CI bands)", x, col.name());
            double[] range = xRange(curves());
            int i = 0;
            for (Experiment.Series s : curves()) {
                List<double[]> pts = new ArrayList<>(); // x, value, ci
                for (Cell c : s.cells()) {
                    Estimate e = col.estimate(c.row(m.split));
                    if (e != null) {
                        pts.add(new double[] {c.number(x), e.value(), e.ci95() == null ? 0 : e.ci95()});
                    }
                }
                Color color = PALETTE[i % PALETTE.length];
                Marker marker = MARKERS[i / PALETTE.length % MARKERS.length];
                i++;
                if (pts.isEmpty()) {
                    continue;
                }
                band(chart, s.label(), pts, color);
                line(chart, s.label(), column(pts, 0), column(pts, 1), color, marker);
            }
            referenceLines(chart, col, range);
            chosenOnVal(chart, col);
            add("capability_vs_" + Format.slug(x) + "_" + Format.slug(col.name()), chart,
                    col.name() + " along " + x + " per method, on " + m.split + "; shaded: 95% CI; dashed: references"
                            + (m.bestOnVal.isEmpty() ? "" : "; black diamonds: the cell chosen on " + m.selectOn));
        }
        return null;
    }

    /** A translucent polygon from value − ci to value + ci (XChart has no band series). */
    private void band(XYChart chart, String label, List<double[]> pts, Color color) {
        if (pts.size() < 2 || pts.stream().allMatch(p -> p[2] == 0)) {
            return;
        }
        int n = pts.size();
        double[] xs = new double[2 * n];
        double[] ys = new double[2 * n];
        for (int k = 0; k < n; k++) {
            double[] p = pts.get(k);
            double[] q = pts.get(n - 1 - k);
            xs[k] = p[0];
            ys[k] = p[1] + p[2];
            xs[n + k] = q[0];
            ys[n + k] = q[1] - q[2];
        }
        XYSeries band = chart.addSeries(unique(chart, label + " CI"), xs, ys);
        band.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.PolygonArea);
        band.setFillColor(new Color(color.getRed(), color.getGreen(), color.getBlue(), 45));
        band.setLineColor(new Color(0, 0, 0, 0));
        band.setMarker(SeriesMarkers.NONE);
        band.setShowInLegend(false);
    }

    private void referenceLines(XYChart chart, ScoreColumn col, double[] range) {
        int i = 0;
        for (Cell ref : m.experiment.references()) {
            Estimate e = col.estimate(ref.row(m.split));
            if (e == null) {
                continue;
            }
            XYSeries s = chart.addSeries(unique(chart, ref.label()), new double[] {range[0], range[1]},
                    new double[] {e.value(), e.value()});
            s.setLineColor(GREYS[i++ % GREYS.length]);
            s.setLineStyle(DASHED);
            s.setMarker(SeriesMarkers.NONE);
        }
    }

    private void chosenOnVal(XYChart chart, ScoreColumn col) {
        List<double[]> pts = new ArrayList<>();
        for (BestOnVal.Choice choice : m.bestOnVal) {
            Estimate e = col.estimate(choice.cell().row(m.split));
            Double cx = choice.cell().number(x);
            if (e != null && cx != null && curves().stream().anyMatch(s -> s.cells().contains(choice.cell()))) {
                pts.add(new double[] {cx, e.value()});
            }
        }
        if (!pts.isEmpty()) {
            XYSeries s = chart.addSeries(unique(chart, "chosen on " + m.selectOn), column(pts, 0), column(pts, 1));
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            s.setMarker(SeriesMarkers.DIAMOND);
            s.setMarkerColor(Color.BLACK);
        }
    }

    private String normsVsX() {
        List<Experiment.Series> withNorms = curves().stream()
                .filter(s -> s.cells().stream().anyMatch(c -> c.norms() != null)).toList();
        if (withNorms.isEmpty()) {
            return "no method with two or more values of '" + x + "' has norm statistics";
        }
        for (NormStatistic stat : List.of(NormStatistic.NORM_RATIO, NormStatistic.MAX_NORM_RATIO)) {
            XYChart chart = xyChart(stat.jsonName() + " vs " + x, x, stat.description());
            int i = 0;
            boolean any = false;
            for (Experiment.Series s : withNorms) {
                List<double[]> pts = new ArrayList<>();
                for (Cell c : s.cells()) {
                    Double v = c.norms() == null ? null : c.norms().statistic(stat);
                    if (v != null) {
                        pts.add(new double[] {c.number(x), v});
                    }
                }
                Color color = PALETTE[i % PALETTE.length];
                Marker marker = MARKERS[i / PALETTE.length % MARKERS.length];
                i++;
                if (!pts.isEmpty()) {
                    line(chart, s.label(), column(pts, 0), column(pts, 1), color, marker);
                    any = true;
                }
            }
            if (any) {
                chart.getStyler().setAnnotationLineColor(Color.GRAY);
                chart.addAnnotation(new AnnotationLine(1.0, false, false));
                add(stat.jsonName() + "_vs_" + Format.slug(x), chart, stat.description() + " along " + x
                        + " per method (1 = no change; LERP dips between its ends, SLERP stays flat, DeLERP keeps"
                        + " the larger input's norm)");
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- capability vs a norm statistic

    private String capabilityVsNorm() {
        NormStatistic stat = m.spec.normStatistic();
        List<Cell> withStat = m.experiment.merges().stream()
                .filter(c -> c.norms() != null && c.norms().statistic(stat) != null && c.row(m.split) != null)
                .toList();
        if (withStat.isEmpty()) {
            return "no merge has the norm statistic " + stat.jsonName();
        }
        for (ScoreColumn col : m.columns) {
            XYChart chart = xyChart(col.name() + " vs " + stat.jsonName() + " (all merges, " + m.split + ")",
                    stat.description(), col.name());
            chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            Map<String, List<double[]>> byMethod = new LinkedHashMap<>();
            for (Cell c : withStat) {
                Estimate e = col.estimate(c.row(m.split));
                if (e != null) {
                    byMethod.computeIfAbsent(c.method(), k -> new ArrayList<>())
                            .add(new double[] {c.norms().statistic(stat), e.value()});
                }
            }
            if (byMethod.isEmpty()) {
                continue;
            }
            byMethod.forEach((method, pts) -> {
                XYSeries s = chart.addSeries(unique(chart, method), column(pts, 0), column(pts, 1));
                s.setMarkerColor(methodColor(method));
                s.setMarker(SeriesMarkers.CIRCLE);
            });
            add("capability_vs_" + stat.jsonName() + "_" + Format.slug(col.name()), chart,
                    col.name() + " against " + stat.description() + " for every merge; colour = method");
        }
        return null;
    }

    // ---------------------------------------------------------------- Pareto fronts

    private String pareto() {
        List<List<String>> pairs = m.spec.pareto();
        if (pairs == null) {
            if (m.columns.size() < 2) {
                return "it needs two columns";
            }
            pairs = List.of(List.of(m.columns.get(0).name(), m.columns.get(1).name()));
        }
        for (List<String> pair : pairs) {
            ScoreColumn a = m.column(pair.get(0), "report.pareto");
            ScoreColumn b = m.column(pair.get(1), "report.pareto");
            List<Cell> cells = new ArrayList<>();
            List<double[]> pts = new ArrayList<>();
            for (Cell c : m.experiment.cells()) {
                Estimate ea = a.estimate(c.row(m.split));
                Estimate eb = b.estimate(c.row(m.split));
                if (ea != null && eb != null) {
                    cells.add(c);
                    pts.add(new double[] {ea.value(), eb.value()});
                }
            }
            if (pts.size() < 2) {
                continue;
            }
            XYChart chart = xyChart(b.name() + " vs " + a.name() + " (" + m.split + ")", a.name(), b.name());
            Map<String, List<double[]>> groups = new LinkedHashMap<>();
            for (int i = 0; i < cells.size(); i++) {
                Cell c = cells.get(i);
                groups.computeIfAbsent(c.isReference() ? "references" : c.method(), k -> new ArrayList<>())
                        .add(pts.get(i));
            }
            groups.forEach((g, p) -> {
                XYSeries s = chart.addSeries(unique(chart, g), column(p, 0), column(p, 1));
                s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                s.setMarker(g.equals("references") ? SeriesMarkers.SQUARE : SeriesMarkers.CIRCLE);
                s.setMarkerColor(g.equals("references") ? Color.DARK_GRAY : methodColor(g));
            });
            List<Integer> front = ParetoFront.of(column(pts, 0), column(pts, 1), a.higherIsBetter(),
                    b.higherIsBetter());
            XYSeries f = chart.addSeries(unique(chart, "Pareto front"),
                    front.stream().mapToDouble(i -> pts.get(i)[0]).toArray(),
                    front.stream().mapToDouble(i -> pts.get(i)[1]).toArray());
            f.setLineColor(Color.BLACK);
            f.setLineWidth(2f);
            f.setMarker(SeriesMarkers.NONE);
            for (int i = 0; i < cells.size(); i++) {
                if (cells.get(i).isReference() || front.contains(i)) {
                    chart.addAnnotation(new AnnotationText(cells.get(i).label(), pts.get(i)[0], pts.get(i)[1], false));
                }
            }
            add("pareto_" + Format.slug(a.name()) + "_vs_" + Format.slug(b.name()), chart,
                    "Every cell on " + a.name() + " and " + b.name() + "; the line joins the cells no other cell beats"
                            + " on both (" + direction(a) + ", " + direction(b) + ")");
        }
        return null;
    }

    private static String direction(ScoreColumn c) {
        return c.name() + (c.higherIsBetter() ? " higher is better" : " lower is better");
    }

    // ---------------------------------------------------------------- heatmaps

    private String heatmaps() {
        List<ReportSpec.Heatmap> asked = m.spec.heatmaps();
        List<ReportSpec.Heatmap> maps = new ArrayList<>();
        if (asked == null) {
            for (Experiment.Series g : m.experiment.methodGroups()) {
                List<String> varying = Experiment.varyingNumbers(g.cells());
                if (varying.size() == 2) {
                    boolean xFirst = !varying.get(1).equals(x);
                    maps.add(new ReportSpec.Heatmap(g.method(), xFirst ? varying.get(0) : varying.get(1),
                            xFirst ? varying.get(1) : varying.get(0), null));
                }
            }
        } else {
            maps.addAll(asked);
        }
        boolean drawn = false;
        for (ReportSpec.Heatmap h : maps) {
            String score = h.score() != null ? h.score()
                    : m.normalizer.isEmpty() ? m.columns.get(0).name() : ReportSpec.NORMALIZED_MEAN;
            Scorer scorer = Scorer.of(score, m.columns, m.normalizer, m.experiment);
            for (Experiment.Series g : m.experiment.methodGroups()) {
                if (h.method() != null && !h.method().equals(g.method())) {
                    continue;
                }
                drawn |= heatmap(g, h.x(), h.y(), scorer);
            }
        }
        return drawn ? null : "no method varies two numeric parameters"
                + (asked == null ? "" : " named in report.heatmap");
    }

    private boolean heatmap(Experiment.Series group, String px, String py, Scorer scorer) {
        // mean over the cells that share a grid point (seeds, other parameters)
        Map<List<Double>, double[]> sums = new HashMap<>();
        TreeSet<Double> xs = new TreeSet<>();
        TreeSet<Double> ys = new TreeSet<>();
        int shared = 0;
        for (Cell c : group.cells()) {
            Double vx = c.number(px);
            Double vy = c.number(py);
            Double v = scorer.score(c, m.split);
            if (vx == null || vy == null || v == null) {
                continue;
            }
            xs.add(vx);
            ys.add(vy);
            double[] s = sums.computeIfAbsent(List.of(vx, vy), k -> new double[2]);
            s[0] += v;
            s[1]++;
            shared = Math.max(shared, (int) s[1]);
        }
        if (xs.size() < 2 || ys.size() < 2) {
            return false;
        }
        List<Double> xl = List.copyOf(xs);
        List<Double> yl = List.copyOf(ys);
        List<Number[]> heat = new ArrayList<>();
        sums.forEach((k, s) -> heat.add(new Number[] {xl.indexOf(k.get(0)), yl.indexOf(k.get(1)), s[0] / s[1]}));
        heat.sort((p, q) -> p[0].intValue() != q[0].intValue() ? Integer.compare(p[0].intValue(), q[0].intValue())
                : Integer.compare(p[1].intValue(), q[1].intValue()));
        HeatMapChart chart = heatChart(group.label() + ": " + scorer.description() + " over " + px + " × " + py
                + " (" + m.split + ")", px, py);
        chart.addSeries(scorer.selector(), xl.stream().map(Format::param).toList(),
                yl.stream().map(Format::param).toList(), heat);
        add("heatmap_" + group.slug() + "_" + Format.slug(px) + "_" + Format.slug(py), chart,
                group.label() + ": " + scorer.description() + " at each " + px + " × " + py + " grid point"
                        + (shared > 1 ? " (mean of up to " + shared + " cells sharing a point)" : ""));
        return true;
    }

    private String layers() {
        ReportSpec.LayerMap spec = m.spec.layers();
        NormStatistic stat = spec == null ? NormStatistic.NORM_RATIO : spec.statistic();
        List<Cell> cells;
        String label;
        if (spec != null && spec.cells() != null) {
            cells = spec.cells().stream().map(m.experiment::byLabel).toList();
            label = "chosen cells";
        } else {
            Experiment.Series chosen = m.series.stream()
                    .filter(s -> spec == null || spec.method() == null || s.method().equals(spec.method()))
                    .filter(s -> s.cells().stream().anyMatch(c -> c.norms() != null && !c.norms().layers().isEmpty()))
                    .findFirst().orElse(null);
            if (chosen == null) {
                return "no merge along '" + x + "' has per-layer norm statistics";
            }
            cells = chosen.cells();
            label = chosen.label();
        }
        TreeSet<Integer> layerIds = new TreeSet<>();
        cells.forEach(c -> {
            if (c.norms() != null) {
                c.norms().layers().forEach(l -> layerIds.add(l.layer()));
            }
        });
        if (layerIds.isEmpty()) {
            return "the chosen cells have no per-layer norm statistics";
        }
        List<Integer> layerList = List.copyOf(layerIds);
        boolean byX = spec == null || spec.cells() == null;
        List<String> columns = cells.stream().map(c -> byX ? Format.param(c.number(x)) : c.label()).toList();
        List<Number[]> heat = new ArrayList<>();
        for (int ci = 0; ci < cells.size(); ci++) {
            ResultRow.Norms n = cells.get(ci).norms();
            if (n == null) {
                continue;
            }
            for (ResultRow.LayerNorms l : n.layers()) {
                Double v = l.statistic(stat);
                if (v != null) {
                    heat.add(new Number[] {ci, layerList.indexOf(l.layer()), v});
                }
            }
        }
        HeatMapChart chart = heatChart(label + ": per-layer " + stat.jsonName(), byX ? x : "cell", "layer");
        // numbers in the cells only while they fit (a 32-layer model gets colours alone)
        chart.getStyler().setShowValue(layerList.size() <= 16 && cells.size() <= 12);
        chart.getStyler().setHeatMapValueDecimalPattern("0.000");
        chart.addSeries(stat.jsonName(), columns,
                layerList.stream().map(l -> l < 0 ? "emb/head" : String.valueOf(l)).toList(), heat);
        add("layers_" + stat.jsonName() + "_" + Format.slug(label), chart, stat.description() + " per layer for "
                + label + " (emb/head: embeddings, final norm and lm_head)");
        return null;
    }

    // ---------------------------------------------------------------- chart plumbing

    private XYChart xyChart(String title, String xTitle, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        Styler s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setLegendBorderColor(Color.LIGHT_GRAY);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        chart.getStyler().setMarkerSize(7);
        chart.getStyler().setPlotBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesColor(new Color(0xE5E5E5));
        chart.getStyler().setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        return chart;
    }

    private HeatMapChart heatChart(String title, String xTitle, String yTitle) {
        HeatMapChart chart = new HeatMapChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        chart.getStyler().setShowValue(true);
        chart.getStyler().setHeatMapValueDecimalPattern("0.00");
        chart.getStyler().setValueFontColor(Color.BLACK);
        chart.getStyler().setRangeColors(new Color[] {new Color(0xFFFFCC), new Color(0xA1DAB4),
            new Color(0x41B6C4), new Color(0x2C7FB8)});
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        return chart;
    }

    private static void line(XYChart chart, String label, double[] xs, double[] ys, Color color, Marker marker) {
        XYSeries s = chart.addSeries(unique(chart, label), xs, ys);
        s.setLineColor(color);
        s.setMarkerColor(color);
        s.setMarker(marker);
        s.setXYSeriesRenderStyle(xs.length == 1 ? XYSeries.XYSeriesRenderStyle.Scatter
                : XYSeries.XYSeriesRenderStyle.Line);
    }

    private Color methodColor(String method) {
        int i = m.experiment.methods().indexOf(method);
        return PALETTE[Math.max(i, 0) % PALETTE.length];
    }

    private double[] xRange(Collection<Experiment.Series> series) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Experiment.Series s : series) {
            for (Cell c : s.cells()) {
                lo = Math.min(lo, c.number(x));
                hi = Math.max(hi, c.number(x));
            }
        }
        return new double[] {lo, hi};
    }

    private static double[] column(List<double[]> pts, int k) {
        return pts.stream().mapToDouble(p -> p[k]).toArray();
    }

    /** XChart keys series by name: a second "lerp" would replace nothing but throw. */
    private static String unique(Chart<?, ?> chart, String name) {
        String n = name;
        for (int k = 2; chart.getSeriesMap().containsKey(n); k++) {
            n = name + " (" + k + ")";
        }
        return n;
    }

    private void add(String name, Chart<?, ?> chart, String caption) {
        String n = name;
        for (int k = 2; !names.add(n); k++) {
            n = name + "-" + k;
        }
        plots.add(new Plot(n, chart.getTitle(), caption, chart));
    }

}
