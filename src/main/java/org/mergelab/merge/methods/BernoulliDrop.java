package org.mergelab.merge.methods;

import org.mergelab.merge.CounterRandom;
import org.mergelab.merge.ResolvedParams;
import org.mergelab.merge.TensorJob;

/**
 * DARE's drop (mergekit's {@code random}/{@code bernoulli}): every element of a task vector survives independently
 * with probability {@code density}. The draw for element {@code i} of input {@code m}'s task vector is
 * {@code CounterRandom.uniform(key(seed, tensor, m), i) < density}, a pure function of those four values, so the
 * output bytes do not depend on threads or chunking. Rescale: L1 match (one extra pass) or {@code 1/density}.
 */
final class BernoulliDrop implements Sparsifier {
    @Override
    public void check(String method, ResolvedParams p, int input, String model, String tensorName) {
        Sparsifier.checkDensity(method, p, input, model, tensorName);
    }

    @Override
    public Mask prepare(TensorJob job, TaskVectors tv, Rescale rescale) {
        double[] density = Sparsifier.densities(job, tv);
        int k = tv.count();
        boolean[] active = new boolean[k];
        long[] key = new long[k];
        long[] limit = new long[k];
        for (int m = 0; m < k; m++) {
            active[m] = density[m] < 1;
            key[m] = CounterRandom.key(job.seed(), job.tensorName(), tv.inputs[m]);
            // CounterRandom.retain's exact comparison: uniform m·2⁻⁵³ < p ⇔ m < ⌈p·2⁵³⌉
            limit[m] = (long) Math.ceil(density[m] * 0x1p53);
        }
        double[] unit = new double[k];
        java.util.Arrays.fill(unit, 1);
        Mask drop = mask(active, key, limit, unit);
        double[] scale = new double[k];
        for (int m = 0; m < k; m++) {
            scale[m] = rescale == Rescale.INVERSE_DENSITY && active[m] ? 1 / density[m] : 1;
        }
        if (rescale == Rescale.L1) {
            // the draws again are as cheap as replaying recorded bits (measured), so none are kept; the sums come
            // straight from the draws, without the masked vector (one pass of the lanes instead of three)
            scale = Sparsifier.l1Factors(job, tv, active, drop, null,
                    (t, m, offset, in, from, to, into, s, kept) -> TaskVectorKernels.randomMaskAbsSums(
                            in[t.inputs[m]], in[t.base], from, to, key[m], offset, limit[m], into, s,
                            kept));
        }
        return mask(active, key, limit, scale);
    }

    private static Mask mask(boolean[] active, long[] key, long[] limit, double[] scale) {
        return new Mask() {
            @Override
            public int sparsify(TaskVectors tv, int m, long offset, float[][] in, int from, int to, float[] into) {
                if (!active[m]) {
                    tv.compute(in, m, from, to, into);
                    return 0;
                }
                return TaskVectorKernels.randomMask(in[tv.inputs[m]], in[tv.base], into, from, to, key[m], offset,
                        limit[m]);
            }

            @Override
            public int block(long offset, int n) {
                return TaskVectorKernels.BLOCK;
            }

            @Override
            public double scale(int m) {
                return scale[m];
            }
        };
    }
}
