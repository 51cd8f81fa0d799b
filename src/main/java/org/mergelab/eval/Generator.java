package org.mergelab.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

import ai.onnxruntime.OrtException;

/**
 * Greedy generation in batches padded on the left, so every row's next token sits at the same last position. Padded
 * slots are masked and positions count real tokens only ({@code position = cumsum(mask) − 1}), so a prompt continues
 * the same alone or in any batch. With the DECODER variant each step feeds one new token per row against the KV
 * cache; with LOGITS every step re-reads the whole sequence (the reference the cache is tested against).
 */
public final class Generator {
    private final LlamaModel model;
    private final int batchSize;

    public Generator(LlamaModel model, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1");
        }
        this.model = model;
        this.batchSize = batchSize;
    }

    /**
     * Greedy continuations of {@code prompts} (each non-empty): a row ends at an {@code eos} token (not included), when
     * {@code done} accepts its generated tokens, or after {@code maxTokens}. Results in prompt order.
     */
    public List<long[]> greedy(List<long[]> prompts, int maxTokens, Set<Long> eos, Predicate<long[]> done)
            throws OrtException {
        Integer[] order = new Integer[prompts.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -prompts.get(i).length).thenComparingInt(i -> i));
        long[][] out = new long[prompts.size()][];
        for (int i = 0; i < order.length; i += batchSize) {
            List<long[]> batch = new ArrayList<>();
            for (int k = i; k < Math.min(order.length, i + batchSize); k++) {
                batch.add(prompts.get(order[k]));
            }
            List<long[]> gen = model.variant() == LlamaGraph.Variant.DECODER ? cached(batch, maxTokens, eos, done)
                    : uncached(batch, maxTokens, eos, done);
            for (int k = 0; k < batch.size(); k++) {
                out[order[i + k]] = gen.get(k);
            }
        }
        return Arrays.asList(out);
    }

    /** Per-row generated tokens and whether the row has finished. */
    private static final class Rows {
        final List<List<Long>> tokens = new ArrayList<>();
        final boolean[] finished;

        Rows(int n) {
            finished = new boolean[n];
            for (int i = 0; i < n; i++) {
                tokens.add(new ArrayList<>());
            }
        }

        /** Records each unfinished row's next token; true when every row has finished. */
        boolean accept(long[] next, int maxTokens, Set<Long> eos, Predicate<long[]> done) {
            boolean all = true;
            for (int r = 0; r < finished.length; r++) {
                if (finished[r]) {
                    continue;
                }
                if (eos.contains(next[r])) {
                    finished[r] = true;
                    continue;
                }
                tokens.get(r).add(next[r]);
                long[] sofar = tokens.get(r).stream().mapToLong(Long::longValue).toArray();
                finished[r] = sofar.length >= maxTokens || done.test(sofar);
                all &= finished[r];
            }
            return all;
        }

        List<long[]> result() {
            List<long[]> out = new ArrayList<>();
            tokens.forEach(t -> out.add(t.stream().mapToLong(Long::longValue).toArray()));
            return out;
        }
    }

    private List<long[]> cached(List<long[]> prompts, int maxTokens, Set<Long> eos, Predicate<long[]> done)
            throws OrtException {
        int rows = prompts.size();
        Rows state = new Rows(rows);
        if (maxTokens <= 0) {
            return state.result();
        }
        int width = maxLength(prompts);
        long[] ids = new long[rows * width];
        long[] mask = new long[rows * width];
        long[] pos = new long[rows * width];
        long[] lastPos = leftPad(prompts, width, ids, mask, pos);
        LlamaModel.Step step = model.run(ids, pos, mask, rows, null);
        long[] fullMask = mask;
        try {
            for (int t = 0;; t++) {
                long[] next = lastArgmax(step);
                if (state.accept(next, maxTokens, eos, done) || t + 1 >= maxTokens) {
                    break;
                }
                int total = width + t + 1;
                long[] grown = new long[rows * total];
                long[] nextPos = new long[rows];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(fullMask, r * (total - 1), grown, r * total, total - 1);
                    grown[r * total + total - 1] = 1;
                    nextPos[r] = ++lastPos[r];
                }
                fullMask = grown;
                LlamaModel.Step following = model.run(next, nextPos, fullMask, rows, step.cache());
                step.cache().close();
                step = following;
            }
        } finally {
            step.cache().close();
        }
        return state.result();
    }

    private List<long[]> uncached(List<long[]> prompts, int maxTokens, Set<Long> eos, Predicate<long[]> done)
            throws OrtException {
        int rows = prompts.size();
        Rows state = new Rows(rows);
        int width = maxLength(prompts);
        long[] ids = new long[rows * width];
        long[] mask = new long[rows * width];
        long[] pos = new long[rows * width];
        long[] lastPos = leftPad(prompts, width, ids, mask, pos);
        for (int t = 0; t < maxTokens; t++) {
            LlamaModel.Step step = model.logitsOnly(ids, pos, mask, rows);
            long[] next = lastArgmax(step);
            if (state.accept(next, maxTokens, eos, done)) {
                break;
            }
            int w = width + t;
            long[] ids2 = new long[rows * (w + 1)];
            long[] mask2 = new long[rows * (w + 1)];
            long[] pos2 = new long[rows * (w + 1)];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(ids, r * w, ids2, r * (w + 1), w);
                System.arraycopy(mask, r * w, mask2, r * (w + 1), w);
                System.arraycopy(pos, r * w, pos2, r * (w + 1), w);
                ids2[r * (w + 1) + w] = next[r];
                mask2[r * (w + 1) + w] = 1;
                pos2[r * (w + 1) + w] = ++lastPos[r];
            }
            ids = ids2;
            mask = mask2;
            pos = pos2;
        }
        return state.result();
    }

    private static int maxLength(List<long[]> prompts) {
        int width = 1;
        for (long[] p : prompts) {
            if (p.length == 0) {
                throw new IllegalArgumentException("empty prompt");
            }
            width = Math.max(width, p.length);
        }
        return width;
    }

    /** Fills left-padded ids, mask and positions; returns each row's last position. */
    private static long[] leftPad(List<long[]> prompts, int width, long[] ids, long[] mask, long[] pos) {
        long[] last = new long[prompts.size()];
        for (int r = 0; r < prompts.size(); r++) {
            long[] p = prompts.get(r);
            int pad = width - p.length;
            Arrays.fill(ids, r * width, r * width + pad, Scorer.PAD);
            for (int j = 0; j < p.length; j++) {
                ids[r * width + pad + j] = p[j];
                mask[r * width + pad + j] = 1;
                pos[r * width + pad + j] = j;
            }
            last[r] = p.length - 1;
        }
        return last;
    }

    private static long[] lastArgmax(LlamaModel.Step step) {
        long[] next = new long[step.batch()];
        for (int r = 0; r < step.batch(); r++) {
            next[r] = Scorer.argmax(step.logits(), step.offset(r, step.seq() - 1), step.vocab());
        }
        return next;
    }
}
