package org.mergelab.merge.methods;

import java.lang.foreign.MemorySegment;

import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.TensorJob;

/**
 * {@link GeneralizedTaskArithmetic}'s output pass with the TIES sign election: per block, each task vector sparsified
 * by the mask, then voted on and mixed ({@link SignConsensus#mix}). Two task vectors under plain key-comparison masks
 * (TIES) over three stored bf16 inputs run in one pass straight from memory once its lanes are compiled (masked block
 * by block into L1-sized arrays, {@link TwoMaskedBf16}, which the mixing reads back): that skips decoding the chunk
 * into chunk-long arrays and the task vectors' trip through them.
 *
 * @param c contribution coefficients {@code c_m} (weight times the mask's rescale)
 * @param w the weights, summed over the agreeing contributions into the divisor
 * @param ones the vote's per-model factors (all 1), made once per tensor
 * @param noFactors the per-element factors of a mask without any (all null)
 */
record ConsensusMix(TensorJob job, TaskVectors tv, Sparsifier.Mask mask, SignConsensus vote, double[] c, double[] w,
        SignConsensus.Divide divide, double lambda, boolean counted, double[] ones, double[][] noFactors)
        implements ChunkKernel {
    ConsensusMix(TensorJob job, TaskVectors tv, Sparsifier.Mask mask, SignConsensus vote, double[] c, double[] w,
            SignConsensus.Divide divide, double lambda, boolean counted) {
        this(job, tv, mask, vote, c, w, divide, lambda, counted, ones(tv.count()), new double[tv.count()][]);
    }

    private static double[] ones(int k) {
        double[] ones = new double[k];
        java.util.Arrays.fill(ones, 1);
        return ones;
    }

    @Override
    public void apply(long offset, float[][] in, float[] out, int n) {
        int k = tv.count();
        float[][] tau = TaskVectors.floats(k, n);
        double[][] factors = mask.hasFactors() ? new double[k][] : noFactors;
        long zeroed = 0;
        int block = mask.block(offset, n);
        for (int from = 0; from < n; from += block) {
            int to = Math.min(n, from + block);
            for (int m = 0; m < k; m++) {
                zeroed += mask.sparsify(tv, m, offset, in, from, to, tau[m]);
                if (factors != noFactors) {
                    factors[m] = mask.factors(m);
                }
            }
            // contributions c_m·τ̂_m vote and are summed as they are; the divisor sums the weights
            vote.mix(tau, factors, k, c, ones, w, divide, lambda, in[tv.base], out, from, to);
        }
        if (counted) {
            job.countPruned(zeroed, (long) k * n);
        }
    }

    @Override
    public boolean applyBf16(long offset, MemorySegment[] bf16, float[] out, int n, int[] largest) {
        return TwoMaskedBf16.run(job, counted, tv, mask, bf16, offset, n, largest, (base, tau, from, to) -> vote.mix(
                tau, noFactors, 2, c, ones, w, divide, lambda, base, out, from, to));
    }
}
