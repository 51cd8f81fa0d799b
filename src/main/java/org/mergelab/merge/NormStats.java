package org.mergelab.merge;

import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelTensor;

/** Weight-norm statistics of stored tensors, accumulated in float64 one chunk at a time. */
public final class NormStats {
    private NormStats() {}

    /** Σ x² over a float tensor; NaN for non-float tensors. */
    public static double sumOfSquares(ModelTensor t) {
        if (!t.dtype().isFloat()) {
            return Double.NaN;
        }
        long numel = t.info().numel();
        int chunk = (int) Math.min(MergeEngine.DEFAULT_CHUNK, Math.max(1, numel));
        float[] buf = new float[chunk];
        double sum = 0;
        for (long off = 0; off < numel; off += chunk) {
            int n = (int) Math.min(chunk, numel - off);
            FloatCodec.decode(t.dtype(), t.data(), off, buf, n);
            sum += Reductions.dot(buf, buf, 0, n);
        }
        return sum;
    }
}
