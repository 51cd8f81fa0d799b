package org.mergelab.report;

import java.util.List;
import java.util.Map;

/**
 * One line of a sweep's results.jsonl: one cell (a reference model, or a merge at one grid point) evaluated on one
 * split. Only the fields a report reads; timing and provenance details stay in the file.
 *
 * @param params the cell's grid values: {@link Double} for numbers, {@link String} otherwise; empty for references
 * @param norms weight-norm statistics of the merged model; null for references
 */
public record ResultRow(String cellId, String experiment, Kind kind, String label, String method, String model,
        String base, List<String> models, Map<String, Object> params, long seed, String split,
        Map<String, TaskScores> tasks, Norms norms, String mergelabVersion, String gitCommit) {

    public enum Kind { REFERENCE, MERGE }

    /** A task's outcome: every metric, and the per-item values of the primary metric (weights for weighted means). */
    public record TaskScores(String primary, String taskHash, Map<String, Metric> metrics, double[] items,
            double[] weights) {
        public Metric metric(String name) {
            return metrics.get(name);
        }

        public boolean hasItems() {
            return items != null && items.length > 0;
        }
    }

    /** A metric as the eval package reports it; {@code value} and {@code stderr} are null when they do not apply. */
    public record Metric(Double value, Double stderr, int n, boolean higherIsBetter) {}

    /** Whole-model norm statistics (null where not applicable) and the same per layer (layer −1: embeddings/head). */
    public record Norms(Double normRatio, Double maxNormRatio, Double interpolationRatio, Double relDistToBase,
            Double cosToBase, Double prunedFraction, Double signAgreement, List<LayerNorms> layers) {

        public Double statistic(NormStatistic s) {
            return switch (s) {
                case NORM_RATIO -> normRatio;
                case MAX_NORM_RATIO -> maxNormRatio;
                case INTERPOLATION_RATIO -> interpolationRatio;
                case REL_DIST_TO_BASE -> relDistToBase;
                case COS_TO_BASE -> cosToBase;
                case PRUNED_FRACTION -> prunedFraction;
                case SIGN_AGREEMENT -> signAgreement;
            };
        }
    }

    public record LayerNorms(int layer, Double normRatio, Double maxNormRatio, Double relDistToBase,
            Double cosToBase) {
        /** The per-layer value of {@code s}, or null when the contract has no per-layer value for it. */
        public Double statistic(NormStatistic s) {
            return switch (s) {
                case NORM_RATIO -> normRatio;
                case MAX_NORM_RATIO -> maxNormRatio;
                case REL_DIST_TO_BASE -> relDistToBase;
                case COS_TO_BASE -> cosToBase;
                default -> null;
            };
        }
    }
}
