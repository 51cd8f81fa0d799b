package org.mergelab.merge.methods;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.mergelab.merge.ChunkReducer;
import org.mergelab.merge.TensorJob;

/**
 * Streaming top-k selection over a tensor, in O(n) time and without copying it: which elements are among the
 * {@code k} largest keys of a stream (a stream is e.g. one model's {@code |τ|}). Keys are non-negative {@code int}s
 * that order like the values they stand for (the bits of a non-negative float do).
 *
 * <p>Order: larger key first; among equal keys the <b>lower flat index</b> ranks higher. So "the top k" is always
 * exactly {@code k} elements, the same for any chunking and thread count.
 *
 * <p>Passes over the inputs ({@link TensorJob#reduce}):
 * <ol>
 * <li>{@link #histogram}: per stream, a histogram of the high 16 bits of every key (2<sup>15</sup> buckets, as the sign
 *     bit is 0), the count of zero keys and {@code Σ value}. Walking it from the top finds the bucket {@code h} the
 *     k-th largest key falls in, and how many of the bucket's keys are still needed.</li>
 * <li>{@link Histogram#select}: per stream and distinct bucket, the low 16 bits of the keys inside bucket {@code h}
 *     (each chunk lists them; the combined total is a 2<sup>16</sup>-bucket histogram). That fixes the threshold key
 *     {@code t} exactly, and how many keys equal to {@code t} are in: the {@code need} lowest-index ones. The chunk
 *     lists are kept (up to {@link #RETAINED_MAX} entries in all), so the count of keys equal to {@code t} in every
 *     chunk comes from them.</li>
 * <li>Only when those lists were too long to keep, and some of the keys equal to {@code t} are in and some out: a
 *     pass counting, per chunk, the keys equal to {@code t}.</li>
 * </ol>
 * The output pass then knows how many equal keys precede each chunk. It must see the same chunks as the reductions
 * (it does: one {@link TensorJob} runs both).
 */
final class TopKSelection {
    private TopKSelection() {}

    /** Buckets of the high half of a non-negative 31-bit key. */
    static final int HIGH_BUCKETS = 1 << 15;
    private static final int LOW_BUCKETS = 1 << 16;
    /** Most low-half entries pass 2 keeps per tensor to spare pass 3 (ints: 32 MB). */
    static final long RETAINED_MAX = 8L << 20;

    /** The cap in force: {@link #RETAINED_MAX}, lowered only by tests to exercise pass 3. */
    static volatile long retainedMax = RETAINED_MAX;

    /** Computes the keys of every stream for one chunk. Must be thread-safe. */
    interface Keys {
        int streams();

        /** {@code out[s][j]} = stream {@code s}'s key of element {@code offset + j}, for {@code j < n}; all ≥ 0. */
        void keys(long offset, float[][] in, int n, int[][] out);

        /**
         * {@link #keys} from the inputs' stored bf16 elements ({@link ChunkReducer#accumulateBf16}); false, having
         * done nothing, to get the chunk decoded instead.
         */
        default boolean keysBf16(long offset, MemorySegment[] bf16, int n, int[][] out) {
            return false;
        }

        /**
         * When stream {@code s}'s keys are those of {@link TaskVectorKernels#keysBf16} over two stored bf16 inputs
         * ({@code |x − b|}): {@code {x, b}}; else null.
         */
        default MemorySegment[] differenceBf16(int s, MemorySegment[] bf16) {
            return null;
        }
    }

    /** The float a key stands for ({@link Float#intBitsToFloat}). */
    static double value(int key) {
        return Float.intBitsToFloat(key);
    }

    // ---------------------------------------------------------------- pass 1

