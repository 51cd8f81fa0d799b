package org.mergelab.merge.methods;

import java.util.Arrays;
import java.util.List;

import org.mergelab.BadInputException;
import org.mergelab.merge.CounterRandom;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.ResolvedParams;
import org.mergelab.merge.TensorJob;

/**
 * DELLA's MagPrune (mergekit's {@code della_magprune}): within each row (a slice along the last dimension; a 1-D
 * tensor is one row) rank the elements by ascending {@code |τ|}, {@code r = 1..n} (among equal magnitudes the lower
 * flat index ranks higher, as everywhere in MergeLab), and keep each with probability
 * {@code p = (density − ε) + 2ε·(r−1)/(n−1)} ({@code p = density} when {@code n = 1}), drawn like DARE's drop from
 * {@link CounterRandom}. Rescale: L1 match over the tensor (one extra pass), or {@code 1/p} per element.
 *
 * <p>{@code density ≥ 1} leaves the task vector untouched and {@code density ≤ 0} zeroes it (as mergekit); otherwise
 * {@code density ± epsilon} must lie in (0, 1). mergekit ranks along dim 1 for tensors of 3 or more dimensions;
 * MergeLab ranks along the last one (model weights are 1-D or 2-D, where the two agree).
 */
final class DellaMagPrune implements Sparsifier {
    @Override
    public List<ParamSpec> extraParams() {
        return List.of(ParamSpec.perModel("epsilon", ParamSpec.Kind.NUMBER, 0.15));
    }

    @Override
    public void check(String method, ResolvedParams p, int input, String model, String tensorName) {
        double d = p.number("density", input);
        double eps = p.number("epsilon", input);
        if (d > 1) {
            throw new BadInputException(method + ": density of " + model + " is " + d + " for tensor '" + tensorName
                    + "'; expected at most 1");
        }
        if (d > 0 && d < 1 && !(d - eps > 0 && d + eps < 1)) {
            throw new BadInputException(method + ": density ± epsilon of " + model + " is " + (d - eps) + " .. "
                    + (d + eps) + " for tensor '" + tensorName + "' (density " + d + ", epsilon " + eps
                    + "); both must lie in (0, 1)");
        }
    }

    @Override
    public Mask prepare(TensorJob job, TaskVectors tv, Rescale rescale) {
        double[] density = Sparsifier.densities(job, tv);
        int k = tv.count();
        boolean[] active = new boolean[k];
        double[] eps = new double[k];
        long[] key = new long[k];
        for (int m = 0; m < k; m++) {
            active[m] = density[m] < 1;
            eps[m] = job.params().number("epsilon", tv.inputs[m]);
            key[m] = CounterRandom.key(job.seed(), job.tensorName(), tv.inputs[m]);
        }
        long[] shape = job.shape();
        long rowLength = shape.length >= 2 ? shape[shape.length - 1] : Math.max(1, job.numel());
        String tensor = job.tensorName();
        boolean inverse = rescale == Rescale.INVERSE_DENSITY;
        double[] scale = new double[k];
        Arrays.fill(scale, 1);
        if (rescale == Rescale.L1) {
            scale = Sparsifier.l1Factors(job, tv, active, (m, offset, tau, n) -> prune(tau, offset, n, rowLength,
                    density[m], eps[m], key[m], null, tensor));
        }
        double[] s = scale;
        return new Mask() {
            @Override
            public double[] apply(int m, long offset, float[] tau, int n) {
                if (!active[m]) {
                    return null;
                }
                double[] factors = inverse ? TaskVectors.doubles(m, n) : null;
                prune(tau, offset, n, rowLength, density[m], eps[m], key[m], factors, tensor);
                return factors;
            }

            @Override
            public double scale(int m) {
                return s[m];
            }
        };
    }

    /**
     * Prunes the whole rows of one chunk in place; with {@code inverse} non-null, {@code inverse[j]} receives
     * {@code 1/p} of element j.
     */
    static void prune(float[] tau, long offset, int n, long rowLength, double density, double eps, long key,
            double[] inverse, String tensor) {
        if (density <= 0) {
            Arrays.fill(tau, 0, n, 0f);
            if (inverse != null) {
                Arrays.fill(inverse, 0, n, 1);
            }
            return;
        }
        if (offset % rowLength != 0 || n % rowLength != 0) {
            throw new BadInputException("della ranks within rows, but tensor '" + tensor + "' has rows of "
                    + rowLength + " elements, too long to rank in one piece");
        }
        int len = (int) rowLength;
        long[] order = TaskVectors.longs(len);
        for (int start = 0; start < n; start += len) {
            // ascending |τ|; among equal magnitudes the higher index first, so the lower index ranks higher
            for (int i = 0; i < len; i++) {
                order[i] = (long) TaskVectors.magnitudeKey(tau[start + i]) << 32 | (0xFFFFFFFFL - i);
            }
            Arrays.sort(order, 0, len);
            long rowOffset = offset + start;
            for (int r = 0; r < len; r++) {
                int i = (int) (0xFFFFFFFFL - (order[r] & 0xFFFFFFFFL));
                double p = len == 1 ? density : (density - eps) + 2 * eps * r / (len - 1);
                int at = start + i;
                if (!(CounterRandom.uniform(key, rowOffset + i) < p)) {
                    tau[at] = 0f;
                }
                if (inverse != null) {
                    inverse[at] = 1 / p;
                }
            }
        }
    }
}
