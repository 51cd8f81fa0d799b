package org.mergelab.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.mergelab.BadInputException;

/**
 * Normalized scores as in the task-arithmetic and TIES papers: per task, the merged model's primary metric as a
 * percentage of the task's expert on that task (100 = as good as the expert; for lower-is-better metrics such as
 * bits per byte the ratio is inverted, expert ÷ merged, so that higher stays better), and their mean over tasks
 * (the mean of per-task ratios, not the ratio of means).
 */
public final class Normalizer {
    private final Map<String, Cell> experts;

    private Normalizer(Map<String, Cell> experts) {
        this.experts = experts;
    }

    /** The spec's experts resolved against the results; empty when the spec names none. */
    public static Normalizer of(ReportSpec spec, Experiment experiment) {
        Map<String, Cell> experts = new LinkedHashMap<>();
        spec.experts().forEach((task, ref) -> {
            if (!experiment.tasks().contains(task)) {
                throw new BadInputException(spec.file() + ": report.experts: no task '" + task + "' in the results"
                        + " (tasks present: " + String.join(", ", experiment.tasks()) + ")");
            }
            Cell cell = experiment.reference(ref);
            if (cell == null) {
                throw new BadInputException(spec.file() + ": report.experts." + task + ": no reference '" + ref
                        + "' in the results (references: " + String.join(", ",
                                experiment.references().stream().map(Cell::label).toList()) + ")");
            }
            experts.put(task, cell);
        });
        return new Normalizer(experts);
    }

    public boolean isEmpty() {
        return experts.isEmpty();
    }

    /** Task → its expert reference, in the spec's order. */
    public Map<String, Cell> experts() {
        return experts;
    }

    /**
     * {@code cell}'s score on {@code task} in percent of the expert's; null when either lacks it or the ratio would
     * divide by 0.
     */
    public Estimate ratio(Cell cell, String task, String split) {
        Cell expert = experts.get(task);
        ResultRow.Metric m = primary(cell, task, split);
        ResultRow.Metric e = primary(expert, task, split);
        if (m == null || e == null || m.value() == null || e.value() == null) {
            return null;
        }
        if (cell.id().equals(expert.id())) {
            return new Estimate(100, 0.0, List.of(m.n())); // the expert against itself, exactly
        }
        double num = m.higherIsBetter() ? m.value() : e.value();
        double den = m.higherIsBetter() ? e.value() : m.value();
        double numSe = m.higherIsBetter() ? nz(m.stderr()) : nz(e.stderr());
        double denSe = m.higherIsBetter() ? nz(e.stderr()) : nz(m.stderr());
        if (den == 0) {
            return null; // a ratio to nothing: an expert scoring 0, or a perfect lower-is-better score
        }
        double r = 100 * num / den; // 0 is a real score (the merge lost the skill), not a missing one
        Double se = null;
        if (m.stderr() != null && e.stderr() != null) {
            // delta method for a ratio a / b of independent estimates: se² = (se_a / b)² + (a · se_b / b²)²
            se = 100 * Math.hypot(numSe / den, num * denSe / (den * den));
        }
        return new Estimate(r, se, List.of(m.n()));
    }

    private static double nz(Double v) {
        return v == null ? 0 : v;
    }

    /** The mean of the per-task ratios, or null when a task's ratio is missing. */
    public Estimate mean(Cell cell, String split) {
        List<Estimate> parts = new ArrayList<>();
        for (String task : experts.keySet()) {
            Estimate r = ratio(cell, task, split);
            if (r == null) {
                return null;
            }
            parts.add(r);
        }
        return parts.isEmpty() ? null : Estimate.mean(parts);
    }

    private static ResultRow.Metric primary(Cell cell, String task, String split) {
        ResultRow row = cell.row(split);
        ResultRow.TaskScores ts = row == null ? null : row.tasks().get(task);
        return ts == null ? null : ts.metric(ts.primary());
    }
}
