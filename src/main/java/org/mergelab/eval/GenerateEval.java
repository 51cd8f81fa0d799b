package org.mergelab.eval;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;

import ai.onnxruntime.OrtException;

/**
 * Greedy generation scored by exact match: the completion (cut at the first stop string), optionally reduced to what
 * the task's regex extracts (group 1 if it has groups; "[invalid]" when nothing matches, as lm-eval's regex filter),
 * equals one of the answers after normalization: surrounding whitespace removed, inner runs of whitespace made one
 * space, and case folded unless {@code ignore_case: false}.
 */
final class GenerateEval {
    private GenerateEval() {}

    static TaskResult.Scored run(Task task, EvalContext ctx) throws OrtException {
        TaskSpec spec = task.spec();
        List<String> completions = Completions.of(task, ctx);
        int n = completions.size();
        double[] em = new double[n];
        for (int i = 0; i < n; i++) {
            String answer = normalize(extract(completions.get(i), spec), spec.ignoreCase());
            for (String target : ((TaskItem.Prompt) task.items().get(i)).answers()) {
                if (answer.equals(normalize(target, spec.ignoreCase()))) {
                    em[i] = 1;
                }
            }
        }
        return new TaskResult.Scored(List.of(new Metric("exact_match", Stats.mean(em), Stats.meanStderr(em), n, true)),
                new ItemScores(em, null));
    }

    static String extract(String completion, TaskSpec spec) {
        if (spec.regex() == null) {
            return completion;
        }
        Matcher m = spec.regex().matcher(completion);
        if (!m.find()) {
            return "[invalid]";
        }
        return m.groupCount() >= 1 && m.group(1) != null ? m.group(1) : m.group();
    }

    static String normalize(String s, boolean ignoreCase) {
        String t = s.strip().replaceAll("(?U)\\s+", " ");
        return ignoreCase ? t.toLowerCase(Locale.ROOT) : t;
    }
}
