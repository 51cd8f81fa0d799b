package org.mergelab.report;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.mergelab.BadInputException;
import org.mergelab.merge.ConfigParser;

/**
 * Reads a sweep spec's {@code name} and {@code report:} section into a {@link ReportSpec}. The rest of the spec
 * belongs to the sweep runner; only the order of {@code references:} and of {@code merges[].method} is read, as the
 * default row order. Every problem is one line naming the file and the key.
 */
public final class ReportSpecParser {
    private static final Set<String> REPORT_KEYS = Set.of("title", "split", "select_on", "baseline", "experts",
            "columns", "rows", "x", "plots", "norm_statistic", "pareto", "heatmap", "layers", "select_by",
            "bootstrap", "cliff_fraction", "published");

    private final Path file;

    private ReportSpecParser(Path file) {
        this.file = file;
    }

    public static ReportSpec parse(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": spec file not found");
        } catch (MalformedInputException e) {
            throw new BadInputException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read the spec ("
                    + (Files.isDirectory(file) ? "it is a folder" : e.getMessage()) + ")");
        }
        return parse(file, text);
    }

    public static ReportSpec parse(Path file, String text) {
        return new ReportSpecParser(file).spec(ConfigParser.loadYaml(file, text));
    }

    private ReportSpec spec(Object root) {
        if (root == null) {
            throw bad("empty spec");
        }
        Map<String, Object> top = mapping(root, "the top level");
        String name = top.get("name") == null ? defaultName() : string(top.get("name"), "name");
        Map<String, Object> r = top.get("report") == null ? Map.of() : mapping(top.get("report"), "report");
        for (String key : r.keySet()) {
            if (!REPORT_KEYS.contains(key)) {
                throw bad("report has unknown key '" + key + "'; expected one of " + sorted(REPORT_KEYS));
            }
        }
        List<ReportSpec.Column> columns = r.get("columns") == null ? null : columns(r.get("columns"));
        Set<String> columnNames = columns == null ? null
                : columns.stream().map(ReportSpec.Column::name).collect(Collectors.toSet());
        String title = optString(r, "title");
        String split = optString(r, "split");
        String selectOn = optString(r, "select_on");
        if (split != null && split.equals(selectOn)) {
            throw bad("report.select_on must differ from report.split ('" + split + "'): select on one split,"
                    + " report on another");
        }
        Map<String, String> experts = new LinkedHashMap<>();
        if (r.get("experts") != null) {
            mapping(r.get("experts"), "report.experts")
                    .forEach((task, ref) -> experts.put(task, string(ref, "report.experts." + task)));
        }
        String x = r.get("x") == null ? "t" : string(r.get("x"), "report.x");
        NormStatistic normStatistic = r.get("norm_statistic") == null ? NormStatistic.NORM_RATIO
                : normStatistic(r.get("norm_statistic"), "report.norm_statistic", false);
        List<List<String>> pareto = r.get("pareto") == null ? null : pareto(r.get("pareto"), columnNames);
        String selectBy = optString(r, "select_by");
        if (selectBy != null && columnNames != null && !columnNames.contains(selectBy)
                && !selectBy.equals(ReportSpec.NORMALIZED_MEAN) && !selectBy.equals(ReportSpec.RELATIVE_MEAN)) {
            throw bad("report.select_by: '" + selectBy + "' is not a column; expected a column name, "
                    + ReportSpec.NORMALIZED_MEAN + " or " + ReportSpec.RELATIVE_MEAN);
        }
        if (ReportSpec.NORMALIZED_MEAN.equals(selectBy) && experts.isEmpty()) {
            throw bad("report.select_by: normalized_mean needs report.experts (task: expert reference)");
        }
        double cliff = r.get("cliff_fraction") == null ? 0.5 : number(r.get("cliff_fraction"), "report.cliff_fraction");
        if (!(cliff > 0 && cliff < 1)) {
            throw bad("report.cliff_fraction must be in (0, 1), got " + cliff);
        }
        return new ReportSpec(file, name, title, split, selectOn, optString(r, "baseline"), experts, columns,
                rows(r.get("rows")), x, plots(r.get("plots")), normStatistic, pareto, heatmaps(r.get("heatmap"), x),
                layers(r.get("layers")), selectBy, bootstrap(r.get("bootstrap")), cliff,
                published(r.get("published"), columnNames), referenceOrder(top.get("references")),
                methodOrder(top.get("merges")));
    }

    private String defaultName() {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    // ---------------------------------------------------------------- columns

    private List<ReportSpec.Column> columns(Object node) {
        List<?> list = list(node, "report.columns");
        if (list.isEmpty()) {
            throw bad("report.columns must list at least one column (omit it for every task's primary metric)");
        }
        List<ReportSpec.Column> columns = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String where = "report.columns[" + i + "]";
            Map<String, Object> m = mapping(list.get(i), where);
            allowKeys(m, where, "name", "task", "metric", "scale", "transform", "mean", "decimals");
            String name = string(m.get("name"), where + ".name");
            if (!names.add(name)) {
                throw bad(where + ".name: duplicate column name '" + name + "'");
            }
            int decimals = m.get("decimals") == null ? 2 : integer(m.get("decimals"), where + ".decimals");
            if (decimals < 0 || decimals > 6) {
                throw bad(where + ".decimals must be between 0 and 6, got " + decimals);
            }
            List<ReportSpec.Component> components = new ArrayList<>();
            if (m.get("mean") != null) {
                for (String k : List.of("task", "metric", "scale", "transform")) {
                    if (m.containsKey(k)) {
                        throw bad(where + ": give either 'mean:' (a list of {task, metric, scale, transform}) or '"
                                + k + "', not both");
                    }
                }
                List<?> parts = list(m.get("mean"), where + ".mean");
                if (parts.size() < 2) {
                    throw bad(where + ".mean must list at least two components");
                }
                for (int j = 0; j < parts.size(); j++) {
                    String w = where + ".mean[" + j + "]";
                    Map<String, Object> c = mapping(parts.get(j), w);
                    allowKeys(c, w, "task", "metric", "scale", "transform");
                    components.add(component(c, w));
                }
            } else {
                components.add(component(m, where));
            }
            columns.add(new ReportSpec.Column(name, List.copyOf(components), decimals));
        }
        return List.copyOf(columns);
    }

    private ReportSpec.Component component(Map<String, Object> m, String where) {
        String task = string(m.get("task"), where + ".task");
        String metric = m.get("metric") == null ? null : string(m.get("metric"), where + ".metric");
        double scale = m.get("scale") == null ? 1 : number(m.get("scale"), where + ".scale");
        if (scale == 0) {
            throw bad(where + ".scale must not be 0");
        }
        ReportSpec.Transform transform = ReportSpec.Transform.NONE;
        if (m.get("transform") != null) {
            String t = string(m.get("transform"), where + ".transform");
            transform = switch (t) {
                case "none" -> ReportSpec.Transform.NONE;
                case "fluency" -> ReportSpec.Transform.FLUENCY;
                default -> throw bad(where + ".transform: unknown transform '" + t + "'; expected none or fluency");
            };
            if (transform == ReportSpec.Transform.FLUENCY && !"bits_per_byte".equals(metric)) {
                throw bad(where + ": transform fluency (100·2^(−bits per byte)) needs metric: bits_per_byte");
            }
        }
        return new ReportSpec.Component(task, metric, scale, transform);
    }

    // ---------------------------------------------------------------- rows

    private ReportSpec.Rows rows(Object node) {
        if (node == null) {
            return ReportSpec.Rows.ALL;
        }
        if (node instanceof List<?>) {
            List<String> labels = strings(node, "report.rows");
            if (labels.isEmpty()) {
                throw bad("report.rows must list at least one row label");
            }
            return new ReportSpec.Rows(labels, null, null, Map.of());
        }
        Map<String, Object> m = mapping(node, "report.rows");
        allowKeys(m, "report.rows", "references", "methods", "where");
        Map<String, Object> where = new LinkedHashMap<>();
        if (m.get("where") != null) {
            mapping(m.get("where"), "report.rows.where").forEach((k, v) -> {
                if (v instanceof Map<?, ?> || v instanceof List<?> || v == null) {
                    throw bad("report.rows.where." + k + " must be a number or a string");
                }
                where.put(k, v instanceof Number num ? (Object) num.doubleValue() : v.toString());
            });
        }
        return new ReportSpec.Rows(null, m.get("references") == null ? null : strings(m.get("references"),
                "report.rows.references"), m.get("methods") == null ? null : strings(m.get("methods"),
                "report.rows.methods"), where);
    }

    // ---------------------------------------------------------------- plots

    private Set<ReportSpec.PlotKind> plots(Object node) {
        if (node == null) {
            return null;
        }
        Set<ReportSpec.PlotKind> kinds = EnumSet.noneOf(ReportSpec.PlotKind.class);
        for (String s : strings(node, "report.plots")) {
            ReportSpec.PlotKind kind = Stream.of(ReportSpec.PlotKind.values()).filter(k -> k.yamlName.equals(s))
                    .findFirst().orElseThrow(() -> bad("report.plots: unknown plot '" + s + "'; expected any of "
                            + Stream.of(ReportSpec.PlotKind.values()).map(k -> k.yamlName)
                                    .collect(Collectors.joining(", "))));
            kinds.add(kind);
        }
        return kinds;
    }

    private List<List<String>> pareto(Object node, Set<String> columnNames) {
        List<?> list = list(node, "report.pareto");
        List<List<String>> pairs = new ArrayList<>();
        // one pair [A, B], or a list of pairs [[A, B], [C, D]]
        boolean nested = !list.isEmpty() && list.get(0) instanceof List<?>;
        List<?> raw = nested ? list : List.of(list);
        for (int i = 0; i < raw.size(); i++) {
            String where = nested ? "report.pareto[" + i + "]" : "report.pareto";
            List<String> pair = strings(raw.get(i), where);
            if (pair.size() != 2 || pair.get(0).equals(pair.get(1))) {
                throw bad(where + " must name two different columns, e.g. [NatInt*, W/10*]");
            }
            for (String c : pair) {
                if (columnNames != null && !columnNames.contains(c)) {
                    throw bad(where + ": '" + c + "' is not a column of report.columns");
                }
            }
            pairs.add(pair);
        }
        return List.copyOf(pairs);
    }

    private List<ReportSpec.Heatmap> heatmaps(Object node, String defaultX) {
        if (node == null) {
            return null;
        }
        List<?> list = node instanceof List<?> l ? l : List.of(node);
        List<ReportSpec.Heatmap> maps = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String where = node instanceof List<?> ? "report.heatmap[" + i + "]" : "report.heatmap";
            Map<String, Object> m = mapping(list.get(i), where);
            allowKeys(m, where, "method", "x", "y", "score");
            String x = string(m.get("x"), where + ".x");
            String y = string(m.get("y"), where + ".y");
            if (x.equals(y)) {
                throw bad(where + ": x and y must be two different parameters");
            }
            maps.add(new ReportSpec.Heatmap(optString(m, "method", where), x, y, optString(m, "score", where)));
        }
        return List.copyOf(maps);
    }

    private ReportSpec.LayerMap layers(Object node) {
        if (node == null) {
            return null;
        }
        Map<String, Object> m = mapping(node, "report.layers");
        allowKeys(m, "report.layers", "method", "cells", "statistic");
        if (m.get("method") != null && m.get("cells") != null) {
            throw bad("report.layers: give either method or cells, not both");
        }
        NormStatistic s = m.get("statistic") == null ? NormStatistic.NORM_RATIO
                : normStatistic(m.get("statistic"), "report.layers.statistic", true);
        return new ReportSpec.LayerMap(optString(m, "method", "report.layers"),
                m.get("cells") == null ? null : strings(m.get("cells"), "report.layers.cells"), s);
    }

    private ReportSpec.Bootstrap bootstrap(Object node) {
        if (node == null) {
            return ReportSpec.Bootstrap.DEFAULT;
        }
        Map<String, Object> m = mapping(node, "report.bootstrap");
        allowKeys(m, "report.bootstrap", "resamples", "seed");
        int resamples = m.get("resamples") == null ? ReportSpec.Bootstrap.DEFAULT.resamples()
                : integer(m.get("resamples"), "report.bootstrap.resamples");
        if (resamples < 100 || resamples > 1_000_000) {
            throw bad("report.bootstrap.resamples must be between 100 and 1000000, got " + resamples);
        }
        long seed = m.get("seed") == null ? ReportSpec.Bootstrap.DEFAULT.seed()
                : integer(m.get("seed"), "report.bootstrap.seed");
        return new ReportSpec.Bootstrap(resamples, seed);
    }

    private ReportSpec.Published published(Object node, Set<String> columnNames) {
        if (node == null) {
            return null;
        }
        Map<String, Object> m = mapping(node, "report.published");
        allowKeys(m, "report.published", "title", "note", "rows");
        String title = string(m.get("title"), "report.published.title");
        String note = string(m.get("note"), "report.published.note");
        List<?> list = list(m.get("rows"), "report.published.rows");
        if (list.isEmpty()) {
            throw bad("report.published.rows must list at least one row");
        }
        List<ReportSpec.PublishedRow> rows = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String where = "report.published.rows[" + i + "]";
            Map<String, Object> row = mapping(list.get(i), where);
            allowKeys(row, where, "label", "values");
            Map<String, Double> values = new LinkedHashMap<>();
            mapping(row.get("values"), where + ".values").forEach((col, v) -> {
                if (columnNames != null && !columnNames.contains(col)) {
                    throw bad(where + ".values: '" + col + "' is not a column of report.columns");
                }
                values.put(col, number(v, where + ".values." + col));
            });
            rows.add(new ReportSpec.PublishedRow(string(row.get("label"), where + ".label"), values));
        }
        return new ReportSpec.Published(title, note, List.copyOf(rows));
    }

    /** The spec's {@code references:} list when it is one (the sweep runner validates it). */
    private static List<String> referenceOrder(Object node) {
        if (!(node instanceof List<?> l)) {
            return List.of();
        }
        return l.stream().filter(String.class::isInstance).map(String.class::cast).distinct().toList();
    }

    /** The methods of the spec's {@code merges:} entries, in order of first appearance. */
    private static List<String> methodOrder(Object node) {
        if (!(node instanceof List<?> l)) {
            return List.of();
        }
        return l.stream().filter(Map.class::isInstance).map(m -> ((Map<?, ?>) m).get("method"))
                .filter(String.class::isInstance).map(String.class::cast).distinct().toList();
    }

    // ---------------------------------------------------------------- typed access

    private NormStatistic normStatistic(Object node, String where, boolean perLayer) {
        String s = string(node, where);
        NormStatistic stat = NormStatistic.byJsonName(s);
        if (stat == null || (perLayer && !stat.perLayer())) {
            throw bad(where + ": unknown " + (perLayer ? "per-layer " : "") + "norm statistic '" + s
                    + "'; expected one of " + NormStatistic.allNames(perLayer));
        }
        return stat;
    }

    private String optString(Map<String, Object> m, String key) {
        return optString(m, key, "report");
    }

    private String optString(Map<String, Object> m, String key, String where) {
        return m.get(key) == null ? null : string(m.get(key), where + "." + key);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> mapping(Object node, String where) {
        if (!(node instanceof Map<?, ?> m)) {
            throw bad(where + " must be a mapping (key: value), got " + describe(node));
        }
        for (Object k : m.keySet()) {
            if (!(k instanceof String)) {
                throw bad(where + " has a non-text key '" + k + "'");
            }
        }
        return (Map<String, Object>) m;
    }

    private List<?> list(Object node, String where) {
        if (!(node instanceof List<?> l)) {
            throw bad(where + " must be a list, got " + describe(node));
        }
        return l;
    }

    private List<String> strings(Object node, String where) {
        List<?> l = list(node, where);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            out.add(string(l.get(i), where + "[" + i + "]"));
        }
        return List.copyOf(out);
    }

    private String string(Object node, String where) {
        if (node == null) {
            throw bad("missing '" + where + "'");
        }
        if (node instanceof Map<?, ?> || node instanceof List<?>) {
            throw bad(where + " must be text, got " + describe(node));
        }
        String s = node.toString(); // a label such as 0.999 or true is still a label
        if (s.isBlank()) {
            throw bad(where + " must not be empty");
        }
        return s;
    }

    private double number(Object node, String where) {
        if (!(node instanceof Number n) || !Double.isFinite(n.doubleValue())) {
            throw bad(where + " must be a number, got " + describe(node));
        }
        return n.doubleValue();
    }

    private int integer(Object node, String where) {
        if (!(node instanceof Integer || node instanceof Long) || ((Number) node).longValue() != ((Number) node).intValue()) {
            throw bad(where + " must be an integer, got " + describe(node));
        }
        return ((Number) node).intValue();
    }

    private void allowKeys(Map<String, Object> m, String where, String... allowed) {
        Set<String> ok = Set.of(allowed);
        for (String k : m.keySet()) {
            if (!ok.contains(k)) {
                throw bad(where + " has unknown key '" + k + "'; expected " + String.join(", ", allowed));
            }
        }
    }

    private BadInputException bad(String message) {
        return new BadInputException(file + ": " + message);
    }

    private static String describe(Object node) {
        if (node instanceof Map<?, ?>) {
            return "a mapping";
        }
        if (node instanceof List<?>) {
            return "a list";
        }
        return node == null ? "nothing" : "'" + node + "'";
    }

    private static String sorted(Set<String> keys) {
        return keys.stream().sorted().collect(Collectors.joining(", "));
    }
}
