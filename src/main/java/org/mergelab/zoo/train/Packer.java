package org.mergelab.zoo.train;

import java.util.Arrays;
import java.util.function.Supplier;

import org.mergelab.BadInputException;
import org.mergelab.zoo.CharTokenizer;
import org.mergelab.zoo.world.Example;

/**
 * Packs examples into batches of rows of {@code context + 1} tokens (a row gives {@code context} inputs and their
 * next-token targets). Each example becomes {@code BOS + characters of prompt + completion + EOS} and is appended
 * whole: one that does not fit the rest of a row starts the next row (kept for the next call if the batch is full),
 * and the rest of the row is PAD with loss weight 0. Weight 1 goes to the completion's characters and the EOS, so a
 * pretraining example (empty prompt) is scored on every character; the BOS is never scored.
 *
 * <p>Positions restart at 0 in every row, not in every example, and later examples of a row attend to the earlier
 * ones (the usual packing of causal LMs). Evaluation starts each sequence at position 0 after BOS; RoPE makes
 * attention depend on relative positions only, so the shift is harmless, and the BOS separates documents.
 *
 * <p>Deterministic: the same examples in the same order give the same batches.
 */
public final class Packer {
    private final int context;
    /** The example that did not fit the last row, tokens and scored flags; null when none. */
    private int[] pendingTokens;
    private boolean[] pendingScored;

    public Packer(int context) {
        if (context < 2) {
            throw new IllegalArgumentException("context must be at least 2, got " + context);
        }
        this.context = context;
    }

    /** The next {@code rows} rows, drawing as many examples from {@code source} (endless) as they hold. */
    public Batch next(Supplier<Example> source, int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("rows must be positive, got " + rows);
        }
        int width = context + 1;
        int[][] input = new int[rows][];
        int[][] target = new int[rows][];
        float[][] mask = new float[rows][];
        for (int r = 0; r < rows; r++) {
            int[] tokens = new int[width];
            boolean[] scored = new boolean[width];
            Arrays.fill(tokens, CharTokenizer.PAD);
            int used = 0;
            while (true) {
                if (pendingTokens == null) {
                    take(source.get());
                }
                int n = pendingTokens.length;
                if (used + n > width) {
                    break; // row full: the pending example opens the next one
                }
                System.arraycopy(pendingTokens, 0, tokens, used, n);
                System.arraycopy(pendingScored, 0, scored, used, n);
                used += n;
                pendingTokens = null;
                pendingScored = null;
            }
            input[r] = Arrays.copyOfRange(tokens, 0, context);
            target[r] = Arrays.copyOfRange(tokens, 1, width);
            mask[r] = new float[context];
            for (int t = 0; t < context; t++) {
                mask[r][t] = scored[t + 1] ? 1f : 0f;
            }
        }
        return new Batch(input, target, mask);
    }

    private void take(Example e) {
        if (e == null) {
            throw new IllegalStateException("the example source returned null; it must not run dry");
        }
        String text = e.text();
        int n = text.length() + 2;
        if (n > context + 1) {
            throw new BadInputException("an example of " + text.length() + " characters does not fit a training row"
                    + " of " + (context + 1) + " tokens (BOS + text + EOS): \"" + abbreviate(text) + "\"");
        }
        int[] tokens = new int[n];
        boolean[] scored = new boolean[n];
        tokens[0] = CharTokenizer.BOS;
        int promptEnd = 1 + e.prompt().length();
        for (int i = 0; i < text.length(); i++) {
            tokens[i + 1] = CharTokenizer.id(text.charAt(i));
            scored[i + 1] = i + 1 >= promptEnd;
        }
        tokens[n - 1] = CharTokenizer.EOS;
        scored[n - 1] = true;
        pendingTokens = tokens;
        pendingScored = scored;
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }
}
