package org.mergelab.zoo.train;

/**
 * One training batch of {@code rows} sequences of {@code length} tokens: the model reads {@code input[r]} and is
 * scored on predicting {@code target[r][t]} (the token after {@code input[r][t]}) with weight {@code mask[r][t]}
 * (0 = not scored: prompts, padding). The loss is {@code Σ mask·CE / Σ mask}.
 */
public record Batch(int[][] input, int[][] target, float[][] mask) {
    public Batch {
        if (input.length == 0 || target.length != input.length || mask.length != input.length) {
            throw new IllegalArgumentException("a batch needs the same number (> 0) of input, target and mask rows");
        }
        int length = input[0].length;
        for (int r = 0; r < input.length; r++) {
            if (input[r].length != length || target[r].length != length || mask[r].length != length) {
                throw new IllegalArgumentException("row " + r + " is not " + length + " tokens long");
            }
        }
    }

    public int rows() {
        return input.length;
    }

    public int length() {
        return input[0].length;
    }

    /** Σ mask: how many target tokens the loss averages over. */
    public double weight() {
        double w = 0;
        for (float[] row : mask) {
            for (float m : row) {
                w += m;
            }
        }
        return w;
    }
}
