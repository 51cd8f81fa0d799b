package org.mergelab.merge.methods.legacy;

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
        for (int m = 0; m < k; m++) {
            active[m] = density[m] < 1;
            key[m] = CounterRandom.key(job.seed(), job.tensorName(), tv.inputs[m]);
        }
        Drop drop = (m, offset, tau, n) -> CounterRandom.retain(key[m], offset, tau, n, density[m]);
        double[] scale = new double[k];
        for (int m = 0; m < k; m++) {
            scale[m] = rescale == Rescale.INVERSE_DENSITY && active[m] ? 1 / density[m] : 1;
        }
        if (rescale == Rescale.L1) {
            scale = Sparsifier.l1Factors(job, tv, active, drop);
        }
        return Sparsifier.of(drop, active, scale);
    }
}
