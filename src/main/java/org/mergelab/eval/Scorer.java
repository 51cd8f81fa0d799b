package org.mergelab.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.mergelab.BadInputException;

import ai.onnxruntime.OrtException;

/**
 * Log-likelihoods of token sequences, in batches padded on the right. Padding cannot change a score: under the causal
 * mask a real token never sees the padding after it, and padded keys are masked out exactly (their softmax weight is
 * 0), so a sequence scores the same alone or in any batch. Requests are sorted by length to keep padding small.
 * Log-softmax is taken in float64 over the float32 logits.
 */
public final class Scorer {
    /** Token id put in padded slots (masked, never read). */
    static final long PAD = 0;
    /** Logit floats per forward pass, at most (256 MiB): large vocabularies get smaller batches. */
    static final long MAX_LOGITS = 1L << 26;

    /**
     * A sequence to score: the model reads {@code tokens[0 .. n−1)} and the log-probs of {@code tokens[from .. n)}
     * count ({@code from ≥ 1}).
     */
    public record Request(long[] tokens, int from) {
        public Request {
            if (from < 1 || from > tokens.length) {
                throw new IllegalArgumentException("from " + from + " outside 1.." + tokens.length);
            }
        }
    }

    /**
     * @param logprobs log P(tokens[i] | tokens[<i]) for i in [from, n)
     * @param greedy every scored token was the model's argmax (ties to the lowest id)
     */
    public record Scored(double[] logprobs, boolean greedy) {
        public double sum() {
            double s = 0;
            for (double v : logprobs) {
                s += v;
            }
            return s;
        }
    }

    private final LlamaModel model;
    private final int batchSize;

    public Scorer(LlamaModel model, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1");
        }
        this.model = model;
        this.batchSize = batchSize;
    }

    /** Scores every request; results in request order. */
    public List<Scored> score(List<Request> requests) throws OrtException {
        Integer[] order = new Integer[requests.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // longest first (ties by index): the first batch is the largest, so memory trouble shows at once
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -requests.get(i).tokens().length)
                .thenComparingInt(i -> i));
        Scored[] out = new Scored[requests.size()];
        int vocab = model.config().vocabSize();
        for (Request r : requests) {
            for (long t : r.tokens()) {
                if (t < 0 || t >= vocab) {
                    throw new BadInputException("token id " + t + " is outside the model's vocabulary (0.."
                            + (vocab - 1) + ")");
                }
            }
        }
        int i = 0;
        while (i < order.length) {
            int len = requests.get(order[i]).tokens().length - 1;
            int rows = (int) Math.max(1, Math.min(batchSize, MAX_LOGITS / ((long) Math.max(len, 1) * vocab)));
            int end = Math.min(order.length, i + rows);
            List<Integer> batch = new ArrayList<>();
            for (int k = i; k < end; k++) {
                batch.add(order[k]);
            }
            runBatch(requests, batch, out);
            i = end;
        }
        return Arrays.asList(out);
    }

    /** {@code [NaN, log P(t1 | t0), log P(t2 | t0 t1), …]} for one sequence. */
    public double[] tokenLogprobs(long[] tokens) throws OrtException {
        double[] lp = new double[tokens.length];
        lp[0] = Double.NaN;
        if (tokens.length > 1) {
            double[] scored = score(List.of(new Request(tokens, 1))).get(0).logprobs();
            System.arraycopy(scored, 0, lp, 1, scored.length);
        }
        return lp;
    }

    private void runBatch(List<Request> requests, List<Integer> batch, Scored[] out) throws OrtException {
        int rows = batch.size();
        int seq = 1;
        for (int r : batch) {
            seq = Math.max(seq, requests.get(r).tokens().length - 1);
        }
        long[] ids = new long[rows * seq];
        long[] pos = new long[rows * seq];
        long[] mask = new long[rows * seq];
        Arrays.fill(ids, PAD);
        for (int row = 0; row < rows; row++) {
            long[] t = requests.get(batch.get(row)).tokens();
            for (int j = 0; j < seq; j++) {
                pos[row * seq + j] = j;
            }
            for (int j = 0; j < t.length - 1; j++) {
                ids[row * seq + j] = t[j];
                mask[row * seq + j] = 1;
            }
        }
        LlamaModel.Step step = model.logitsOnly(ids, pos, mask, rows);
        for (int row = 0; row < rows; row++) {
            Request q = requests.get(batch.get(row));
            long[] t = q.tokens();
            double[] lp = new double[t.length - q.from()];
            boolean greedy = true;
            for (int j = q.from(); j < t.length; j++) {
                int off = step.offset(row, j - 1);
                lp[j - q.from()] = logSoftmaxAt(step.logits(), off, step.vocab(), (int) t[j]);
                greedy &= argmax(step.logits(), off, step.vocab()) == t[j];
            }
            out[batch.get(row)] = new Scored(lp, greedy);
        }
    }

    /** log softmax(z)[target] over {@code z = logits[off .. off+vocab)}, in float64. */
    static double logSoftmaxAt(float[] logits, int off, int vocab, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
            max = Math.max(max, logits[off + v]);
        }
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            sum += Math.exp(logits[off + v] - max);
        }
        return logits[off + target] - max - Math.log(sum);
    }

    /** Index of the largest logit, the lowest on ties. */
    static int argmax(float[] logits, int off, int vocab) {
        int best = 0;
        for (int v = 1; v < vocab; v++) {
            if (logits[off + v] > logits[off + best]) {
                best = v;
            }
        }
        return best;
    }
}
