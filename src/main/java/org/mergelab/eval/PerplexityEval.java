package org.mergelab.eval;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import ai.onnxruntime.OrtException;

/**
 * Rolling log-likelihood of whole documents, as lm-eval's {@code loglikelihood_rolling}: the document's tokens follow
 * the prefix token (BOS), and documents longer than the context are cut into windows that each predict the next
 * max_length tokens, reading the max_length tokens before them. Metrics are corpus-weighted:
 * word_perplexity = exp(−Σll / Σwords), byte_perplexity = exp(−Σll / Σbytes), bits_per_byte = −Σll / Σbytes / ln 2,
 * with words counted as Python's {@code len(re.split(r"\s+", doc))} and bytes as UTF-8. Without a prefix token the
 * first token of each document has no context and is not scored.
 */
final class PerplexityEval {
    private PerplexityEval() {}

    static TaskResult.Scored run(Task task, EvalContext ctx) throws OrtException {
        int maxLen = ctx.maxLength(task.spec());
        long prefix = ctx.prefix(task.spec());
        List<Scorer.Request> requests = new ArrayList<>();
        List<Integer> owner = new ArrayList<>();
        int n = task.items().size();
        double[] bytes = new double[n];
        double[] words = new double[n];
        for (int d = 0; d < n; d++) {
            String text = ((TaskItem.Document) task.items().get(d)).text();
            bytes[d] = text.getBytes(StandardCharsets.UTF_8).length;
            words[d] = text.split("(?U)\\s+", -1).length;
            for (Scorer.Request r : windows(EvalContext.concat(prefix, ctx.tokenizer().encode(text)), maxLen)) {
                requests.add(r);
                owner.add(d);
            }
        }
        List<Scorer.Scored> scored = ctx.scorer().score(requests);
        double[] nll = new double[n];
        for (int i = 0; i < scored.size(); i++) {
            nll[owner.get(i)] -= scored.get(i).sum();
        }
        double perByte = Stats.ratio(nll, bytes);
        double perWord = Stats.ratio(nll, words);
        Double seByte = Stats.ratioStderr(nll, bytes);
        Double seWord = Stats.ratioStderr(nll, words);
        double ln2 = Math.log(2);
        double[] bitsPerByte = new double[n];
        for (int d = 0; d < n; d++) {
            bitsPerByte[d] = nll[d] / bytes[d] / ln2;
        }
        List<Metric> metrics = List.of(
                new Metric("bits_per_byte", perByte / ln2, seByte == null ? null : seByte / ln2, n, false),
                new Metric("byte_perplexity", Math.exp(perByte), seByte == null ? null : Math.exp(perByte) * seByte,
                        n, false),
                new Metric("word_perplexity", Math.exp(perWord), seWord == null ? null : Math.exp(perWord) * seWord,
                        n, false));
        return new TaskResult.Scored(metrics, new ItemScores(bitsPerByte, bytes));
    }

    /**
     * Windows over {@code seq} predicting seq[1..n): the first reads seq[0..b−1) and predicts seq[1..b) with
     * b = min(maxLen, n − 1) + 1; each next one predicts up to maxLen further tokens, reading the maxLen tokens
     * before its last target (lm-eval's get_rolling_token_windows with context_len 1, made disjoint).
     */
    static List<Scorer.Request> windows(long[] seq, int maxLen) {
        List<Scorer.Request> out = new ArrayList<>();
        int a = 1;
        while (a < seq.length) {
            int b = Math.min(a + maxLen, seq.length);
            int start = Math.max(0, b - 1 - maxLen);
            out.add(new Scorer.Request(Arrays.copyOfRange(seq, start, b), a - start));
            a = b;
        }
        return out;
    }
}