    /** Pass 1: histograms of the high key halves; with {@code sums}, also {@code Σ value} per stream. */
    static Histogram histogram(TensorJob job, Keys keys, boolean sums) {
        int streams = keys.streams();
        // counts are sums, the same in any order: each thread counts into its own histograms (no per-chunk
        // histogram to allocate, zero and fold), gathered once the pass is done
        java.util.Queue<ThreadCounts> all = new java.util.concurrent.ConcurrentLinkedQueue<>();
        ThreadLocal<ThreadCounts> mine = ThreadLocal.withInitial(() -> {
            ThreadCounts c = new ThreadCounts(streams);
            all.add(c);
            return c;
        });
        HighState total = job.reduce(new ChunkReducer<HighState>() {
            @Override
            public HighState newState(long offset, int length) {
                return new HighState(streams);
            }

            @Override
            public void accumulate(HighState s, long offset, float[][] in, int n) {
                int[][] k = keyScratch(streams, n);
                keys.keys(offset, in, n, k);
                count(s, k, n);
            }

            @Override
            public boolean accumulateBf16(HighState s, long offset, MemorySegment[] bf16, int n) {
                int[][] k = keyScratch(streams, n);
                if (!keys.keysBf16(offset, bf16, n, k)) {
                    return false;
                }
                count(s, k, n);
                return true;
            }

            private void count(HighState s, int[][] k, int n) {
                ThreadCounts counts = mine.get();
                counts.reserve(n);
                for (int st = 0; st < streams; st++) {
                    int[] h = counts.high[st];
                    int[] ks = k[st];
                    for (int j = 0; j < n; j++) {
                        h[ks[j] >>> 16]++;
                    }
                    s.zeros[st] += TaskVectorKernels.countZeroKeys(ks, n);
                    if (sums) {
                        double sum = 0; // a float64 sum in index order: the same for any thread count
                        for (int j = 0; j < n; j++) {
                            sum += Float.intBitsToFloat(ks[j]);
                        }
                        s.sums[st] += sum;
                    }
                }
            }

            @Override
            public void combine(HighState into, HighState next) {
                for (int st = 0; st < streams; st++) {
                    into.zeros[st] += next.zeros[st];
                    into.sums[st] += next.sums[st];
                }
            }
        });
        long[][] high = new long[streams][HIGH_BUCKETS];
        for (ThreadCounts c : all) {
            c.addTo(high);
        }
        return new Histogram(job, keys, high, total.zeros, total.sums);
    }

    /** Per-chunk state of pass 1: what must be summed in chunk order. */
    private static final class HighState {
        final long[] zeros;
        final double[] sums;

        HighState(int streams) {
            zeros = new long[streams];
            sums = new double[streams];
        }
    }

    /** One thread's pass-1 histograms: int counts, moved into longs before they could overflow. */
    private static final class ThreadCounts {
        final int[][] high;
        private long[][] spilled;
        private long counted;

        ThreadCounts(int streams) {
            high = new int[streams][HIGH_BUCKETS];
        }

        /** Makes room for {@code n} more counts per stream. */
        void reserve(int n) {
            if (counted + n > Integer.MAX_VALUE) {
                if (spilled == null) {
                    spilled = new long[high.length][HIGH_BUCKETS];
                }
                spill(spilled);
            }
            counted += n;
        }

        private void spill(long[][] into) {
            for (int st = 0; st < high.length; st++) {
                for (int b = 0; b < HIGH_BUCKETS; b++) {
                    into[st][b] += high[st][b];
                    high[st][b] = 0;
                }
            }
            counted = 0;
        }

        void addTo(long[][] into) {
            spill(into);
            if (spilled != null) {
                for (int st = 0; st < high.length; st++) {
                    for (int b = 0; b < HIGH_BUCKETS; b++) {
                        into[st][b] += spilled[st][b];
                    }
                }
            }
        }
    }

    /** Pass 1's result: per stream, the high-half histogram, the count of zero keys and {@code Σ value}. */
    static final class Histogram {
        private final TensorJob job;
        private final Keys keys;
        private final long[][] high;
        private final long[] zeros;
        private final double[] sums;

        private Histogram(TensorJob job, Keys keys, long[][] high, long[] zeros, double[] sums) {
            this.job = job;
            this.keys = keys;
            this.high = high;
            this.zeros = zeros;
            this.sums = sums;
        }

        /** Number of zero keys in stream {@code s}. */
        long zeros(int s) {
            return zeros[s];
        }

        /** {@code Σ value(key)} over stream {@code s} (e.g. the L1 norm of a task vector), when asked for. */
        double sum(int s) {
            return sums[s];
        }

