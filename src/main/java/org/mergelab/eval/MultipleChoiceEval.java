package org.mergelab.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import ai.onnxruntime.OrtException;

/**
 * Multiple choice as lm-eval scores it: each choice is the continuation {@code delimiter + choice} of the prompt,
 * its log-likelihood summed over its tokens. acc: the highest log-likelihood is the gold choice; acc_norm: the
 * highest log-likelihood divided by the choice's length in characters. Context and continuation are split as
 * lm-eval does: trailing spaces of the prompt move to the continuation, the pair is encoded whole, and the
 * continuation is what follows the prompt's own tokens. Over-long sequences lose tokens on the left.
 */
final class MultipleChoiceEval {
    private MultipleChoiceEval() {}

    static TaskResult.Scored run(Task task, EvalContext ctx) throws OrtException {
        TaskSpec spec = task.spec();
        int maxLen = ctx.maxLength(spec);
        long prefix = ctx.prefix(spec);
        List<Scorer.Request> requests = new ArrayList<>();
        for (TaskItem item : task.items()) {
            TaskItem.Choice c = (TaskItem.Choice) item;
            for (String choice : c.choices()) {
                requests.add(request(ctx.tokenizer(), prefix, c.prompt(), spec.targetDelimiter() + choice, maxLen));
            }
        }
        List<Scorer.Scored> scored = ctx.scorer().score(requests);
        int n = task.items().size();
        double[] acc = new double[n];
        double[] accNorm = new double[n];
        int k = 0;
        for (int i = 0; i < n; i++) {
            TaskItem.Choice c = (TaskItem.Choice) task.items().get(i);
            int best = -1;
            int bestNorm = -1;
            double bestLl = Double.NEGATIVE_INFINITY;
            double bestLlNorm = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c.choices().size(); j++) {
                double ll = scored.get(k++).sum();
                double norm = ll / Math.max(1, c.choices().get(j).codePointCount(0, c.choices().get(j).length()));
                if (best < 0 || ll > bestLl) {
                    best = j;
                    bestLl = ll;
                }
                if (bestNorm < 0 || norm > bestLlNorm) {
                    bestNorm = j;
                    bestLlNorm = norm;
                }
            }
            acc[i] = best == c.gold() ? 1 : 0;
            accNorm[i] = bestNorm == c.gold() ? 1 : 0;
        }
        return new TaskResult.Scored(List.of(new Metric("acc", Stats.mean(acc), Stats.meanStderr(acc), n, true),
                new Metric("acc_norm", Stats.mean(accNorm), Stats.meanStderr(accNorm), n, true)),
                new ItemScores(acc, null));
    }

    /** The scoring request of {@code continuation} after {@code context}. */
    static Scorer.Request request(TextTokenizer tok, long prefix, String context, String continuation, int maxLen) {
        int spaces = context.length() - context.stripTrailing().length();
        if (spaces > 0) {
            continuation = context.substring(context.length() - spaces) + continuation;
            context = context.substring(0, context.length() - spaces);
        }
        long[] whole = tok.encode(context + continuation);
        long[] ctxEnc = context.isEmpty() ? new long[0] : tok.encode(context);
        int cut = Math.min(ctxEnc.length, whole.length);
        long[] seq = EvalContext.concat(prefix, whole);
        int from = (prefix >= 0 ? 1 : 0) + cut;
        if (seq.length - 1 > maxLen) {
            int drop = seq.length - 1 - maxLen;
            seq = Arrays.copyOfRange(seq, drop, seq.length);
            from -= drop;
        }
        // an empty context with no prefix token leaves the continuation's first token unconditioned: it is skipped
        return new Scorer.Request(seq, Math.min(Math.max(from, 1), seq.length));
    }
}
