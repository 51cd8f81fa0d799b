package org.mergelab.merge.methods;

import java.lang.foreign.MemorySegment;

import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.TensorJob;
import org.mergelab.merge.methods.TaskVectorKernels.Lanes;

/**
 * {@link GeneralizedTaskArithmetic}'s output pass without sign election (breadcrumbs, DARE and DELLA linear, task
 * arithmetic with a sparsifier): {@code out = b + outer·Σ c_m·f_m·τ̂_m}, each task vector sparsified by the mask, the
 * sum in float64 from 0 in model order. Two task vectors under plain key-comparison masks (breadcrumbs) over three
 * stored bf16 inputs run straight from memory once the masking lanes are compiled, as {@link ConsensusMix} does.
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
        if (!TaskVectorKernels.VECTOR || tv.count() != 2 || bf16.length != 3 || mask.hasFactors()) {
            return false;
        }
        int[] above = new int[2];
        int[] atMost = new int[2];
        int b = tv.base;
        int x0 = tv.inputs[0];
        int x1 = tv.inputs[1];
        float[][] s = TaskVectors.floats(3, n); // the base and both masked task vectors, one block at a time
        if (!mask.keyBounds(offset, above, atMost) || !Lanes.RANK_MASK_TWO_BF16.runsOrProbes(n,
                () -> TaskVectorKernels.rankMaskTwoBf16(bf16[b], bf16[x0], bf16[x1], offset, 0,
                        TaskVectorKernels.PROBE, above[0], atMost[0], above[1], atMost[1], s[0], s[1], s[2],
                        new int[3], 0, 1, 2))) {
            return false;
        }
        java.util.Arrays.fill(largest, 0, 3, 0);
        long zeroed = 0;
        for (int from = 0; from < n; from += TaskVectorKernels.BLOCK) {
            int to = Math.min(n, from + TaskVectorKernels.BLOCK);
            zeroed += TaskVectorKernels.rankMaskTwoBf16(bf16[b], bf16[x0], bf16[x1], offset, from, to, above[0],
                    atMost[0], above[1], atMost[1], s[0], s[1], s[2], largest, b, x0, x1);
            sumTwo(s[0], s[1], s[2], c[0], c[1], outer, out, from, to);
        }
        if (counted) {
            job.countPruned(zeroed, 2L * n);
        }
        return true;
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
