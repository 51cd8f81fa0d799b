package org.mergelab.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.mergelab.eval.Metric;
import org.mergelab.eval.TaskResult;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One task's result in a result row: its metrics, and the primary metric item by item (task-file order), with the
 * items' weights when the metric is a weighted mean (bits_per_byte: UTF-8 bytes per document). Non-finite numbers (a
 * broken merge's perplexity) are null.
 *
 * @param primary the primary metric's name
 * @param taskHash SHA-256 of the task and data files
 */
public record TaskScores(String primary, String taskHash, Map<String, MetricValue> metrics, List<Double> items,
        @JsonInclude(JsonInclude.Include.NON_NULL) List<Double> weights) {

    public record MetricValue(Double value, Double stderr, int n, boolean higherIsBetter) {}

    static TaskScores of(TaskResult r) {
        Map<String, MetricValue> metrics = new LinkedHashMap<>();
        for (Metric m : r.metrics()) {
            metrics.put(m.name(), new MetricValue(NormSummary.finite(m.value()),
                    m.stderr() == null ? null : NormSummary.finite(m.stderr()), m.n(), m.higherIsBetter()));
        }
        double[] weights = r.items().weights();
        return new TaskScores(r.primary().name(), r.task().hash(), metrics, list(r.items().values()),
                weights == null ? null : list(weights));
    }

    private static List<Double> list(double[] values) {
        List<Double> out = new ArrayList<>(values.length);
        for (double v : values) {
            out.add(NormSummary.finite(v));
        }
        return out;
    }
}