        /**
         * Passes 2 (and rarely 3): for every stream {@code s} and every {@code k} in {@code ks[s]}, the {@link Cut}
         * that tells whether an element is among the stream's top {@code k}. {@code k ≤ 0} selects nothing,
         * {@code k ≥ numel} everything. With {@code sums}, each cut also knows {@code Σ value} over its top k.
         */
        Cut[][] select(long[][] ks, boolean sums) {
            int streams = keys.streams();
            long numel = job.numel();
            Cut[][] cuts = new Cut[streams][];
            // distinct buckets per stream, and per cut its bucket and the rank it needs inside the bucket
            int[][] buckets = new int[streams][];
            int[][] bucketOf = new int[streams][];
            long[][] rankInBucket = new long[streams][];
            boolean lowPass = false;
            for (int s = 0; s < streams; s++) {
                int q = ks[s].length;
                cuts[s] = new Cut[q];
                bucketOf[s] = new int[q];
                rankInBucket[s] = new long[q];
                List<Integer> distinct = new ArrayList<>();
                for (int c = 0; c < q; c++) {
                    long k = ks[s][c];
                    if (k <= 0) {
                        cuts[s][c] = Cut.none(k);
                        continue;
                    }
                    if (k >= numel) {
                        cuts[s][c] = Cut.all(k, this.sums[s]);
                        continue;
                    }
                    long above = 0;
                    int b = HIGH_BUCKETS - 1;
                    while (above + high[s][b] < k) {
                        above += high[s][b];
                        b--;
                    }
                    int at = distinct.indexOf(b);
                    if (at < 0) {
                        at = distinct.size();
                        distinct.add(b);
                    }
                    bucketOf[s][c] = at;
                    rankInBucket[s][c] = k - above;
                    lowPass = true;
                }
                buckets[s] = distinct.stream().mapToInt(Integer::intValue).toArray();
            }
            if (!lowPass) {
                return cuts;
            }
            LowState low = lowHistograms(buckets, sums);
            List<int[]> tracked = new ArrayList<>(); // {stream, cut} whose equal keys are split between in and out
            for (int s = 0; s < streams; s++) {
                for (int c = 0; c < cuts[s].length; c++) {
                    if (cuts[s][c] != null) {
                        continue;
                    }
                    int bi = bucketOf[s][c];
                    int bucket = buckets[s][bi];
                    long[] lh = low.hist[s][bi];
                    long need = rankInBucket[s][c];
                    long above = 0;
                    double sumAbove = low.sumAbove[s][bi];
                    int l = LOW_BUCKETS - 1;
                    while (above + lh[l] < need) {
                        above += lh[l];
                        sumAbove += lh[l] * value(bucket << 16 | l);
                        l--;
                    }
                    int threshold = bucket << 16 | l;
                    long in = need - above;
                    Cut cut = new Cut(ks[s][c], threshold, in, lh[l], sums ? sumAbove + in * value(threshold)
                            : Double.NaN);
                    cuts[s][c] = cut;
                    if (cut.need < cut.equal) {
                        tracked.add(new int[] {s, c});
                    }
                }
            }
            if (tracked.isEmpty()) {
                return cuts;
            }
            if (low.retained != null) {
                // per-chunk counts of the threshold's low half, from the kept chunk lists
                int chunks = low.retained.size();
                long[] offsets = new long[chunks];
                for (int ch = 0; ch < chunks; ch++) {
                    offsets[ch] = low.retained.get(ch).offset;
                }
                for (int[] sc : tracked) {
                    int s = sc[0];
                    int bi = bucketOf[s][sc[1]];
                    Cut cut = cuts[s][sc[1]];
                    int lowHalf = cut.threshold & 0xffff;
                    long[] before = new long[chunks];
                    long running = 0;
                    for (int ch = 0; ch < chunks; ch++) {
                        before[ch] = running;
                        IntList list = low.retained.get(ch).lows[s][bi];
                        for (int i = 0; i < list.size; i++) {
                            running += list.values[i] == lowHalf ? 1 : 0;
                        }
                    }
                    cut.chunks(offsets, before);
                }
            } else {
                countEqualPerChunk(cuts, tracked);
            }
            return cuts;
        }

