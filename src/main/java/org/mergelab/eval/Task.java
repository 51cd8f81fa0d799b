package org.mergelab.eval;

import java.util.List;

/**
 * A task ready to run: its settings, its prepared items (after {@code --limit}), and its hash, SHA-256 over the task
 * file's and the data file's bytes, so a result names exactly what was asked.
 */
public record Task(TaskSpec spec, List<TaskItem> items, String hash) {
    public String name() {
        return spec.name();
    }
}
