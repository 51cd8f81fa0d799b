package org.mergelab.zoo;

import ai.onnxruntime.OrtException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.mergelab.eval.EvalContext;
import org.mergelab.eval.Evaluator;
import org.mergelab.eval.LlamaConfig;
import org.mergelab.eval.LlamaModel;
import org.mergelab.eval.OrtRuntime;
import org.mergelab.eval.Task;
import org.mergelab.eval.TaskLoader;
import org.mergelab.eval.TaskResult;
import org.mergelab.eval.TextTokenizer;
import org.mergelab.eval.Weights;
import org.mergelab.io.ModelFolder;

/** Scores family members on a split of the held-out task sets, exactly as {@code ./mergelab eval} would. */
public final class FamilyEvaluation {
    private FamilyEvaluation() {}

    /** member → task name → result, on every task in {@code splitDir} ({@code limit} items each; 0 = all). */
    public static Map<String, Map<String, TaskResult>> run(Path zooDir, List<String> members, Path splitDir,
            int limit, int threads, Consumer<String> progress) throws IOException, OrtException {
        List<Task> tasks = TaskLoader.load(List.of(splitDir), limit);
        OrtRuntime runtime = OrtRuntime.create(threads);
        Map<String, Map<String, TaskResult>> out = new LinkedHashMap<>();
        for (String member : members) {
            Path dir = zooDir.resolve(member);
            try (ModelFolder folder = ModelFolder.open(dir); TextTokenizer tok = TextTokenizer.load(dir);
                    LlamaModel model = LlamaModel.open(runtime, LlamaConfig.of(folder), Weights.of(folder),
                            Evaluator.variantFor(tasks))) {
                Map<String, TaskResult> byTask = new LinkedHashMap<>();
                for (TaskResult r : Evaluator.run(new EvalContext(model, tok, 16), tasks,
                        task -> progress.accept(member + ": " + task))) {
                    byTask.put(r.task().name(), r);
                }
                out.put(member, byTask);
            }
        }
        return out;
    }

    /** member → task → its primary metric (exact_match, refusal_rate, bits_per_byte, acc): what the bars read. */
    public static Map<String, Map<String, Double>> barValues(Map<String, Map<String, TaskResult>> results) {
        Map<String, Map<String, Double>> out = new LinkedHashMap<>();
        results.forEach((member, byTask) -> {
            Map<String, Double> values = new LinkedHashMap<>();
            byTask.forEach((task, r) -> values.put(task, r.primary().value()));
            out.put(member, values);
        });
        return out;
    }
}
