package org.mergelab.experiment;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.mergelab.eval.EvalContext;
import org.mergelab.eval.Evaluator;
import org.mergelab.eval.LlamaModel;
import org.mergelab.eval.OrtRuntime;
import org.mergelab.eval.Task;
import org.mergelab.eval.TaskResult;
import org.mergelab.eval.TextTokenizer;

import ai.onnxruntime.OrtException;

/**
 * Evaluates a cell's model on the tasks of its splits in one ONNX Runtime session, taking each task's result from
 * the {@link EvalCache} when the same weights already ran it.
 */
final class CellEvaluator {
    /**
     * @param identity the evaluated weights' identity ({@link LlamaModel#identity()})
     * @param loadSeconds time to load the weights into the session
     */
    record Evaluation(String identity, double loadSeconds, Map<String, SplitScores> splits) {}

    /** @param cached how many of the tasks came from the cache */
    record SplitScores(Map<String, TaskScores> tasks, double seconds, int cached) {}

    private final OrtRuntime runtime;
    private final EvalCache cache;
    private final int batchSize;

    CellEvaluator(OrtRuntime runtime, EvalCache cache, int batchSize) {
        this.runtime = runtime;
        this.cache = cache;
        this.batchSize = batchSize;
    }

    Evaluation evaluate(CellModel model, Map<String, List<Task>> splits) throws IOException, OrtException {
        List<Task> all = new ArrayList<>();
        splits.values().forEach(all::addAll);
        long loading = System.nanoTime();
        try (TextTokenizer tok = TextTokenizer.load(model.tokenizerDir());
                LlamaModel lm = LlamaModel.open(runtime, model.config(), model.weights(),
                        Evaluator.variantFor(all))) {
            double loadSeconds = (System.nanoTime() - loading) / 1e9;
            String setup = model.config() + "\n" + Hashing.sha256(List.of(model.tokenizerDir()
                    .resolve("tokenizer.json"))) + " bos " + tok.bos() + " eos " + tok.eos();
            EvalContext ctx = new EvalContext(lm, tok, batchSize);
            Map<String, SplitScores> out = new LinkedHashMap<>();
            for (var split : splits.entrySet()) {
                long started = System.nanoTime();
                Map<String, TaskScores> scores = new LinkedHashMap<>();
                int cached = 0;
                for (Task task : split.getValue()) {
                    String key = EvalCache.key(lm.identity(), task, setup);
                    TaskScores s = cache.get(key);
                    if (s != null) {
                        cached++;
                    } else {
                        TaskResult r = Evaluator.run(ctx, List.of(task), name -> {}).getFirst();
                        s = TaskScores.of(r);
                        cache.put(key, s);
                    }
                    scores.put(task.name(), s);
                }
                out.put(split.getKey(), new SplitScores(scores, (System.nanoTime() - started) / 1e9, cached));
            }
            return new Evaluation(lm.identity(), loadSeconds, out);
        }
    }
}
