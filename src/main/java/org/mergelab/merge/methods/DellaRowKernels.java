package org.mergelab.merge.methods;

import static org.mergelab.merge.methods.TaskVectorKernels.F;
import static org.mergelab.merge.methods.TaskVectorKernels.FL;
import static org.mergelab.merge.methods.TaskVectorKernels.GOLDEN;
import static org.mergelab.merge.methods.TaskVectorKernels.I;
import static org.mergelab.merge.methods.TaskVectorKernels.IL;
import static org.mergelab.merge.methods.TaskVectorKernels.L;

import org.mergelab.merge.CounterRandom;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The per-element loops of DELLA's row pruning ({@link DellaMagPrune#pruneRow}), each twice with the same results:
 * Vector API lanes, and plain scalar code (C2 vectorizes none of them itself: a max reduction, {@code
 * floatToRawIntBits}, per-bucket lookups and a list of indices stop it). Measured on rows of 5632 elements (2.6 GHz
 * Zen 4, AVX-512): keys 0.73 → 0.41 ns an element, buckets and histogram 0.95 → 0.6, the decision 2.9 → 1.2.
 *
 * <p>The lanes run whole rows once compiled ({@link TaskVectorKernels.Lanes#DELLA_ROW}); until then each row probes
 * them on a small row of this thread's own ({@link #probe}) and runs the scalar loops.
 */
final class DellaRowKernels {
    private DellaRowKernels() {}

    /** Whether this row runs on the lanes: once they are compiled; until then it times a probe of them (if long). */
    static boolean lanes(int len) {
        return TaskVectorKernels.VECTOR && TaskVectorKernels.Lanes.DELLA_ROW.runsOrProbes(len, DellaRowKernels::probe);
    }

    /** {@code keys[i]}: the magnitude key of {@code tau[start + i]}, for {@code i < len}; returns the largest. */
    static int keys(float[] tau, int start, int len, int[] keys, boolean lanes) {
        int i = lanes ? F.loopBound(len) : 0;
        int max = lanes ? keysLanes(tau, start, i, keys) : 0;
        for (; i < len; i++) {
            int k = TaskVectors.magnitudeKey(tau[start + i]);
            keys[i] = k;
            max = Math.max(max, k);
        }
        return max;
    }

    // Each loop's lanes are a method of their own, called with the lanes only: C2 inlines the Vector API calls of a
    // method by its own profile, and in a branch that the scalar rows had left cold it did not (every vector boxed).

    /** {@link #keys} on lanes, for {@code len} a multiple of the lane count. */
    static int keysLanes(float[] tau, int start, int len, int[] keys) {
        IntVector most = IntVector.zero(I);
        for (int i = 0; i < len; i += F.length()) {
            IntVector k = FloatVector.fromArray(F, tau, start + i).reinterpretAsInts().and(0x7fffffff);
            k.intoArray(keys, i);
            most = most.max(k);
        }
        return most.reduceLanes(VectorOperators.MAX);
    }

    /**
     * {@code bucketOf[i]}: the bucket of {@code keys[i]} ({@link DellaMagPrune#bucket}), for {@code i < len}. Returns
     * the OR of the keys' low 16 bits: 0 when every key is a bf16 value, so that each fine bucket holds one key.
     */
    static int buckets(int[] keys, int len, int first, int[] bucketOf, boolean lanes) {
        int i = lanes ? I.loopBound(len) : 0;
        int lowBits = lanes ? bucketsLanes(keys, i, first, bucketOf) : 0;
        for (; i < len; i++) {
            bucketOf[i] = DellaMagPrune.bucket(keys[i], first);
            lowBits |= keys[i] & 0xffff;
        }
        return lowBits;
    }

    /** {@link #buckets} on lanes, for {@code len} a multiple of the lane count. */
    static int bucketsLanes(int[] keys, int len, int first, int[] bucketOf) {
        IntVector lowBits = IntVector.zero(I);
        for (int i = 0; i < len; i += I.length()) {
            IntVector k = IntVector.fromArray(I, keys, i);
            k.lanewise(VectorOperators.LSHR, 16).sub(first - 1).max(0).intoArray(bucketOf, i);
            lowBits = lowBits.or(k);
        }
        return lowBits.reduceLanes(VectorOperators.OR) & 0xffff;
    }

    /**
     * Per bucket {@code b < buckets}, into {@code bounds[b]}: the draw bounds of its lowest and highest rank (the ranks
     * ascend with the buckets, {@code count[b]} in each), {@code limits[lowest]} to keep for sure and
     * {@code limits[highest]} to drop, packed into one long as {@link #decide} reads them: the drop bound (at most 2⁵³)
     * rounded up to a multiple of 2²² in the upper 33 bits, the keep bound (below 2⁵³) rounded down to one in the lower
     * 31. Compared with a draw's upper 31 bits ({@code m >>> 22}), the rounding only widens the band of undecided
     * draws (by 2⁻³¹ of the range), which {@link DellaMagPrune#pruneRow} then decides exactly; and one long per element
     * is half the bytes to gather and load as two (row pruning 3.5 -> 3.1 ns an element). An empty bucket's bounds are
     * never read: they are computed without a branch, as about half the buckets are empty, at random. The packing is
     * written out in the loop: as a method of its own C2 did not inline it, and the loop took 3x as long.
     */
    static void bounds(int[] count, int buckets, long[] limits, long[] bounds) {
        int rank = 0;
        for (int b = 0; b < buckets; b++) {
            int c = count[b];
            long keep = limits[rank];
            long drop = limits[rank + c - 1 + ((c - 1) >>> 31)]; // rank itself when c is 0
            bounds[b] = ((drop + (1L << DRAW_SHIFT) - 1) >>> DRAW_SHIFT) << KEEP_BITS | keep >>> DRAW_SHIFT;
            rank += c;
        }
    }

    /** {@link #bounds}: the bits of a draw ({@code m < 2⁵³}) below those compared. */
    private static final int DRAW_SHIFT = 22;
    /** {@link #bounds}: the keep bound's bits, the lower ones. */
    private static final int KEEP_BITS = 31;
    private static final long KEEP_MASK = (1L << KEEP_BITS) - 1;

    /**
     * Decides each element {@code i < len} of the row {@code tau[start, start + len)} from its draw
     * ({@link CounterRandom#draw}{@code (key, first + i)}, as {@code m >>> 22}) and its bucket's packed bounds
     * ({@link #bounds}): at least the drop bound, dropped (zeroed); below the keep bound, kept; between, kept for now
     * and listed in {@code undecided} (in index order; with lanes, {@code undecided} has room for a vector past
     * {@code len}). Returns how many are listed. {@code boundsOf}: room for {@link #GATHERED} per-element bounds, the
     * lanes' ({@link #gatherBounds}).
     */
    static int decide(float[] tau, int start, int len, int[] bucketOf, long key, long first, long[] bounds,
            int[] undecided, long[] boundsOf, boolean lanes) {
        int i = lanes ? L.loopBound(len) : 0;
        int u = 0;
        if (lanes) {
            for (int from = 0; from < i; from += GATHERED) {
                int to = Math.min(i, from + GATHERED);
                gatherBounds(bucketOf, from, to, bounds, boundsOf);
                u = decideLanes(tau, start, from, to, key, first, boundsOf, undecided, u);
            }
        }
        for (; i < len; i++) {
            long packed = bounds[bucketOf[i]];
            long m = CounterRandom.draw(key, first + i) >>> DRAW_SHIFT;
            // without branches, as the draws are random (all below 2^33: no overflow)
            long kept = (m - (packed >>> KEEP_BITS)) >> 63;
            tau[start + i] = Float.intBitsToFloat(Float.floatToRawIntBits(tau[start + i]) & (int) kept);
            undecided[u] = i;
            u += (int) ((kept & ~(m - (packed & KEEP_MASK))) >>> 63);
        }
        return u;
    }

    /**
     * Each element's bucket bounds, {@code boundsOf[i − from] = bounds[bucketOf[i]]} for {@code i} in
     * {@code [from, to)}, by plain loads: the Vector API's gather ({@code LongVector.fromArray} with an index map) was,
     * in about half of the 4 GB merges, compiled into code that loads its index vector through the Java fallback,
     * allocating an array per vector: 45 GB of garbage, ~75 GCs, the heap at 1.2 GB and the merge 25 % slower (JFR).
     */
    static void gatherBounds(int[] bucketOf, int from, int to, long[] bounds, long[] boundsOf) {
        for (int i = from; i < to; i++) {
            boundsOf[i - from] = bounds[bucketOf[i]];
        }
    }

    /**
     * Elements whose bounds are gathered at a time: they stay in L1 (4 KiB) for the decisions. Gathering a whole row's
     * first (two longs per element then) left them in L2: row pruning 3.6 -> 3.3 ns an element.
     */
    static final int GATHERED = 512;

    /**
     * {@link #decide} on lanes over {@code [from, to)} (its length a multiple of the lane count), with each element's
     * bounds in {@code boundsOf[i − from]} ({@link #gatherBounds}): lists undecided elements after the {@code listed}
     * ones, compressed; returns how many are listed then.
     */
    static int decideLanes(float[] tau, int start, int from, int to, long key, long first, long[] boundsOf,
            int[] undecided, int listed) {
        LongVector lane = LongVector.zero(L).addIndex(1).mul(GOLDEN);
        long step = L.length() * GOLDEN;
        long at = key + (first + from) * GOLDEN;
        IntVector index = IntVector.zero(IL).addIndex(1);
        int u = listed;
        for (int i = from; i < to; i += L.length(), at += step) {
            LongVector m = TaskVectorKernels.mixLanes(lane.add(at)).lanewise(VectorOperators.LSHR, 11 + DRAW_SHIFT);
            LongVector packed = LongVector.fromArray(L, boundsOf, i - from);
            // −1 where m < drop bound, and where also m ≥ keep bound: signs of differences (all below 2^33), as bit
            // masks narrowed to int lanes, not VectorMasks cast to other element types (see
            // CounterRandom.keptLanes)
            LongVector kept = m.sub(packed.lanewise(VectorOperators.LSHR, KEEP_BITS))
                    .lanewise(VectorOperators.ASHR, 63);
            LongVector between = kept.and(m.sub(packed.and(KEEP_MASK)).lanewise(VectorOperators.ASHR, 63).not());
            IntVector keptBits = (IntVector) kept.convertShape(VectorOperators.L2I, IL, 0);
            FloatVector.fromArray(FL, tau, start + i).reinterpretAsInts().and(keptBits).reinterpretAsFloats()
                    .intoArray(tau, start + i);
            VectorMask<Integer> undecidedHere = ((IntVector) between.convertShape(VectorOperators.L2I, IL, 0))
                    .compare(VectorOperators.NE, 0);
            index.add(i).compress(undecidedHere).intoArray(undecided, u);
            u += undecidedHere.trueCount();
        }
        return u;
    }

    /** Zeroes row element {@code i} unless its draw {@code m} is below {@code limit} (no branch: m is random). */
    static void dropUnlessKept(float[] tau, int start, int i, long m, long limit) {
        int kept = (int) ((m - limit) >> 63);
        tau[start + i] = Float.intBitsToFloat(Float.floatToRawIntBits(tau[start + i]) & kept);
    }

    /** Runs each loop's lanes once on this thread's probe row (what it computes is thrown away). */
    static void probe() {
        ProbeRow p = ProbeRow.MINE.get();
        keysLanes(p.tau, 0, ProbeRow.LENGTH, p.keys);
        bucketsLanes(p.keys, ProbeRow.LENGTH, 0, p.bucketOf);
        gatherBounds(p.bucketOf, 0, ProbeRow.LENGTH, p.bounds, p.boundsOf);
        decideLanes(p.tau, 0, 0, ProbeRow.LENGTH, 7, 0, p.boundsOf, p.undecided, 0);
    }

    /** A row for the probes: its keys' buckets (first bucket 0) all lie within the bounds arrays. */
    private static final class ProbeRow {
        static final int LENGTH = TaskVectorKernels.PROBE;
        final float[] tau = new float[LENGTH];
        final int[] keys = new int[LENGTH];
        final int[] bucketOf = new int[LENGTH];
        final long[] bounds = new long[LENGTH + 1];
        final long[] boundsOf = new long[LENGTH];
        final int[] undecided = new int[LENGTH + IL.length()];

        ProbeRow() {
            int[] count = new int[LENGTH + 1];
            long[] limits = new long[LENGTH];
            for (int i = 0; i < LENGTH; i++) {
                tau[i] = Float.intBitsToFloat(i << 16); // tiny values: bucket i + 1 with first bucket 0
                count[i + 1] = 1;
                limits[i] = (long) i << 46;
            }
            bounds(count, LENGTH + 1, limits, bounds);
        }

        static final ThreadLocal<ProbeRow> MINE = ThreadLocal.withInitial(ProbeRow::new);
    }
}
