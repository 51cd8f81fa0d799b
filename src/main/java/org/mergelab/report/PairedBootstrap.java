package org.mergelab.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

/**
 * Paired bootstrap over items between each cell and a baseline reference, per column: resample each task's item
 * indices with replacement (the same indices for both models, so per-item pairing is kept; a weighted metric
 * resamples (item, weight) pairs), recompute both models' column values, and collect the differences.
 * <ul>
 * <li>95% CI of the difference: the 2.5% and 97.5% percentiles of the resampled differences;</li>
 * <li>two-sided p-value of "no difference": the share of resampled differences at least as far from the observed
 * one as the observed one is from 0 (the bootstrap distribution shifted to the null), counted as
 * (1 + #) / (1 + resamples) so it is never 0.</li>
 * </ul>
 * The draws depend only on (seed, task), so every comparison sees the same resamples and a report is reproducible.
 */
public final class PairedBootstrap {
    private PairedBootstrap() {}

    /**
     * One cell against the baseline on one column; the numbers are null when the comparison cannot be made, and
     * {@code note} says why.
     */
    public record Comparison(Cell cell, ScoreColumn column, Result result, String note) {}

    /** Observed difference (cell − baseline), its 95% CI, and the two-sided p-value. */
    public record Result(double diff, double lo, double hi, double p) {}

    public static List<Comparison> compare(List<Cell> cells, Cell baseline, List<ScoreColumn> columns, String split,
            ReportSpec.Bootstrap cfg) {
        ResultRow base = baseline.row(split);
        List<Cell> others = cells.stream().filter(c -> !c.id().equals(baseline.id()) && c.row(split) != null)
                .toList();
        Set<String> tasks = new LinkedHashSet<>();
        columns.forEach(col -> col.components().forEach(p -> tasks.add(p.task())));
        // per task: the observed primary value and its resamples, for the baseline and every comparable cell
        Map<String, Map<String, double[]>> resamples = new HashMap<>();
        Map<String, Map<String, Double>> observed = new HashMap<>();
        Map<String, Map<String, String>> unusable = new HashMap<>();
        for (String task : tasks) {
            ResultRow.TaskScores b = base == null ? null : base.tasks().get(task);
            Map<String, double[]> res = new HashMap<>();
            Map<String, Double> obs = new HashMap<>();
            Map<String, String> why = new HashMap<>();
            if (b == null || !b.hasItems() || !reproduces(b)) {
                String problem = b == null || !b.hasItems() ? "the baseline has no per-item scores for " + task
                        : "the baseline's per-item scores for " + task + " do not reproduce its " + b.primary();
                others.forEach(c -> why.put(c.id(), problem));
            } else {
                List<ResultRow.TaskScores> comparable = new ArrayList<>();
                List<String> ids = new ArrayList<>();
                for (Cell c : others) {
                    ResultRow.TaskScores ts = c.row(split).tasks().get(task);
                    String problem = ts == null || !ts.hasItems() ? "no per-item scores for " + task
                            : ts.items().length != b.items().length ? task + " has " + ts.items().length
                                    + " items, the baseline " + b.items().length
                            : ts.taskHash() != null && b.taskHash() != null && !ts.taskHash().equals(b.taskHash())
                                    ? task + " differs from the baseline's (task hash)"
                            : !Objects.equals(ts.primary(), b.primary()) ? task + " has another primary metric"
                            : !reproduces(ts) ? task + "'s per-item scores do not reproduce its " + ts.primary()
                            : null;
                    if (problem == null) {
                        comparable.add(ts);
                        ids.add(c.id());
                    } else {
                        why.put(c.id(), problem);
                    }
                }
                comparable.add(b);
                ids.add(baseline.id());
                double[][] r = resample(task, comparable, cfg);
                for (int i = 0; i < ids.size(); i++) {
                    res.put(ids.get(i), r[i]);
                    obs.put(ids.get(i), statistic(comparable.get(i), null));
                }
            }
            resamples.put(task, res);
            observed.put(task, obs);
            unusable.put(task, why);
        }
        List<Comparison> out = new ArrayList<>();
        for (Cell c : others) {
            for (ScoreColumn col : columns) {
                out.add(compareOne(c, baseline, col, split, cfg, resamples, observed, unusable));
            }
        }
        return out;
    }

