package org.mergelab.report;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a report shows: the {@code report:} section of a sweep spec (see README, "Reports"), plus the experiment's
 * name and the spec's order of references and methods (the default row order). Null means "the default, decided
 * from what the results contain".
 *
 * @param columns table columns; null = every task's primary metric
 * @param split the split the tables and plots report (default {@code test})
 * @param selectOn the split "best on val" selects on (default {@code val} when present)
 * @param baseline the reference every row is compared with in the paired bootstrap (default: the first reference)
 * @param experts task → the reference that is that task's expert (for normalized scores); empty = no normalized table
 * @param plots the plot kinds to draw; null = every kind the results support
 * @param selectBy the val score "best on val" maximizes: a column name, {@link #NORMALIZED_MEAN} or
 *     {@link #RELATIVE_MEAN}; null = normalized mean when experts are known, else relative mean
 */
public record ReportSpec(Path file, String experiment, String title, String split, String selectOn,
        String baseline, Map<String, String> experts, List<Column> columns, Rows rows, String x,
        Set<PlotKind> plots, NormStatistic normStatistic, List<List<String>> pareto, List<Heatmap> heatmaps,
        LayerMap layers, String selectBy, Bootstrap bootstrap, double cliffFraction, Published published,
        List<String> referenceOrder, List<String> methodOrder) {

    public static final String NORMALIZED_MEAN = "normalized_mean";
    public static final String RELATIVE_MEAN = "relative_mean";

    /**
     * A table column: one component, or the mean of several ({@code mean:} in YAML).
     *
     * @param decimals digits after the point in tables
     */
    public record Column(String name, List<Component> components, int decimals) {
        public boolean composite() {
            return components.size() > 1;
        }
    }

    /**
     * {@code scale × transform(metric of task)}.
     *
     * @param metric null = the task's primary metric
     */
    public record Component(String task, String metric, double scale, Transform transform) {}

    /** A function applied to a metric before scaling. */
    public enum Transform {
        NONE,
        /** 100 · 2^(−bits_per_byte): the model's geometric-mean probability per byte, in percent. */
        FLUENCY;

        double apply(double x) {
            return this == FLUENCY ? 100 * Math.pow(2, -x) : x;
        }

        /** |d transform / dx| at x, for the delta-method standard error. */
        double slope(double x) {
            return this == FLUENCY ? Math.log(2) * apply(x) : 1;
        }

        /** Whether the transform reverses the order (higher metric → lower score). */
        boolean decreasing() {
            return this == FLUENCY;
        }
    }

    /**
     * Which table rows: an explicit list of labels, or references (in the given order) then merges filtered by
     * method and by parameter values.
     */
    public record Rows(List<String> labels, List<String> references, List<String> methods,
            Map<String, Object> where) {
        public static final Rows ALL = new Rows(null, null, null, Map.of());
    }

    /** The plot kinds, by their YAML names. */
    public enum PlotKind {
        CAPABILITY("capability"), NORMS("norms"), CAPABILITY_VS_NORM("capability_vs_norm"), PARETO("pareto"),
        HEATMAP("heatmap"), LAYERS("layers");

        public final String yamlName;

        PlotKind(String yamlName) {
            this.yamlName = yamlName;
        }
    }

    /** A 2-D grid of one method (null = each method whose grid varies exactly two numbers) coloured by a score. */
    public record Heatmap(String method, String x, String y, String score) {}

    /**
     * Per-layer norm heatmap: layers × the cells of one method along x (null = the first method with per-layer
     * norms), or layers × the listed cells.
     */
    public record LayerMap(String method, List<String> cells, NormStatistic statistic) {}

    public record Bootstrap(int resamples, long seed) {
        public static final Bootstrap DEFAULT = new Bootstrap(10_000, 1);
    }

    /** Numbers from elsewhere (another model, another benchmark), printed in their own clearly labelled block. */
    public record Published(String title, String note, List<PublishedRow> rows) {}

    public record PublishedRow(String label, Map<String, Double> values) {}
}