        // ------------------------------------------------------------ pass 2

        private LowState lowHistograms(int[][] buckets, boolean sums) {
            int streams = buckets.length;
            LowState total = job.reduce(new ChunkReducer<LowState>() {
                @Override
                public LowState newState(long offset, int length) {
                    return new LowState(offset, buckets);
                }

                @Override
                public void accumulate(LowState s, long offset, float[][] in, int n) {
                    int[][] k = keyScratch(streams, n);
                    keys.keys(offset, in, n, k);
                    for (int st = 0; st < streams; st++) {
                        int[] bs = buckets[st];
                        int[] ks = k[st];
                        for (int bi = 0; bi < bs.length; bi++) {
                            int bucket = bs[bi];
                            int[] found = lowScratch(n);
                            int count = TaskVectorKernels.lowHalves(ks, n, bucket, found);
                            s.lows[st][bi].addAll(found, count);
                            if (sums) {
                                double above = 0;
                                for (int j = 0; j < n; j++) {
                                    int key = ks[j];
                                    // bucket − high half is negative exactly when the key lies above the bucket
                                    above += Float.intBitsToFloat(key & ((bucket - (key >>> 16)) >> 31));
                                }
                                s.sumAbove[st][bi] += above;
                            }
                        }
                    }
                }

                @Override
                public void combine(LowState into, LowState next) {
                    into.fold(next);
                }
            });
            total.fold(total);
            return total;
        }

        // ------------------------------------------------------------ pass 3

        private void countEqualPerChunk(Cut[][] cuts, List<int[]> tracked) {
            int t = tracked.size();
            int[] trackedStreams = tracked.stream().mapToInt(sc -> sc[0]).toArray();
            int[] thresholds = tracked.stream().mapToInt(sc -> cuts[sc[0]][sc[1]].threshold).toArray();
            int streams = keys.streams();
            EqualState total = job.reduce(new ChunkReducer<EqualState>() {
                @Override
                public EqualState newState(long offset, int length) {
                    return new EqualState(offset, t);
                }

                @Override
                public void accumulate(EqualState s, long offset, float[][] in, int n) {
                    int[][] k = keyScratch(streams, n);
                    keys.keys(offset, in, n, k);
                    for (int i = 0; i < t; i++) {
                        int[] ks = k[trackedStreams[i]];
                        int thr = thresholds[i];
                        long c = 0;
                        for (int j = 0; j < n; j++) {
                            c += ks[j] == thr ? 1 : 0;
                        }
                        s.counts[i] = c;
                    }
                }

                @Override
                public void combine(EqualState into, EqualState next) {
                    into.offsets.add(next.offset);
                    into.before.add(into.counts.clone());
                    for (int i = 0; i < t; i++) {
                        into.counts[i] += next.counts[i];
                    }
                }
            });
            long[] offsets = total.offsets.stream().mapToLong(Long::longValue).toArray();
            for (int i = 0; i < t; i++) {
                long[] before = new long[offsets.length];
                for (int c = 0; c < offsets.length; c++) {
                    before[c] = total.before.get(c)[i];
                }
                int[] sc = tracked.get(i);
                cuts[sc[0]][sc[1]].chunks(offsets, before);
            }
        }
    }

    /**
     * Pass 2 state. A chunk's state lists its low halves; the total folds them into histograms and keeps the chunk
     * states themselves, in chunk order, while they hold at most {@link #RETAINED_MAX} entries.
     */
    private static final class LowState {
        final long offset;
        final IntList[][] lows;
        final double[][] sumAbove;
        long[][][] hist;
        List<LowState> retained = new ArrayList<>();
        long retainedSize;

        LowState(long offset, int[][] buckets) {
            this.offset = offset;
            lows = new IntList[buckets.length][];
            sumAbove = new double[buckets.length][];
            for (int s = 0; s < buckets.length; s++) {
                lows[s] = new IntList[buckets[s].length];
                sumAbove[s] = new double[buckets[s].length];
                for (int b = 0; b < buckets[s].length; b++) {
                    lows[s][b] = new IntList();
                }
            }
        }

