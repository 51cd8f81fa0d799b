package org.mergelab.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import ai.onnxruntime.OrtException;

/** Runs tasks against one model, in order, timing each. */
public final class Evaluator {
    private Evaluator() {}

    /** The graph a task list needs: the KV-cache decoder when any task generates. */
    public static LlamaGraph.Variant variantFor(List<Task> tasks) {
        return tasks.stream().anyMatch(t -> t.spec().type().generates()) ? LlamaGraph.Variant.DECODER
                : LlamaGraph.Variant.LOGITS;
    }

    /** @param progress told the name of each task as it starts */
    public static List<TaskResult> run(EvalContext ctx, List<Task> tasks, Consumer<String> progress)
            throws OrtException {
        List<TaskResult> out = new ArrayList<>();
        for (Task t : tasks) {
            progress.accept(t.name());
            long started = System.nanoTime();
            TaskResult.Scored scored = switch (t.spec().type()) {
                case PERPLEXITY -> PerplexityEval.run(t, ctx);
                case MULTIPLE_CHOICE -> MultipleChoiceEval.run(t, ctx);
                case GENERATE -> GenerateEval.run(t, ctx);
                case REFUSAL -> RefusalEval.run(t, ctx);
            };
            out.add(new TaskResult(t, scored.metrics(), scored.items(), (System.nanoTime() - started) / 1e9));
        }
        return out;
    }
}
