package org.mergelab.report;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One number per cell that "best on val" maximizes and heatmaps colour by: a column, the mean normalized score, or
 * the mean relative score (per column, the cell's value as a fraction of the best value any cell reaches on that
 * split — best ÷ value for lower-is-better columns — averaged over columns: scale-free, 1 = best everywhere).
 */
public final class Scorer {
    private final String selector;
    private final List<ScoreColumn> columns;
    private final Normalizer normalizer;
    private final Experiment experiment;
    private final Map<String, Map<String, Double>> bestBySplit = new HashMap<>();

    private Scorer(String selector, List<ScoreColumn> columns, Normalizer normalizer, Experiment experiment) {
        this.selector = selector;
        this.columns = columns;
        this.normalizer = normalizer;
        this.experiment = experiment;
    }

    /** {@code selector}: a column name, normalized_mean or relative_mean; null = the default for these results. */
    public static Scorer of(String selector, List<ScoreColumn> columns, Normalizer normalizer, Experiment experiment) {
        String s = selector != null ? selector
                : normalizer.isEmpty() ? ReportSpec.RELATIVE_MEAN : ReportSpec.NORMALIZED_MEAN;
        return new Scorer(s, columns, normalizer, experiment);
    }

    public String selector() {
        return selector;
    }

    /** Whether a higher score is better (only a lower-is-better column says otherwise). */
    public boolean higherIsBetter() {
        ScoreColumn c = column();
        return c == null || c.higherIsBetter();
    }

    public String description() {
        return switch (selector) {
            case ReportSpec.NORMALIZED_MEAN -> "mean normalized score (% of each task's expert)";
            case ReportSpec.RELATIVE_MEAN -> "mean relative score (each column ÷ its best value on the split)";
            default -> selector;
        };
    }

    /** The cell's score on {@code split}, or null when a number it needs is missing. */
    public Double score(Cell cell, String split) {
        return switch (selector) {
            case ReportSpec.NORMALIZED_MEAN -> value(normalizer.mean(cell, split));
            case ReportSpec.RELATIVE_MEAN -> relativeMean(cell, split);
            default -> value(column().estimate(cell.row(split)));
        };
    }

    private ScoreColumn column() {
        return columns.stream().filter(c -> c.name().equals(selector)).findFirst().orElse(null);
    }

    private Double relativeMean(Cell cell, String split) {
        Map<String, Double> best = bestBySplit.computeIfAbsent(split, this::bestValues);
        double sum = 0;
        for (ScoreColumn c : columns) {
            Double v = value(c.estimate(cell.row(split)));
            Double b = best.get(c.name());
            if (v == null || b == null || v <= 0 || b <= 0) {
                return null;
            }
            sum += c.higherIsBetter() ? v / b : b / v;
        }
        return sum / columns.size();
    }

    private Map<String, Double> bestValues(String split) {
        Map<String, Double> best = new HashMap<>();
        for (ScoreColumn c : columns) {
            for (Cell cell : experiment.cells()) {
                Double v = value(c.estimate(cell.row(split)));
                if (v != null && (!best.containsKey(c.name()) || c.better(v, best.get(c.name())))) {
                    best.put(c.name(), v);
                }
            }
        }
        return best;
    }

    private static Double value(Estimate e) {
        return e == null ? null : e.value();
    }
}