        void fold(LowState next) {
            if (hist == null) {
                hist = new long[lows.length][][];
                for (int s = 0; s < lows.length; s++) {
                    hist[s] = new long[lows[s].length][LOW_BUCKETS];
                }
            }
            if (next == this) {
                return; // the total itself never accumulates
            }
            long size = 0;
            for (int s = 0; s < lows.length; s++) {
                for (int b = 0; b < lows[s].length; b++) {
                    long[] h = hist[s][b];
                    IntList l = next.lows[s][b];
                    for (int i = 0; i < l.size; i++) {
                        h[l.values[i]]++;
                    }
                    size += l.size;
                    sumAbove[s][b] += next.sumAbove[s][b];
                }
            }
            if (retained != null) {
                retainedSize += size;
                if (retainedSize > retainedMax) {
                    retained = null; // too many to keep: the equal counts take a third pass
                } else {
                    retained.add(next);
                }
            }
        }
    }

    private static final class EqualState {
        final long offset;
        final long[] counts;
        final List<Long> offsets = new ArrayList<>();
        final List<long[]> before = new ArrayList<>();

        EqualState(long offset, int tracked) {
            this.offset = offset;
            this.counts = new long[tracked];
        }
    }

    /**
     * Where the top {@code k} of one stream ends: every key above {@code threshold}, and the {@code need}
     * lowest-index keys equal to it (of {@code equal} such keys).
     */
    static final class Cut {
        final long k;
        final int threshold;
        final long need;
        final long equal;
        /** {@code Σ value(key)} over the top k (NaN unless asked for). */
        final double sum;
        private final boolean all;
        private final boolean none;
        private long[] chunkOffsets;
        private long[] equalBefore;

        private Cut(long k, int threshold, long need, long equal, double sum, boolean all, boolean none) {
            this.k = k;
            this.threshold = threshold;
            this.need = need;
            this.equal = equal;
            this.sum = sum;
            this.all = all;
            this.none = none;
        }

        Cut(long k, int threshold, long need, long equal, double sum) {
            this(k, threshold, need, equal, sum, false, false);
        }

        /** Selects nothing: no key is above {@code Integer.MAX_VALUE}, and no equal key is needed. */
        static Cut none(long k) {
            return new Cut(k, Integer.MAX_VALUE, 0, 0, 0, false, true);
        }

        /** Selects everything: every key is above −1. */
        static Cut all(long k, double sum) {
            return new Cut(k, -1, 0, 0, sum, true, false);
        }

        /** Selects every element. */
        boolean all() {
            return all;
        }

        /** Selects no element. */
        boolean none() {
            return none;
        }

        void chunks(long[] offsets, long[] before) {
            this.chunkOffsets = offsets;
            this.equalBefore = before;
        }

        /**
         * How many keys equal to the threshold precede the chunk at {@code offset} (0 when that never matters: all or
         * none of them are in).
         */
        long equalBefore(long offset) {
            if (chunkOffsets == null) {
                return 0;
            }
            int at = Arrays.binarySearch(chunkOffsets, offset);
            if (at < 0) {
                throw new IllegalStateException("chunk at " + offset + " was not seen by the reduction passes");
            }
            return equalBefore[at];
        }

        /** {@link #above}'s answer for a chunk that must be walked with a {@link #cursor}. */
        static final int WALK = Integer.MIN_VALUE;

        /**
         * For the chunk at {@code offset}: the key {@code a} such that exactly the chunk's keys {@code > a} are
         * selected, or {@link #WALK} when some but not all of the chunk's keys equal to the threshold are selected
         * (at most one chunk per cut: the {@link #cursor} decides there).
         */
        int above(long offset) {
            if (none) {
                return Integer.MAX_VALUE;
            }
            if (all) {
                return -1;
            }
            if (chunkOffsets == null) {
                if (need < equal) {
                    throw new IllegalStateException("a cut splitting its equal keys has no per-chunk counts");
                }
                return threshold - 1; // every key equal to the threshold is in
            }
            int at = Arrays.binarySearch(chunkOffsets, offset);
            if (at < 0) {
                throw new IllegalStateException("chunk at " + offset + " was not seen by the reduction passes");
            }
            long before = equalBefore[at];
            long through = at + 1 < equalBefore.length ? equalBefore[at + 1] : equal;
            if (before >= need) {
                return threshold;
            }
            return through <= need ? threshold - 1 : WALK;
        }

