package org.mergelab.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.mergelab.BadInputException;

/**
 * A sweep's cells in a stable order, independent of the order results.jsonl was written in (cells run in
 * parallel finish in any order): references in the spec's order, then merges by the spec's method order, inputs,
 * parameters (numerically) and seed. Anything the spec does not list sorts after, by name.
 */
public final class Experiment {
    private final String name;
    private final List<Cell> cells;
    private final List<String> splits;
    private final List<String> tasks;
    private final List<String> warnings;

    private Experiment(String name, List<Cell> cells, List<String> warnings) {
        this.name = name;
        this.cells = cells;
        this.warnings = warnings;
        Set<String> s = new TreeSet<>();
        Set<String> t = new LinkedHashSet<>();
        for (Cell c : cells) {
            s.addAll(c.bySplit().keySet());
            c.bySplit().values().forEach(r -> t.addAll(r.tasks().keySet()));
        }
        this.splits = List.copyOf(s);
        this.tasks = List.copyOf(t);
    }

    /** The cells of experiment {@code spec.experiment()} in {@code results}. */
    public static Experiment of(ReportSpec spec, ResultsReader.Results results) {
        Map<String, List<ResultRow>> byCell = new LinkedHashMap<>();
        Set<String> others = new TreeSet<>();
        for (ResultRow r : results.rows()) {
            if (r.experiment() != null && !r.experiment().equals(spec.experiment())) {
                others.add(r.experiment());
                continue;
            }
            byCell.computeIfAbsent(r.cellId(), k -> new ArrayList<>()).add(r);
        }
        if (byCell.isEmpty()) {
            throw new BadInputException(results.file() + ": no rows of experiment '" + spec.experiment()
                    + "' (the file holds " + String.join(", ", others) + ")");
        }
        // a label names one cell; when the spec changed under a label (new model files, new recipe), the cell
        // written last is the current one and the earlier rows stay in the append-only file
        Map<String, Cell> byLabel = new LinkedHashMap<>();
        Map<String, Integer> lastRow = new HashMap<>();
        Map<ResultRow, Integer> position = new IdentityHashMap<>();
        for (int i = 0; i < results.rows().size(); i++) {
            position.put(results.rows().get(i), i);
        }
        List<String> warnings = new ArrayList<>();
        for (List<ResultRow> rows : byCell.values()) {
            ResultRow first = rows.get(0);
            Map<String, ResultRow> bySplit = new LinkedHashMap<>();
            rows.stream().sorted(Comparator.comparing(ResultRow::split)).forEach(r -> bySplit.put(r.split(), r));
            int last = rows.stream().mapToInt(position::get).max().orElseThrow();
            Cell cell = new Cell(first.cellId(), first.kind(), first.label(), first.method(), first.model(),
                    first.base(), first.models(), first.params(), first.seed(), Map.copyOf(bySplit));
            Integer other = lastRow.get(first.label());
            if (other != null) {
                warnings.add("Two cells are labelled '" + first.label() + "'; the report uses the one written last"
                        + " (cell " + (last > other ? cell.id() : byLabel.get(first.label()).id()) + ").");
                if (last < other) {
                    continue;
                }
            }
            byLabel.put(first.label(), cell);
            lastRow.put(first.label(), last);
        }
        List<Cell> cells = new ArrayList<>(byLabel.values());
        cells.sort(order(spec));
        return new Experiment(spec.experiment(), List.copyOf(cells), List.copyOf(warnings));
    }

    private static Comparator<Cell> order(ReportSpec spec) {
        Comparator<Cell> kind = Comparator.comparing(c -> !c.isReference());
        Comparator<Cell> reference = Comparator.comparing(
                c -> rank(spec.referenceOrder(), c.model() != null ? c.model() : c.label()));
        Comparator<Cell> method = Comparator.comparing(c -> rank(spec.methodOrder(), Objects.toString(c.method(), "")));
        return kind.thenComparing(reference).thenComparing(method)
                .thenComparing(c -> Objects.toString(c.method(), "")).thenComparing(Cell::inputs)
                .thenComparing(Experiment::compareParams).thenComparingLong(Cell::seed)
                .thenComparing(Cell::label);
    }

    /** Position in the spec's list, everything unlisted after it (ties broken by the caller's next key). */
    private static int rank(List<String> order, String name) {
        int i = order.indexOf(name);
        return i < 0 ? order.size() : i;
    }

