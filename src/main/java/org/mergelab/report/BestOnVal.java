package org.mergelab.report;

import java.util.ArrayList;
import java.util.List;

/**
 * "Best on val, measured on test": per method (and inputs), the cell whose score on the selection split is best;
 * its scores on the reported split are the honest estimate of what tuning would deliver.
 */
public final class BestOnVal {
    private BestOnVal() {}

    public record Choice(Experiment.Series group, Cell cell, double selectionScore, Double reportScore,
            int candidates) {}

    public static List<Choice> select(List<Experiment.Series> groups, Scorer scorer, String selectOn, String split) {
        List<Choice> out = new ArrayList<>();
        for (Experiment.Series g : groups) {
            Cell best = null;
            double bestScore = Double.NaN;
            int candidates = 0;
            for (Cell c : g.cells()) {
                Double s = c.row(split) == null ? null : scorer.score(c, selectOn);
                if (s == null) {
                    continue;
                }
                candidates++;
                // ties keep the first cell in row order: a stable choice
                if (best == null || (scorer.higherIsBetter() ? s > bestScore : s < bestScore)) {
                    best = c;
                    bestScore = s;
                }
            }
            if (best != null) {
                out.add(new Choice(g, best, bestScore, scorer.score(best, split), candidates));
            }
        }
        return out;
    }
}
