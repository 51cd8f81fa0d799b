package org.mergelab.experiment;

import java.util.HashSet;
import java.util.Set;

import org.mergelab.eval.LlamaConfig;
import org.mergelab.io.ModelFolder;
import org.mergelab.merge.MergeEngine;
import org.mergelab.merge.MergePlan;
import org.mergelab.merge.MergeToFolder;
import org.mergelab.merge.Progress;
import org.mergelab.merge.TensorTask;

/**
 * Merges a cell through the engine into memory (no checkpoint written), with the norm statistics gathered in the same
 * pass. Memory: the merged model in its output dtype, plus the ONNX Runtime session's float32 copy while one exists.
 */
final class InMemoryMerge implements MergeStrategy {
    private final SweepPlan plan;
    private final int threads;

    InMemoryMerge(SweepPlan plan, int threads) {
        this.plan = plan;
        this.threads = threads;
    }

    @Override
    public CellModel merge(Cell cell) {
        long started = System.nanoTime();
        MergePlan merge = plan.planMerge(cell);
        MemorySink sink = new MemorySink(merge.outputs());
        try {
            MergeEngine.Result result;
            try (MergeEngine engine = new MergeEngine(threads, MergeEngine.DEFAULT_CHUNK, cell.seed())) {
                result = engine.run(merge, sink, Progress.NONE, true);
            }
            ModelFolder donor = merge.folders().get(merge.donor());
            Set<String> names = new HashSet<>();
            merge.tasks().stream().map(TensorTask::out).forEach(t -> names.add(t.name()));
            // the architecture the merged folder's config.json would declare
            LlamaConfig config = LlamaConfig.parse(MergeToFolder.outputConfig(merge), donor.dir().resolve(
                    ModelFolder.CONFIG)).withBiasesFrom(names);
            return new CellModel(sink.weights("merge cell '" + cell.label() + "'"), config,
                    plan.tokenizerDir(donor.dir()), result.stats(), (System.nanoTime() - started) / 1e9, sink::close);
        } catch (RuntimeException e) {
            sink.close();
            throw e;
        }
    }
}
