package org.mergelab.report;

import java.util.ArrayList;
import java.util.List;

/**
 * Cliff detection along a method's path in x: a point where a column falls below {@code fraction} (default ½) of
 * the best value that column reaches on the same path — for a lower-is-better column, above best ÷ fraction.
 * Skipped for a column whose best value is not positive (a fraction of it means nothing).
 */
public final class Cliffs {
    private Cliffs() {}

    public record Cliff(Experiment.Series series, ScoreColumn column, Cell cell, double x, double value, double best,
            double bestX) {}

    public static List<Cliff> detect(List<Experiment.Series> series, List<ScoreColumn> columns, String x, String split,
            double fraction) {
        List<Cliff> out = new ArrayList<>();
        for (Experiment.Series s : series) {
            for (ScoreColumn col : columns) {
                Cell bestCell = null;
                double best = Double.NaN;
                for (Cell c : s.cells()) {
                    Estimate e = col.estimate(c.row(split));
                    if (e != null && (bestCell == null || col.better(e.value(), best))) {
                        best = e.value();
                        bestCell = c;
                    }
                }
                if (bestCell == null || !(best > 0)) {
                    continue;
                }
                for (Cell c : s.cells()) {
                    Estimate e = col.estimate(c.row(split));
                    boolean cliff = e != null
                            && (col.higherIsBetter() ? e.value() < fraction * best : e.value() > best / fraction);
                    if (cliff) {
                        out.add(new Cliff(s, col, c, c.number(x), e.value(), best, bestCell.number(x)));
                    }
                }
            }
        }
        return out;
    }
}
