package org.mergelab.merge.methods;

import java.lang.foreign.MemorySegment;

import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.TensorJob;

/**
 * {@link GeneralizedTaskArithmetic}'s output pass without sign election (breadcrumbs, DARE and DELLA linear, task
 * arithmetic with a sparsifier): {@code out = b + outer·Σ c_m·f_m·τ̂_m}, each task vector sparsified by the mask, the
 * sum in float64 from 0 in model order. Two task vectors under plain key-comparison masks (breadcrumbs) over three
 * stored bf16 inputs run straight from memory once the masking lanes are compiled ({@link TwoMaskedBf16}), as
 * {@link ConsensusMix} does.
 *
 * @param c contribution coefficients {@code c_m} (weight times the mask's rescale)
 * @param outer {@code λ}, over the summed weights when normalizing
 */
record MaskedSum(TensorJob job, TaskVectors tv, Sparsifier.Mask mask, double[] c, double outer, boolean counted)
        implements ChunkKernel {
    @Override
    public void apply(long offset, float[][] in, float[] out, int n) {
        int k = tv.count();
        float[] t = TaskVectors.floats(1, n)[0];
        double[] acc = TaskVectors.doubles(k, n);
        float[] b = in[tv.base];
        long zeroed = 0;
        int block = mask.block(offset, n);
        for (int from = 0; from < n; from += block) {
            int to = Math.min(n, from + block);
            for (int m = 0; m < k; m++) {
                zeroed += mask.sparsify(tv, m, offset, in, from, to, t);
                accumulate(acc, m == 0, c[m], mask.factors(m), t, from, to);
            }
            for (int j = from; j < to; j++) {
                out[j] = (float) (b[j] + outer * acc[j]);
            }
        }
        if (counted) {
            job.countPruned(zeroed, (long) k * n);
        }
    }

    @Override
    public boolean applyBf16(long offset, MemorySegment[] bf16, float[] out, int n, int[] largest) {
        return TwoMaskedBf16.run(job, counted, tv, mask, bf16, offset, n, largest, (base, tau, from, to) -> sumTwo(
                base, tau[0], tau[1], c[0], c[1], outer, out, from, to));
    }

    /** {@link #apply}'s sum for two task vectors without factors, in one loop (C2 vectorizes it itself). */
    static void sumTwo(float[] b, float[] t0, float[] t1, double c0, double c1, double outer, float[] out, int from,
            int to) {
        for (int j = from; j < to; j++) {
            double sum = 0 + c0 * t0[j];
            sum += c1 * t1[j];
            out[j] = (float) (b[j] + outer * sum);
        }
    }

    /**
     * {@code acc += c·f·t} over {@code [from, to)} ({@code f} null: 1), in float64; the first model's term is added
     * to 0 as the sum always was ({@code 0 + x} is {@code x}, but {@code +0} for {@code x = −0}).
     */
    private static void accumulate(double[] acc, boolean first, double c, double[] f, float[] t, int from, int to) {
        if (first) {
            if (f == null) {
                for (int j = from; j < to; j++) {
                    acc[j] = 0 + c * t[j];
                }
            } else {
                for (int j = from; j < to; j++) {
                    acc[j] = 0 + c * f[j] * t[j];
                }
            }
        } else if (f == null) {
            for (int j = from; j < to; j++) {
                acc[j] += c * t[j];
            }
        } else {
            for (int j = from; j < to; j++) {
                acc[j] += c * f[j] * t[j];
            }
        }
    }
}
