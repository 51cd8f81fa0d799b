package org.mergelab.eval;

import java.util.List;

/** A task's outcome on one model: its metrics, how many items were scored, and how long it took. */
public record TaskResult(Task task, List<Metric> metrics, double seconds) {
    public int n() {
        return task.items().size();
    }

    public Metric metric(String name) {
        return metrics.stream().filter(m -> m.name().equals(name)).findFirst().orElse(null);
    }
}
