package org.mergelab.merge.methods.legacy;

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
        double[] prob = probabilities(n);
        for (int start = 0; start < n; start += len) {
            int[] order = ascendingOrder(tau, start, len);
            for (int r = 0; r < len; r++) {
                prob[start + order[r]] = len == 1 ? density : (density - eps) + 2 * eps * r / (len - 1);
            }
        }
        // the draws in index order, vectorized (a branch on them would be mispredicted half the time)
        CounterRandom.retain(key, offset, tau, prob, 0, n);
        if (inverse != null) {
            for (int i = 0; i < n; i++) {
                inverse[i] = 1 / prob[i];
            }
        }
    }

    private static final ThreadLocal<double[]> PROBABILITIES = new ThreadLocal<>();

    /** This thread's array of per-element keep probabilities. */
    private static double[] probabilities(int n) {
        double[] p = PROBABILITIES.get();
        if (p == null || p.length < n) {
            p = new double[Math.max(n, 1)];
            PROBABILITIES.set(p);
        }
        return p;
    }

    private static final ThreadLocal<int[][]> RANK_SCRATCH = new ThreadLocal<>();

    /**
     * The row {@code tau[start, start + len)} by ascending {@code |τ|}, the higher index first among equal
     * magnitudes (so the lower index ranks higher): row-relative indices in this thread's scratch. An LSD radix sort
     * over the bytes of the magnitude bits, started from descending index order and stable, so O(len).
     */
    static int[] ascendingOrder(float[] tau, int start, int len) {
        int[][] s = RANK_SCRATCH.get();
        if (s == null || s[0].length < len) {
            s = new int[][] {new int[len], new int[len], new int[len], new int[257]};
            RANK_SCRATCH.set(s);
        }
        int[] keys = s[0];
        int[] order = s[1];
        int[] next = s[2];
        int[] count = s[3];
        for (int i = 0; i < len; i++) {
            keys[i] = TaskVectors.magnitudeKey(tau[start + i]);
            order[i] = len - 1 - i;
        }
        for (int shift = 0; shift < 32; shift += 8) {
            java.util.Arrays.fill(count, 0);
            for (int i = 0; i < len; i++) {
                count[((keys[i] >>> shift) & 0xff) + 1]++;
            }
            if (count[((keys[0] >>> shift) & 0xff) + 1] == len) {
                continue; // every key has this digit: the order stands
            }
            for (int d = 0; d < 256; d++) {
                count[d + 1] += count[d];
            }
            for (int i = 0; i < len; i++) {
                int idx = order[i];
                next[count[(keys[idx] >>> shift) & 0xff]++] = idx;
            }
            int[] t = order;
            order = next;
            next = t;
        }
        if (order != s[1]) {
            System.arraycopy(order, 0, s[1], 0, len);
        }
        return s[1];
    }
}
