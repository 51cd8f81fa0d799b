package org.mergelab.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.DoubleUnaryOperator;

import org.mergelab.BadInputException;

/**
 * A table column made evaluable: its value on a result row with a standard error (delta method through the
 * transform, independent tasks for a composite), its direction, and its value recomputed from resampled per-item
 * scores for the paired bootstrap.
 */
public final class ScoreColumn {
    private final ReportSpec.Column spec;
    private final boolean higherIsBetter;

    private ScoreColumn(ReportSpec.Column spec, boolean higherIsBetter) {
        this.spec = spec;
        this.higherIsBetter = higherIsBetter;
    }

    /** The spec's columns, or every task's primary metric; checked against what the results contain. */
    public static List<ScoreColumn> resolve(ReportSpec spec, Experiment experiment) {
        List<ReportSpec.Column> columns = spec.columns();
        if (columns == null) {
            columns = experiment.tasks().stream().map(t -> new ReportSpec.Column(t,
                    List.of(new ReportSpec.Component(t, null, 1, ReportSpec.Transform.NONE)), 3)).toList();
        }
        List<ScoreColumn> out = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            ReportSpec.Column c = columns.get(i);
            String where = spec.columns() == null ? "task '" + c.name() + "'" : "report.columns[" + i + "]";
            Boolean direction = null;
            for (ReportSpec.Component part : c.components()) {
                Boolean d = direction(experiment, part, spec, where);
                if (direction != null && !direction.equals(d)) {
                    throw new BadInputException(spec.file() + ": " + where + " (" + c.name() + ") averages a"
                            + " higher-is-better and a lower-is-better score; flip one with a negative scale or a"
                            + " transform");
                }
                direction = d;
            }
            out.add(new ScoreColumn(c, direction));
        }
        return List.copyOf(out);
    }

    /** Whether higher is better for this component, from the first row that has its metric. */
    private static boolean direction(Experiment experiment, ReportSpec.Component part, ReportSpec spec,
            String where) {
        boolean taskSeen = false;
        for (Cell cell : experiment.cells()) {
            for (ResultRow row : cell.bySplit().values()) {
                ResultRow.TaskScores ts = row.tasks().get(part.task());
                if (ts == null) {
                    continue;
                }
                taskSeen = true;
                ResultRow.Metric m = ts.metric(metricName(part, ts));
                if (m != null) {
                    return m.higherIsBetter() ^ part.transform().decreasing() ^ part.scale() < 0;
                }
            }
        }
        throw new BadInputException(spec.file() + ": " + where + ": " + (taskSeen
                ? "no result has metric '" + part.metric() + "' for task '" + part.task() + "'"
                : "no result has task '" + part.task() + "' (tasks present: "
                        + String.join(", ", experiment.tasks()) + ")"));
    }

    private static String metricName(ReportSpec.Component part, ResultRow.TaskScores ts) {
        return part.metric() != null ? part.metric() : ts.primary();
    }

    public String name() {
        return spec.name();
    }

    public int decimals() {
        return spec.decimals();
    }

    public boolean higherIsBetter() {
        return higherIsBetter;
    }

    public List<ReportSpec.Component> components() {
        return spec.components();
    }

    /** True when {@code a} is a better score than {@code b} for this column. */
    public boolean better(double a, double b) {
        return higherIsBetter ? a > b : a < b;
    }

    /** The column's value on {@code row}, or null when a task or metric is missing from it. */
    public Estimate estimate(ResultRow row) {
        if (row == null) {
            return null;
        }
        List<Estimate> parts = new ArrayList<>();
        for (ReportSpec.Component part : spec.components()) {
            ResultRow.TaskScores ts = row.tasks().get(part.task());
            ResultRow.Metric m = ts == null ? null : ts.metric(metricName(part, ts));
            if (m == null || m.value() == null) {
                return null;
            }
            double x = m.value();
            double scale = Math.abs(part.scale());
            Double se = m.stderr() == null ? null : m.stderr() * part.transform().slope(x) * scale;
            parts.add(new Estimate(part.scale() * part.transform().apply(x), se, List.of(m.n())));
        }
        return parts.size() == 1 ? parts.get(0) : Estimate.mean(parts);
    }

    /**
     * The column's value when each task's primary metric takes the value in {@code primaries} (a bootstrap
     * resample), or null when a component's metric cannot be derived from the primary's items.
     */
    Double fromPrimaries(ResultRow row, Map<String, Double> primaries) {
        double sum = 0;
        for (ReportSpec.Component part : spec.components()) {
            ResultRow.TaskScores ts = row.tasks().get(part.task());
            Double p = primaries.get(part.task());
            DoubleUnaryOperator g = ts == null ? null : derivation(ts.primary(), metricName(part, ts));
            if (p == null || g == null) {
                return null;
            }
            sum += part.scale() * part.transform().apply(g.applyAsDouble(p));
        }
        return sum / spec.components().size();
    }

    /** Whether {@link #fromPrimaries} can evaluate this column on {@code row}. */
    boolean derivable(ResultRow row) {
        for (ReportSpec.Component part : spec.components()) {
            ResultRow.TaskScores ts = row.tasks().get(part.task());
            if (ts == null || derivation(ts.primary(), metricName(part, ts)) == null) {
                return false;
            }
        }
        return true;
    }

    /**
     * How a metric follows from its task's primary metric (eval computes them together), or null when it does not
     * (acc_norm from acc, word_perplexity from bits_per_byte need more than the per-item primary).
     */
    static DoubleUnaryOperator derivation(String primary, String metric) {
        if (Objects.equals(primary, metric)) {
            return DoubleUnaryOperator.identity();
        }
        return switch (primary + "→" + metric) {
            case "refusal_rate→willingness" -> r -> 10 * (1 - r);
            case "willingness→refusal_rate" -> w -> 1 - w / 10;
            case "bits_per_byte→byte_perplexity" -> b -> Math.pow(2, b);
            default -> null;
        };
    }

    /** The definition in words, e.g. "mean of [knowledge acc × 100, restricted willingness × 10]". */
    public String definition() {
        List<String> parts = spec.components().stream().map(ScoreColumn::describe).toList();
        String body = parts.size() == 1 ? parts.get(0) : "mean of [" + String.join(", ", parts) + "]";
        return body + (higherIsBetter ? " (higher is better)" : " (lower is better)");
    }

    private static String describe(ReportSpec.Component c) {
        String metric = c.metric() == null ? "primary metric" : c.metric();
        String base = c.task() + " " + metric;
        if (c.transform() == ReportSpec.Transform.FLUENCY) {
            base = "fluency = 100·2^(−" + base + ")";
        }
        return c.scale() == 1 ? base : base + " × " + Format.param(c.scale());
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s = %s", name(), definition());
    }
}
