package org.mergelab.merge;

/** Progress of a merge in output bytes; the CLI draws a bar on a terminal and stays silent otherwise. */
public interface Progress extends AutoCloseable {
    Progress NONE = new Progress() {
        @Override
        public void start(long totalBytes, int tensors) {}

        @Override
        public void advance(long bytes) {}
    };

    void start(long totalBytes, int tensors);

    /** Thread-safe. */
    void advance(long bytes);

    @Override
    default void close() {}
}
