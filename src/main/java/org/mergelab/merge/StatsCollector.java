package org.mergelab.merge;

import java.util.List;

/**
 * Builds {@link TensorStats} for one tensor from per-chunk sums taken in the output pass: the reducer sees each chunk's
 * inputs and its merged output ({@code rows[k]}), and chunks combine in order, so the figures do not depend on the
 * thread count.
 */
final class StatsCollector implements ChunkReducer<double[]> {
    // layout of the sums: out·out, (out−b)², agree, considered, then x_i·x_i and out·x_i per input
    private static final int OUT = 0;
    private static final int OUT_MINUS_BASE = 1;
    private static final int AGREE = 2;
    private static final int CONSIDERED = 3;
    private static final int PER_INPUT = 4;

    private final int k;
    private final int base;

    StatsCollector(int inputs, int base) {
        this.k = inputs;
        this.base = base;
    }

    @Override
    public double[] newState(long offset, int length) {
        return new double[PER_INPUT + 2 * k];
    }

    @Override
    public void accumulate(double[] s, long offset, float[][] rows, int n) {
        float[] out = rows[k];
        s[OUT] += Reductions.dot(out, out, 0, n);
        for (int i = 0; i < k; i++) {
            s[PER_INPUT + 2 * i] += Reductions.dot(rows[i], rows[i], 0, n);
            s[PER_INPUT + 2 * i + 1] += Reductions.dot(out, rows[i], 0, n);
        }
        if (base < 0) {
            return;
        }
        float[] b = rows[base];
        double diff = 0;
        long agree = 0;
        long considered = 0;
        for (int j = 0; j < n; j++) {
            double d = (double) out[j] - b[j];
            diff += d * d;
            int positive = 0;
            int negative = 0;
            for (int i = 0; i < k; i++) {
                if (i != base) {
                    float tau = rows[i][j] - b[j];
                    positive += tau > 0 ? 1 : 0;
                    negative += tau < 0 ? 1 : 0;
                }
            }
            if (positive + negative >= 2) {
                considered++;
                agree += positive == 0 || negative == 0 ? 1 : 0;
            }
        }
        s[OUT_MINUS_BASE] += diff;
        s[AGREE] += agree;
        s[CONSIDERED] += considered;
    }

    @Override
    public void combine(double[] into, double[] next) {
        for (int i = 0; i < into.length; i++) {
            into[i] += next[i];
        }
    }

    /**
     * The row for a merged tensor, given the chunk sums, what the method reported about pruning and the non-finite
     * values counted in the same pass.
     */
    TensorStats finish(TensorTask task, double[] s, List<String> inputNames, double prunedFraction,
            List<NonFinite> inputNonFinite, NonFinite outNonFinite) {
        double outNorm = Math.sqrt(s[OUT]);
        double[] norms = new double[k];
        double[] cos = new double[k];
        for (int i = 0; i < k; i++) {
            norms[i] = Math.sqrt(s[PER_INPUT + 2 * i]);
            double denom = outNorm * norms[i];
            cos[i] = denom > 0 ? s[PER_INPUT + 2 * i + 1] / denom : Double.NaN;
        }
        double interpolation = Double.NaN;
        double maxRatio = Double.NaN;
        if (k == 2 && base >= 0) {
            double n0 = norms[base];
            double n1 = norms[1 - base];
            maxRatio = outNorm / Math.max(n0, n1);
            if (task.params().globals().get("t") instanceof Double t) {
                interpolation = outNorm / ((1 - t) * n0 + t * n1);
            }
        }
        int others = base >= 0 ? k - 1 : 0;
        double agreement = others >= 2 && s[CONSIDERED] > 0 ? s[AGREE] / s[CONSIDERED] : Double.NaN;
        return new TensorStats(task.out().name(), Planner.layerIndex(task.out().name()), task.out().numel(),
                inputNames, outNorm, norms, base >= 0 ? Math.sqrt(s[OUT_MINUS_BASE]) : Double.NaN, cos, interpolation,
                maxRatio, prunedFraction, agreement, List.copyOf(inputNonFinite), outNonFinite);
    }

    /** The row for a tensor copied unchanged (integer buffers): only its size. */
    static TensorStats copied(TensorTask task) {
        return new TensorStats(task.out().name(), Planner.layerIndex(task.out().name()), task.out().numel(), List.of(),
                Double.NaN, new double[0], Double.NaN, new double[0], Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                List.of(), NonFinite.NONE);
    }
}
