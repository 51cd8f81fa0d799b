package org.mergelab.eval;

import java.util.List;

/**
 * A task's outcome on one model: its metrics, its primary metric item by item, how many items were scored, and how
 * long it took.
 */
public record TaskResult(Task task, List<Metric> metrics, ItemScores items, double seconds) {
    public int n() {
        return task.items().size();
    }

    public Metric metric(String name) {
        return metrics.stream().filter(m -> m.name().equals(name)).findFirst().orElse(null);
    }

    /** The primary metric ({@link TaskType#primaryMetric()}). */
    public Metric primary() {
        return metric(task.spec().type().primaryMetric());
    }

    /** What a task type's scorer returns: the metrics and the per-item values behind the primary one. */
    record Scored(List<Metric> metrics, ItemScores items) {}
}