    private static int compareParams(Cell a, Cell b) {
        TreeSet<String> keys = new TreeSet<>(a.params().keySet());
        keys.addAll(b.params().keySet());
        for (String k : keys) {
            int c = compareValues(a.params().get(k), b.params().get(k));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    /** Missing first, then numbers by value, then text. */
    static int compareValues(Object x, Object y) {
        if (x == null || y == null) {
            return x == y ? 0 : x == null ? -1 : 1;
        }
        if (x instanceof Double dx && y instanceof Double dy) {
            return Double.compare(dx, dy);
        }
        if (x instanceof Double != y instanceof Double) {
            return x instanceof Double ? -1 : 1;
        }
        return x.toString().compareTo(y.toString());
    }

    public String name() {
        return name;
    }

    public List<Cell> cells() {
        return cells;
    }

    public List<Cell> references() {
        return cells.stream().filter(Cell::isReference).toList();
    }

    public List<Cell> merges() {
        return cells.stream().filter(c -> !c.isReference()).toList();
    }

    /** What the reader of the report should know about the results (superseded cells). */
    public List<String> warnings() {
        return warnings;
    }

    /** The splits present, sorted. */
    public List<String> splits() {
        return splits;
    }

    /** Task names in order of first appearance along the stable cell order. */
    public List<String> tasks() {
        return tasks;
    }

    /** The cell labelled {@code label}, or null. */
    public Cell byLabel(String label) {
        return cells.stream().filter(c -> c.label().equals(label)).findFirst().orElse(null);
    }

    /** The reference whose model alias (or label) is {@code name}, or null. */
    public Cell reference(String name) {
        return references().stream().filter(c -> name.equals(c.model())).findFirst()
                .orElseGet(() -> references().stream().filter(c -> c.label().equals(name)).findFirst().orElse(null));
    }

    /** Merge methods in row order. */
    public List<String> methods() {
        return merges().stream().map(Cell::method).filter(Objects::nonNull).distinct().toList();
    }

    /**
     * Merges that move along numeric parameter {@code x}, one series per (method, inputs, other parameters, seed),
     * each sorted by x. Series with a single point are kept (a plot shows them as a marker).
     */
    public List<Series> series(String x) {
        Map<List<Object>, List<Cell>> groups = new LinkedHashMap<>();
        for (Cell c : merges()) {
            if (c.number(x) == null) {
                continue;
            }
            Map<String, Object> rest = new java.util.TreeMap<>(c.params());
            rest.remove(x);
            groups.computeIfAbsent(List.of(Objects.toString(c.method(), ""), c.inputs(), rest, c.seed()),
                    k -> new ArrayList<>()).add(c);
        }
        List<Series> out = new ArrayList<>();
        for (List<Cell> g : groups.values()) {
            g.sort(Comparator.comparing(c -> c.number(x)));
            out.add(new Series(seriesLabel(g.get(0), Set.of(x)), g.get(0).method(), List.copyOf(g)));
        }
        return out;
    }

    /** Merges grouped by method and inputs: the candidates "best on val" chooses among. */
    public List<Series> methodGroups() {
        Map<List<String>, List<Cell>> groups = new LinkedHashMap<>();
        for (Cell c : merges()) {
            groups.computeIfAbsent(List.of(Objects.toString(c.method(), ""), c.inputs()), k -> new ArrayList<>())
                    .add(c);
        }
        List<Series> out = new ArrayList<>();
        for (List<Cell> g : groups.values()) {
            Cell first = g.get(0);
            boolean inputsVary = merges().stream().filter(c -> Objects.equals(c.method(), first.method()))
                    .map(Cell::inputs).distinct().count() > 1;
            out.add(new Series(first.method() + (inputsVary ? " (" + first.inputs() + ")" : ""), first.method(),
                    List.copyOf(g)));
        }
        return out;
    }

    /**
     * The method, plus whatever tells this cell's series apart from the method's other series: inputs, parameters
     * other than {@code exclude}, seed — only those that vary among the method's merges.
     */
    String seriesLabel(Cell cell, Set<String> exclude) {
        List<Cell> same = merges().stream().filter(c -> Objects.equals(c.method(), cell.method())).toList();
        StringBuilder sb = new StringBuilder(Objects.toString(cell.method(), cell.label()));
        if (varies(same, Cell::inputs)) {
            sb.append(" (").append(cell.inputs()).append(')');
        }
        TreeSet<String> keys = new TreeSet<>();
        same.forEach(c -> keys.addAll(c.params().keySet()));
        for (String k : keys) {
            if (!exclude.contains(k) && varies(same, c -> c.params().get(k))) {
                sb.append(' ').append(k).append('=').append(Format.param(cell.params().get(k)));
            }
        }
        if (varies(same, Cell::seed)) {
            sb.append(" seed=").append(cell.seed());
        }
        return sb.toString();
    }

    private static boolean varies(List<Cell> cells, Function<Cell, Object> f) {
        return cells.stream().map(c -> Objects.toString(f.apply(c))).distinct().count() > 1;
    }

    /** Numeric parameters with at least two values among {@code cells}, in name order. */
    static List<String> varyingNumbers(List<Cell> cells) {
        TreeSet<String> keys = new TreeSet<>();
        cells.forEach(c -> keys.addAll(c.params().keySet()));
        return keys.stream().filter(k -> cells.stream().map(c -> c.number(k)).filter(Objects::nonNull).distinct()
                .count() > 1).collect(Collectors.toList());
    }

    /** A sequence of merges of one method; for {@link #series} ordered by x. */
    public record Series(String label, String method, List<Cell> cells) {
        public String slug() {
            return Format.slug(label);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s: %d cells", name, cells.size());
    }
}
