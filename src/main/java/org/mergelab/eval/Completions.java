package org.mergelab.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import ai.onnxruntime.OrtException;

/**
 * Greedy completions of a task's prompts as text: each prompt starts with the prefix token, keeps its last
 * (max_length − max_tokens) tokens, and its completion ends at EOS, after max_tokens, or at the first stop string,
 * which is cut off with everything after it.
 */
final class Completions {
    private Completions() {}

    static List<String> of(Task task, EvalContext ctx) throws OrtException {
        TaskSpec spec = task.spec();
        int keep = Math.max(1, ctx.maxLength(spec) - spec.maxTokens());
        long prefix = ctx.prefix(spec);
        List<long[]> prompts = new ArrayList<>();
        for (TaskItem item : task.items()) {
            long[] p = EvalContext.concat(prefix, ctx.tokenizer().encode(((TaskItem.Prompt) item).prompt()));
            if (p.length == 0) {
                // an empty prompt without BOS: start from EOS, the way lm-eval conditions on its end-of-text token
                p = ctx.tokenizer().eos().isEmpty() ? new long[] {0} : new long[] {ctx.tokenizer().eos().iterator()
                        .next()};
            }
            prompts.add(p.length > keep ? Arrays.copyOfRange(p, p.length - keep, p.length) : p);
        }
        TextTokenizer tok = ctx.tokenizer();
        List<long[]> gen = ctx.generator().greedy(prompts, spec.maxTokens(), tok.eos(),
                ids -> cut(tok.decode(ids), spec.stop()) >= 0);
        List<String> out = new ArrayList<>();
        for (long[] g : gen) {
            String text = tok.decode(g);
            int at = cut(text, spec.stop());
            out.add(at >= 0 ? text.substring(0, at) : text);
        }
        return out;
    }

    /** The index of the earliest stop string in {@code text}, or -1. */
    static int cut(String text, List<String> stops) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }
}
