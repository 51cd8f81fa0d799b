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
        double[] scale = new double[k];
        Arrays.fill(scale, 1);
        if (rescale == Rescale.L1) {
            Sparsifier.Kept kept = Sparsifier.Kept.forTensor(job, k);
            scale = Sparsifier.l1Factors(job, tv, active, mask(active, density, eps, key, rowLength, tensor, false,
                    scale), kept, null);
            return Sparsifier.replaying(mask(active, density, eps, key, rowLength, tensor, false, scale), kept);
        }
        return mask(active, density, eps, key, rowLength, tensor, rescale == Rescale.INVERSE_DENSITY, scale);
    }

    /** The mask; with {@code inverse}, it also gives each element's {@code 1/p} as its factor. */
    private static Mask mask(boolean[] active, double[] density, double[] eps, long[] key, long rowLength,
            String tensor, boolean inverse, double[] scale) {
        return new Mask() {
            @Override
            public int sparsify(TaskVectors tv, int m, long offset, float[][] in, int from, int to, float[] into) {
                if (!active[m]) {
                    tv.compute(in, m, from, to, into);
                    return 0;
                }
                // whole chunks only (block() is the default): from is 0, to the chunk's length
                int n = to;
                tv.compute(in, m, 0, n, into);
                int before = TaskVectorKernels.nonzero(into, 0, n);
                double[] factors = inverse ? TaskVectors.doubles(m, n) : null;
                prune(into, offset, n, rowLength, density[m], eps[m], key[m], factors, tensor);
                return before - TaskVectorKernels.nonzero(into, 0, n);
            }

            @Override
            public double[] factors(int m) {
                return inverse && active[m] ? TaskVectors.doubles(m, 1) : null;
            }

            @Override
            public boolean hasFactors() {
                return inverse;
            }

            @Override
            public double scale(int m) {
                return scale[m];
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
        if (inverse == null && len > 1 && fast) {
            RowScratch rs = RowScratch.of(len);
            for (int start = 0; start < n; start += len) {
                if (!pruneRow(tau, start, len, offset, density, eps, key, rs)) {
                    pruneRowBySort(tau, start, len, offset, density, eps, key);
                }
            }
            return;
        }
        double[] prob = probabilities(n);
        for (int start = 0; start < n; start += len) {
            int[] order = ascendingOrder(tau, start, len);
            for (int r = 0; r < len; r++) {
                prob[start + order[r]] = len == 1 ? density : keepProbability(density, eps, r, len);
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

    /** Tests: when false, every row is ranked by the full sort. */
    static volatile boolean fast = true;

    /** One row as {@link #prune} does it with the full sort (the fallback of {@link #pruneRow}). */
    private static void pruneRowBySort(float[] tau, int start, int len, long offset, double density, double eps,
            long key) {
        double[] prob = probabilities(len);
        int[] order = ascendingOrder(tau, start, len);
        for (int r = 0; r < len; r++) {
            prob[order[r]] = keepProbability(density, eps, r, len);
        }
        float[] row = java.util.Arrays.copyOfRange(tau, start, start + len);
        CounterRandom.retain(key, offset + start, row, prob, 0, len);
        System.arraycopy(row, 0, tau, start, len);
    }

    /** The bucket of a key: 0 below {@code first}'s binade (the low tail), else one per bf16 value above it. */
    static int bucket(int key, int first) {
        return Math.max(0, (key >>> 16) - first + 1);
    }

    /**
     * One row ({@code tau[start, start + len)}, {@code len ≥ 2}) pruned as {@link #prune} does, without sorting it:
     * element {@code j} of rank {@code r} is kept when its draw {@code m_j} (the 53-bit integer behind
     * {@code CounterRandom.uniform}) is below {@code ⌈p(r)·2⁵³⌉}, and {@code p} never decreases with {@code r}. So a
     * histogram of the keys' top bits, which bounds each element's rank to its bucket's range, decides every element
     * whose draw is below the bound of the bucket's lowest rank or at least that of its highest; only the few others
     * (their draw falls between) are ranked exactly ({@link #rankUndecided}). Returns false, having changed nothing,
     * when that would take too long (crowded buckets, e.g. of equal keys), for the caller to sort instead.
     */
    static boolean pruneRow(float[] tau, int start, int len, long offset, double density, double eps, long key,
            RowScratch rs) {
        boolean lanes = DellaRowKernels.lanes(len);
        int[] keys = rs.keys;
        int max = DellaRowKernels.keys(tau, start, len, keys, lanes);
        int first = firstFineBucket(keys, len, max, rs.exponents);
        int buckets = (max >>> 16) - first + 2;
        if (buckets > 4 * len + 1024) {
            return false; // keys spread over too many binades (infinities, NaN): sort
        }
        rs.ensureBuckets(buckets);
        int[] bucketOf = rs.bucketOf;
        boolean oneKeyBuckets = DellaRowKernels.buckets(keys, len, first, bucketOf, lanes) == 0;
        int[] count = count(bucketOf, len, buckets, oneKeyBuckets, rs);
        long[] limits = rs.limits(density, eps, len);
        long[] bounds = rs.bounds;
        DellaRowKernels.bounds(count, buckets, limits, bounds);
        float[] original = rs.row;
        System.arraycopy(tau, start, original, 0, len); // for the sort, should rankUndecided decline
        int[] undecided = rs.undecided;
        long firstDraw = offset + start;
        int u = DellaRowKernels.decide(tau, start, len, bucketOf, key, firstDraw, bounds, undecided, rs.boundsOf,
                lanes);
        if (u > 0 && !rankUndecided(keys, bucketOf, oneKeyBuckets, len, buckets, undecided, u, key, firstDraw, limits,
                tau, start, rs)) {
            System.arraycopy(original, 0, tau, start, len);
            return false;
        }
        return true;
    }

    /**
     * Each bucket's count of {@code bucketOf[0, len)}, in {@code rs.count}, and with {@code places} each element's place
     * among its bucket's members ({@link RowScratch#membersBefore}; only {@link #rankUndecided}'s buckets of one key
     * use them, and storing them made rows of many keys ~15% slower): two histograms, of each half of the row, summed (the
     * increments of one bucket in a row wait on each other's store; two chains overlap).
     */
    private static int[] count(int[] bucketOf, int len, int buckets, boolean places, RowScratch rs) {
        int[] lower = rs.lowerCount;
        int[] upper = rs.count;
        int[] before = rs.before;
        java.util.Arrays.fill(lower, 0, buckets, 0);
        java.util.Arrays.fill(upper, 0, buckets, 0);
        int half = len >>> 1;
        int upperStart = len - half; // the middle element of an odd row is the lower half's last
        if (places) {
            for (int i = 0; i < half; i++) {
                before[i] = lower[bucketOf[i]]++;
                before[upperStart + i] = upper[bucketOf[upperStart + i]]++;
            }
        } else {
            for (int i = 0; i < half; i++) {
                lower[bucketOf[i]]++;
                upper[bucketOf[upperStart + i]]++;
            }
        }
        if (upperStart > half) {
            before[half] = lower[bucketOf[half]]++;
        }
        rs.upperStart = upperStart;
        for (int b = 0; b < buckets; b++) {
            upper[b] += lower[b];
        }
        return upper;
    }

    /**
     * Where fine buckets (one per bf16 value: 128 per binade) start, as a bf16 magnitude: at the binade below which
     * about 1/64 of the row's normal keys lie, estimated from every 8th key (the choice moves work between the passes,
     * never changes the result); everything below, zeros and subnormals too, shares bucket 0. The largest key's binade
     * is always in fine buckets.
     */
    private static int firstFineBucket(int[] keys, int len, int max, int[] exponents) {
        java.util.Arrays.fill(exponents, 0);
        for (int i = 0; i < len; i += 8) {
            exponents[keys[i] >>> 23]++;
        }
        int tail = (len + 7) / 8 / 64;
        int floor = 1;
        for (int below = exponents[1]; floor < 255 && below <= tail; below += exponents[++floor]) {
            // floor: the lowest binade with more than `tail` sampled normal keys at or below it
        }
        return Math.min(floor, max >>> 23) << 7;
    }

    /**
     * Decides the {@code u} undecided elements (row indices in {@code undecided}, ascending), dropping those not kept
     * from {@code tau}, by their exact rank: the elements that rank below element {@code i} of key {@code k} are those
     * with a smaller key, and those with an equal key at a higher index, so
     * {@code r = #{j < i : keys[j] < k} + #{j > i : keys[j] ≤ k}}: counting passes over the row, branch-free so that
     * C2 vectorizes them, cheaper than listing the members of {@code k}'s bucket (a pass with a store or a branch per
     * element) while only a few elements per row are undecided. Undecided elements of one key are often many, in a
     * bucket crowded with equal keys (zeros: weights a fine-tune left unchanged; or the few distinct values of a bf16
     * fine-tune's task vector): taken from the last, each ranks above the previous one of its key by the equal keys
     * between the two. When every key is a bf16 value ({@code oneKeyBuckets}: a bf16 fine-tune's small deltas), each
     * fine bucket holds one key, and its members after the element are all that rank below it in the bucket: no pass
     * at all. False, when the passes would cost more than sorting the row (undecided elements of many keys), with
     * some undecided elements perhaps dropped.
     */
    private static boolean rankUndecided(int[] keys, int[] bucketOf, boolean oneKeyBuckets, int len, int buckets,
            int[] undecided, int u, long key, long firstDraw, long[] limits, float[] tau, int start, RowScratch rs) {
        // per bucket, zeros apart at `buckets`: the key, index and rank of the last element ranked (-1: none yet)
        int[] lastKey = rs.lastKey;
        int[] lastIndex = rs.lastIndex;
        int[] lastRank = rs.lastRank;
        int[] low = rs.low;
        if (oneKeyBuckets) {
            int[] count = rs.count;
            for (int b = 0, rank = 0; b < buckets; rank += count[b++]) {
                low[b] = rank;
            }
        }
        for (int q = 0; q < u; q++) {
            int i = undecided[q];
            lastKey[keys[i] == 0 ? buckets : bucketOf[i]] = -1;
        }
        int passes = 0;
        for (int q = u - 1; q >= 0; q--) {
            int i = undecided[q];
            int k = keys[i];
            int slot = k == 0 ? buckets : bucketOf[i];
            int r;
            if (oneKeyBuckets && slot > 0 && slot < buckets) {
                // a fine bucket of one key: the members after it rank below it
                int b = slot;
                r = low[b] + rs.count[b] - 1 - rs.membersBefore(i, b);
            } else if (lastKey[slot] == k) {
                r = lastRank[slot] + equal(keys, i + 1, lastIndex[slot] + 1, k);
            } else if (++passes > MAX_RANKING_PASSES) {
                return false;
            } else {
                // k + 1 overflows for the largest NaN key only, to 2³¹, which below() handles
                r = below(keys, 0, i, k) + below(keys, i + 1, len, k + 1);
            }
            lastKey[slot] = k;
            lastIndex[slot] = i;
            lastRank[slot] = r;
            DellaRowKernels.dropUnlessKept(tau, start, i, CounterRandom.draw(key, firstDraw + i), limits[r]);
        }
        return true;
    }

    /**
     * Passes over a row (each vectorized, ~0.03 ns an element) beyond which {@link #rankUndecided} leaves it to the
     * sort (~10 ns an element).
     */
    private static final int MAX_RANKING_PASSES = 64;

    /**
     * How many of {@code keys[from, to)} are below {@code bound}, for a bound in {@code [0, 2³¹]} (2³¹ as
     * {@code Integer.MIN_VALUE}): as keys are non-negative ints, {@code key − bound} wraps to negative exactly when
     * the key is below it, with no branch.
     */
    private static int below(int[] keys, int from, int to, int bound) {
        int n = 0;
        for (int j = from; j < to; j++) {
            n += (keys[j] - bound) >>> 31;
        }
        return n;
    }

    /** How many of {@code keys[from, to)} equal {@code k}: {@code key ^ k} is 0 then, else positive. */
    private static int equal(int[] keys, int from, int to, int k) {
        int n = 0;
        for (int j = from; j < to; j++) {
            n += ((keys[j] ^ k) - 1) >>> 31;
        }
        return n;
    }

    /**
     * The keep probability of 0-based rank {@code r} (ascending {@code |τ|}) in a row of {@code len ≥ 2} elements. The
     * sort and the buckets both compute it here, so they agree bit for bit.
     */
    private static double keepProbability(double density, double eps, int r, int len) {
        return (density - eps) + 2 * eps * r / (len - 1);
    }

    /** {@code ⌈p·2⁵³⌉}: a draw {@code m} (as {@code uniform = m·2⁻⁵³}) is below {@code p} exactly when below this. */
    private static long limit(double p) {
        return (long) Math.ceil(p * 0x1p53);
    }

    /** Per-thread scratch of {@link #pruneRow}. */
    static final class RowScratch {
        int[] keys = new int[0];
        final int[] exponents = new int[256];
        float[] row = new float[0];
        int[] undecided = new int[0];
        int[] count = new int[0];
        int[] lowerCount = new int[0];
        /** Per element: how many of its bucket's members precede it in its half of the row ({@link #count}). */
        int[] before = new int[0];
        /** Where {@link #count}'s upper half starts. */
        int upperStart;
        /** Per bucket: its lowest rank. */
        int[] low = new int[0];
        /** Per bucket: its draw bounds ({@link DellaRowKernels#bounds}). */
        long[] bounds = new long[0];
        int[] bucketOf = new int[0];
        /** Per element of a block: its bucket's {@link #bounds} ({@link DellaRowKernels#gatherBounds}). */
        final long[] boundsOf = new long[DellaRowKernels.GATHERED];
        int[] lastKey = new int[0];
        int[] lastIndex = new int[0];
        int[] lastRank = new int[0];
        /** {@link #limits}: the draw bound of each rank, for the row length and probabilities last asked. */
        private long[] rankLimits = new long[0];
        private int limitsLength;
        private double limitsDensity = Double.NaN;
        private double limitsEps = Double.NaN;

        private static final ThreadLocal<RowScratch> MINE = ThreadLocal.withInitial(RowScratch::new);

        static RowScratch of(int len) {
            RowScratch rs = MINE.get();
            if (rs.keys.length < len) {
                rs.keys = new int[len];
                rs.row = new float[len];
                rs.undecided = new int[len + TaskVectorKernels.IL.length()]; // + the last vector's compressed store
                rs.bucketOf = new int[len];
                rs.before = new int[len];
            }
            return rs;
        }

        /** How many members of bucket {@code b} precede row element {@code i}, one of them. */
        int membersBefore(int i, int b) {
            return before[i] + (i >= upperStart ? lowerCount[b] : 0);
        }

        /** {@code ⌈p(r)·2⁵³⌉} for each rank {@code r} of a row of {@code len}: computed once per tensor, not per row. */
        long[] limits(double density, double eps, int len) {
            if (len != limitsLength || density != limitsDensity || eps != limitsEps) {
                if (rankLimits.length < len) {
                    rankLimits = new long[len];
                }
                for (int r = 0; r < len; r++) {
                    rankLimits[r] = limit(keepProbability(density, eps, r, len));
                }
                limitsLength = len;
                limitsDensity = density;
                limitsEps = eps;
            }
            return rankLimits;
        }

        void ensureBuckets(int buckets) {
            if (count.length < buckets) {
                count = new int[buckets];
                lowerCount = new int[buckets];
                low = new int[buckets];
                bounds = new long[buckets];
                lastKey = new int[buckets + 1];
                lastIndex = new int[buckets + 1];
                lastRank = new int[buckets + 1];
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