    private static Comparison compareOne(Cell c, Cell baseline, ScoreColumn col, String split,
            ReportSpec.Bootstrap cfg, Map<String, Map<String, double[]>> resamples,
            Map<String, Map<String, Double>> observed, Map<String, Map<String, String>> unusable) {
        ResultRow row = c.row(split);
        ResultRow base = baseline.row(split);
        for (ReportSpec.Component part : col.components()) {
            String why = unusable.get(part.task()).get(c.id());
            if (why != null) {
                return new Comparison(c, col, null, why);
            }
        }
        if (!col.derivable(row) || !col.derivable(base)) {
            return new Comparison(c, col, null, "a metric of " + col.name()
                    + " is not a function of the per-item primary scores");
        }
        double d = difference(col, row, base, c.id(), baseline.id(), (t, id) -> observed.get(t).get(id));
        double[] diffs = new double[cfg.resamples()];
        for (int k = 0; k < diffs.length; k++) {
            int resample = k;
            diffs[k] = difference(col, row, base, c.id(), baseline.id(),
                    (t, id) -> resamples.get(t).get(id)[resample]);
        }
        return new Comparison(c, col, test(d, diffs), null);
    }

    /** Column(cell) − column(baseline) when task t's primary metric of model {@code id} is value(t, id). */
    private static double difference(ScoreColumn col, ResultRow row, ResultRow base, String cellId, String baseId,
            BiFunction<String, String, Double> value) {
        Map<String, Double> a = new HashMap<>();
        Map<String, Double> b = new HashMap<>();
        for (ReportSpec.Component part : col.components()) {
            a.put(part.task(), value.apply(part.task(), cellId));
            b.put(part.task(), value.apply(part.task(), baseId));
        }
        return col.fromPrimaries(row, a) - col.fromPrimaries(base, b);
    }

    /** The p-value and percentile CI from the observed difference and its resampled values. */
    static Result test(double observed, double[] resampled) {
        int extreme = 0;
        for (double d : resampled) {
            if (Math.abs(d - observed) >= Math.abs(observed)) {
                extreme++;
            }
        }
        double[] sorted = resampled.clone();
        Arrays.sort(sorted);
        return new Result(observed, quantile(sorted, 0.025), quantile(sorted, 0.975),
                (1.0 + extreme) / (1.0 + resampled.length));
    }

    /** Linear interpolation between order statistics (R's type 7). */
    static double quantile(double[] sorted, double q) {
        double h = (sorted.length - 1) * q;
        int lo = (int) Math.floor(h);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /**
     * The primary statistic of every model in {@code scores} (same task, same item count) on each resample: row
     * {@code i} holds model i's values. All models share each resample's indices.
     */
    private static double[][] resample(String task, List<ResultRow.TaskScores> scores, ReportSpec.Bootstrap cfg) {
        int n = scores.get(0).items().length;
        double[][] out = new double[scores.size()][cfg.resamples()];
        SplittableRandom rng = new SplittableRandom(cfg.seed() * 0x9E3779B97F4A7C15L + task.hashCode());
        int[] idx = new int[n];
        for (int k = 0; k < cfg.resamples(); k++) {
            for (int i = 0; i < n; i++) {
                idx[i] = rng.nextInt(n);
            }
            for (int m = 0; m < scores.size(); m++) {
                out[m][k] = statistic(scores.get(m), idx);
            }
        }
        return out;
    }

    /**
     * Whether the items (and weights) give the reported primary value: a weighted metric written without its
     * weights, or items of another metric, would make the bootstrap test something else than the table shows.
     */
    static boolean reproduces(ResultRow.TaskScores ts) {
        ResultRow.Metric m = ts.metric(ts.primary());
        if (m == null || m.value() == null) {
            return false;
        }
        double v = statistic(ts, null);
        return Math.abs(v - m.value()) <= 1e-6 * Math.max(1, Math.abs(m.value()));
    }

    /**
     * The corpus value of a primary metric over the items at {@code idx} (all items when null): the mean, or for
     * a weighted metric Σ itemᵢ·weightᵢ / Σ weightᵢ.
     */
    static double statistic(ResultRow.TaskScores ts, int[] idx) {
        double[] x = ts.items();
        double[] w = ts.weights();
        int n = idx == null ? x.length : idx.length;
        double num = 0;
        double den = 0;
        for (int j = 0; j < n; j++) {
            int i = idx == null ? j : idx[j];
            double wi = w == null ? 1 : w[i];
            num += x[i] * wi;
            den += wi;
        }
        return num / den;
    }
}
