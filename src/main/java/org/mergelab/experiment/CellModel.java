package org.mergelab.experiment;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.mergelab.eval.LlamaConfig;
import org.mergelab.eval.Weights;
import org.mergelab.merge.TensorStats;

/**
 * The model a cell evaluates: its weights and architecture, where its tokenizer comes from, and for a merge the norm
 * statistics and time of the merge. Closing it releases what it holds (an open folder, a temporary merge on disk).
 *
 * @param stats one row per output tensor; empty for a reference
 */
record CellModel(Weights weights, LlamaConfig config, Path tokenizerDir, List<TensorStats> stats,
        double mergeSeconds, Closeable release) implements Closeable {
    @Override
    public void close() throws IOException {
        release.close();
    }
}
