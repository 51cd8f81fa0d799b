package org.mergelab.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The non-dominated points of a two-score trade-off, each score with its own direction. */
final class ParetoFront {
    private ParetoFront() {}

    /**
     * Indices of the points no other point dominates (at least as good on both scores and better on one), sorted
     * by x. Duplicated points are all kept.
     */
    static List<Integer> of(double[] xs, double[] ys, boolean xHigherBetter, boolean yHigherBetter) {
        List<Integer> front = new ArrayList<>();
        for (int i = 0; i < xs.length; i++) {
            boolean dominated = false;
            for (int j = 0; j < xs.length && !dominated; j++) {
                boolean xAtLeast = xHigherBetter ? xs[j] >= xs[i] : xs[j] <= xs[i];
                boolean yAtLeast = yHigherBetter ? ys[j] >= ys[i] : ys[j] <= ys[i];
                dominated = xAtLeast && yAtLeast && (xs[j] != xs[i] || ys[j] != ys[i]);
            }
            if (!dominated) {
                front.add(i);
            }
        }
        front.sort(Comparator.<Integer>comparingDouble(i -> xs[i]).thenComparingDouble(i -> ys[i]));
        return front;
    }
}