        /**
         * Marks the chunk's selected elements: {@code in[j] = true} iff element {@code offset + j} (key
         * {@code keys[j]}) is among the top k.
         */
        void mark(long offset, int[] keys, int n, boolean[] in) {
            Cursor c = cursor(offset);
            for (int j = 0; j < n; j++) {
                in[j] = c.in(keys[j]) != 0;
            }
        }

        /**
         * For a {@link #WALK} chunk at {@code offset}, whose keys ({@code |x − b|}'s bits over {@code [from, to)}, the
         * whole chunk) equal to the threshold are selected up to some index and not from it on: that index, after the
         * last one selected. Below it the chunk's selection is {@code key > threshold − 1}, from it on
         * {@code key > threshold}: two runs of plain key comparisons instead of a {@link #cursor} over every key.
         */
        int walkEnd(long offset, float[] x, float[] b, int from, int to) {
            long left = need - equalBefore(offset); // at least 1 in a WALK chunk, fewer than its equal keys
            for (int j = from; j < to; j++) {
                if ((Float.floatToRawIntBits(x[j] - b[j]) & 0x7fffffff) == threshold && --left == 0) {
                    return j + 1;
                }
            }
            return to;
        }

        /** A walker over one chunk's keys in index order. */
        Cursor cursor(long offset) {
            return new Cursor(threshold, need, equalBefore(offset));
        }
    }

    /**
     * Tests one chunk's keys in index order against a {@link Cut}; branch-free except at keys equal to the
     * threshold.
     */
    static final class Cursor {
        private final int threshold;
        private final long need;
        private long equalSeen;

        Cursor(int threshold, long need, long equalBefore) {
            this.threshold = threshold;
            this.need = need;
            this.equalSeen = equalBefore;
        }

        /** 1 when the next key ({@code key}, the key of the next index) is selected, else 0. */
        int in(int key) {
            int above = (threshold - key) >>> 31; // key > threshold (both in [−1, 2^31))
            if (key == threshold) {
                return equalSeen++ < need ? 1 : 0;
            }
            return above;
        }
    }

    /** A growable list of ints (one chunk's low key halves inside the crossing bucket). */
    private static final class IntList {
        int[] values = new int[0];
        int size;

        void addAll(int[] v, int count) {
            if (size + count > values.length) {
                values = Arrays.copyOf(values, Math.max(size + count, values.length * 2));
            }
            System.arraycopy(v, 0, values, size, count);
            size += count;
        }
    }

    // ---------------------------------------------------------------- scratch

    private static final ThreadLocal<int[][]> KEYS = new ThreadLocal<>();

    /** {@code streams} int arrays of at least {@code n} elements, owned by the calling thread. */
    static int[][] keyScratch(int streams, int n) {
        int[][] k = KEYS.get();
        if (k == null || k.length < streams || (streams > 0 && k[0].length < n)) {
            k = new int[Math.max(streams, k == null ? 0 : k.length)][Math.max(n, 1)];
            KEYS.set(k);
        }
        return k;
    }

    private static final ThreadLocal<int[]> LOWS = new ThreadLocal<>();

    /** A per-thread int array of at least {@code n} elements (for {@link WindowSelection}). */
    static int[] lowScratchOf(int n) {
        return lowScratch(n);
    }

    private static int[] lowScratch(int n) {
        int[] l = LOWS.get();
        if (l == null || l.length < n) {
            l = new int[Math.max(n, 1)];
            LOWS.set(l);
        }
        return l;
    }

    /** Per-thread flag arrays for {@link Cut#mark}. */
    private static final ThreadLocal<boolean[]> FLAGS = new ThreadLocal<>();

    /** A flag array of at least {@code n} elements, owned by the calling thread. */
    static boolean[] flagScratch(int n) {
        boolean[] f = FLAGS.get();
        if (f == null || f.length < n) {
            f = new boolean[Math.max(n, 1)];
            FLAGS.set(f);
        }
        return f;
    }
}
