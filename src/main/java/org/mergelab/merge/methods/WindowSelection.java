package org.mergelab.merge.methods;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.mergelab.io.FloatCodec;
import org.mergelab.merge.ChunkReducer;
import org.mergelab.merge.TensorJob;

/**
 * {@link TopKSelection}'s cuts in one pass over the inputs instead of two, when the first chunk to finish predicts
 * where each cut falls: that chunk keeps its keys and, from their distribution, sets a window of keys around each
 * cut (a few percent of the elements); every later chunk only counts its keys above each window and lists the keys
 * inside it. After the pass, a cut whose k-th largest key lies inside its window is found exactly from those lists
 * (same threshold, same count of equal keys taken, same per-chunk tie counts as the two passes); when any cut falls
 * outside its window (the first chunk was not like the rest), {@link #select} returns null and the caller runs the
 * two passes.
 *
 * <p>No scatter histogram is filled, so the pass costs a key computation and a few comparisons per element.
 * Results never depend on which chunk finished first or on the threads: only whether the shortcut applies does.
 */
final class WindowSelection {
    private WindowSelection() {}

    /** Each window reaches this fraction of the elements beyond its cut's predicted place, on either side. */
    static final double MARGIN = 0.02;

    /** Windows hold at most this many keys in all (ints: 128 MB) before the pass gives up on them. */
    static final long RETAINED_MAX = 32L << 20;

    /** The cap in force: {@link #RETAINED_MAX}, lowered only by tests. */
    static volatile long retainedMax = RETAINED_MAX;

    /** Tests: when false, every selection takes the two passes. */
    static volatile boolean enabled = true;

    /**
     * The cuts for every stream {@code s} and every {@code k} in {@code ks[s]} (as {@link TopKSelection.Histogram#select}
     * gives them), or null when the one pass could not decide them.
     */
    static TopKSelection.Cut[][] select(TensorJob job, TopKSelection.Keys keys, long[][] ks) {
        if (!enabled) {
            return null;
        }
        int streams = keys.streams();
        long numel = job.numel();
        AtomicReference<int[][]> windows = new AtomicReference<>();
        AtomicLong retained = new AtomicLong();
        Chunks total = job.reduce(new ChunkReducer<Chunks>() {
            @Override
            public Chunks newState(long offset, int length) {
                return new Chunks(offset, length);
            }

            @Override
            public void accumulate(Chunks s, long offset, float[][] in, int n) {
                int[][] k = TopKSelection.keyScratch(streams, n);
                keys.keys(offset, in, n, k);
                select(s, k, n);
            }

            @Override
            public boolean accumulateBf16(Chunks s, long offset, MemorySegment[] bf16, int n) {
                int[][] w = windows.get();
                MemorySegment[][] xb = w == null ? null : differences(bf16);
                if (xb != null && TaskVectorKernels.Lanes.WINDOW_BF16.runsOrProbes(n, () -> windowBf16(xb[0][0],
                        xb[0][1], offset, TaskVectorKernels.PROBE, 0, Integer.MAX_VALUE,
                        new int[TaskVectorKernels.PROBE + TaskVectorKernels.I.length()]))) {
                    // the keys made, counted and listed in one loop, never stored; two windows of a stream (the
                    // two cuts of breadcrumbs) from one making of its keys, once those lanes are compiled too
                    WindowPairScan pair = pairs(w) && TaskVectorKernels.Lanes.TWO_WINDOWS_BF16.runsOrProbes(n,
                            () -> twoWindowsBf16(xb[0][0], xb[0][1], offset, TaskVectorKernels.PROBE, 0,
                                    Integer.MAX_VALUE, new int[TaskVectorKernels.PROBE + TaskVectorKernels.I.length()],
                                    0, Integer.MAX_VALUE,
                                    new int[TaskVectorKernels.PROBE + TaskVectorKernels.I.length()], new long[2]))
                            ? (st, lo0, hi0, found0, lo1, hi1, found1, counts) -> twoWindowsBf16(xb[st][0],
                                    xb[st][1], offset, n, lo0, hi0, found0, lo1, hi1, found1, counts)
                            : null;
                    list(s, w, (st, lo, hi, found) -> windowBf16(xb[st][0], xb[st][1], offset, n, lo, hi, found),
                            pair, n);
                    return true;
                }
                int[][] k = TopKSelection.keyScratch(streams, n);
                if (!keys.keysBf16(offset, bf16, n, k)) {
                    return false;
                }
                select(s, k, n);
                return true;
            }

            /**
             * Whether some stream has two windows or more to scan (breadcrumbs; TIES has one per stream, its other cut
             * at rank 0 selecting nothing).
             */
            private boolean pairs(int[][] w) {
                for (int[] ws : w) {
                    int toScan = 0;
                    for (int wi = 0; wi < ws.length / 2; wi++) {
                        toScan += scanned(ws, wi) ? 1 : 0;
                    }
                    if (toScan >= 2) {
                        return true;
                    }
                }
                return false;
            }

            /** Every stream's keys as the difference of two stored bf16 inputs, or null. */
            private MemorySegment[][] differences(MemorySegment[] bf16) {
                MemorySegment[][] xb = new MemorySegment[streams][];
                for (int st = 0; st < streams; st++) {
                    xb[st] = keys.differenceBf16(st, bf16);
                    if (xb[st] == null) {
                        return null;
                    }
                }
                return xb;
            }

            /** Keeps the chunk's keys in and near the windows (the first chunk's keys whole, to set them). */
            private void select(Chunks s, int[][] k, int n) {
                int[][] w = windows.get();
                if (w == null) {
                    // no window yet: keep this chunk's keys, and set the windows from them
                    s.keys = new int[streams][];
                    for (int st = 0; st < streams; st++) {
                        s.keys[st] = java.util.Arrays.copyOf(k[st], n);
                    }
                    retained.addAndGet((long) streams * n);
                    windows.compareAndSet(null, windowsFrom(s.keys, n, ks, numel));
                    return;
                }
                list(s, w, (st, lo, hi, found) -> (countAbove(k[st], n, hi) << 32) | inside(k[st], n, lo, hi, found),
                        null, n);
            }

            /**
             * Counts each window's keys above it and lists those inside it, as {@code scan} finds them in the chunk
             * ({@code n} elements), or {@code pair} (when not null) two windows of a stream at a time.
             */
            private void list(Chunks s, int[][] w, WindowScan scan, WindowPairScan pair, int n) {
                s.windows = w;
                s.above = new long[streams][];
                s.inside = new int[streams][][];
                s.high = new int[streams][][];
                long kept = 0;
                long[] counts = new long[2];
                for (int st = 0; st < streams; st++) {
                    int[] ws = w[st];
                    int count = ws.length / 2;
                    s.above[st] = new long[count];
                    s.inside[st] = new int[count][];
                    s.high[st] = new int[count][];
                    int waiting = -1; // a window to scan, kept for a pair scan with the next one
                    for (int wi = 0; wi < count; wi++) {
                        if (!scanned(ws, wi)) {
                            s.inside[st][wi] = new int[0]; // the window of a cut that selects all or nothing
                            s.high[st][wi] = new int[0];
                            continue;
                        }
                        int lo = ws[2 * wi];
                        int hi = ws[2 * wi + 1];
                        if (pair == null) {
                            kept += scanOne(s, scan, st, ws, wi, n);
                        } else if (waiting < 0) {
                            waiting = wi;
                        } else {
                            int lo0 = ws[2 * waiting];
                            int[] found0 = TopKSelection.lowScratchOf(n + TaskVectorKernels.I.length());
                            int[] found1 = secondScratch(n + TaskVectorKernels.I.length());
                            pair.scan(st, lo0, ws[2 * waiting + 1], found0, lo, hi, found1, counts);
                            kept += listed(s, st, waiting, lo0, counts[0], found0);
                            kept += listed(s, st, wi, lo, counts[1], found1);
                            waiting = -1;
                        }
                    }
                    if (waiting >= 0) {
                        kept += scanOne(s, scan, st, ws, waiting, n);
                    }
                }
                if (retained.addAndGet(kept) > retainedMax) {
                    s.overflow = true;
                    s.inside = null;
                }
            }

            /** Scans window {@code wi} of stream {@code st} alone and records it; returns how many keys it listed. */
            private int scanOne(Chunks s, WindowScan scan, int st, int[] ws, int wi, int n) {
                int lo = ws[2 * wi];
                int[] found = TopKSelection.lowScratchOf(n + TaskVectorKernels.I.length());
                return listed(s, st, wi, lo, scan.scan(st, lo, ws[2 * wi + 1], found), found);
            }

            /**
             * Records one window's scan ({@code above << 32 | listed}, the keys listed in {@code found}); returns how
             * many it listed.
             */
            private int listed(Chunks s, int st, int wi, int lo, long counts, int[] found) {
                int c = (int) counts;
                s.above[st][wi] = counts >>> 32;
                s.inside[st][wi] = java.util.Arrays.copyOf(found, c);
                s.high[st][wi] = highCounts(s.inside[st][wi], lo);
                return c;
            }

            @Override
            public void combine(Chunks into, Chunks next) {
                into.all.add(next);
            }
        });
        int[][] w = windows.get();
        if (w == null) {
            return null; // no chunk at all
        }
        for (Chunks c : total.all) {
            if (c.overflow) {
                if (TaskVectorKernels.LOG) {
                    System.err.println("mergelab: " + job.tensorName() + ": windows too full; two passes");
                }
                return null;
            }
        }
        if (TaskVectorKernels.LOG) {
            System.err.printf("mergelab: %s: windows hold %.2f%% of the keys%n", job.tensorName(),
                    100.0 * retained.get() / ((double) numel * streams));
        }
        TopKSelection.Cut[][] cuts = cuts(total.all, w, ks, numel, streams);
        if (cuts == null && TaskVectorKernels.LOG) {
            System.err.println("mergelab: " + job.tensorName() + ": a cut fell outside its window; two passes");
        }
        return cuts;
    }

    /** One chunk's state; the total lists the chunks in order. */
    private static final class Chunks {
        final long offset;
        final int length;
        /** All keys per stream (a chunk that ran before the windows were set), or null. */
        int[][] keys;
        int[][] windows;
        /** Per stream and window: keys above it, and the keys inside it in index order. */
        long[][] above;
        int[][][] inside;
        /** Per stream and window: how many of the keys inside are in each of its high-half buckets. */
        int[][][] high;
        boolean overflow;
        final List<Chunks> all = new ArrayList<>();

        Chunks(long offset, int length) {
            this.offset = offset;
            this.length = length;
        }

        long above(int st, int wi, int hi) {
            return keys != null ? countAbove(keys[st], keys[st].length, hi) : above[st][wi];
        }

        /**
         * Per high-half bucket of window {@code wi} of stream {@code st}, how many of its keys are in it;
         * {@code inside} is that window's key list ({@link #inside}), counted when the chunk kept all its keys.
         */
        int[] high(int st, int wi, int lo, int[] inside) {
            return keys == null ? high[st][wi] : highCounts(inside, lo);
        }

        /** The keys in window {@code wi} of stream {@code st}, in index order. */
        int[] inside(int st, int wi, int lo, int hi) {
            if (keys == null) {
                return inside[st][wi];
            }
            int[] found = TopKSelection.lowScratchOf(keys[st].length + TaskVectorKernels.I.length());
            return java.util.Arrays.copyOf(found, WindowSelection.inside(keys[st], keys[st].length, lo, hi, found));
        }
    }

    /**
     * Per stream, the windows {@code {lo0, hi0, lo1, hi1, …}} (inclusive key ranges), one per non-trivial cut, from one
     * chunk's keys: the high-half buckets where the chunk's own ranking reaches the cut's fraction of the elements,
     * {@link #MARGIN} below and above.
     */
    static int[][] windowsFrom(int[][] keys, int n, long[][] ks, long numel) {
        int streams = keys.length;
        int[][] w = new int[streams][];
        for (int st = 0; st < streams; st++) {
            int[] hist = new int[TopKSelection.HIGH_BUCKETS];
            for (int j = 0; j < n; j++) {
                hist[keys[st][j] >>> 16]++;
            }
            List<Integer> bounds = new ArrayList<>();
            for (long k : ks[st]) {
                if (k <= 0 || k >= numel) {
                    bounds.add(0); // a window that is never used (the cut is none or all)
                    bounds.add(-1);
                    continue;
                }
                double p = (double) k / numel;
                // ranks from the top; a window reaching past either end of the chunk's keys runs to that end of all
                // keys (the largest ones elsewhere are not in this chunk)
                int high = p - MARGIN <= 0 ? TopKSelection.HIGH_BUCKETS - 1
                        : Math.min(TopKSelection.HIGH_BUCKETS - 1, bucketAtRank(hist, (long) ((p - MARGIN) * n)) + 1);
                int low = p + MARGIN >= 1 ? 0 : Math.max(0, bucketAtRank(hist, (long) ((p + MARGIN) * n)) - 1);
                bounds.add(low << 16);
                bounds.add(high << 16 | 0xffff);
            }
            w[st] = bounds.stream().mapToInt(Integer::intValue).toArray();
        }
        return w;
    }

    /**
     * How many of {@code keys} (all in a window from {@code lo}) are in each high-half bucket from {@code lo}'s on, up
     * to the highest bucket any of them is in (the buckets above hold none). Not up to the window's top: the window of
     * a cut near the top reaches the top of all keys, 65536 buckets, and such arrays for every chunk were 1.5 GB of a
     * 4 GB breadcrumbs merge's 6.2 GB of allocations (JFR).
     */
    static int[] highCounts(int[] keys, int lo) {
        int first = lo >>> 16;
        int top = first - 1;
        for (int key : keys) {
            top = Math.max(top, key >>> 16);
        }
        int[] h = new int[top - first + 1];
        for (int key : keys) {
            h[(key >>> 16) - first]++;
        }
        return h;
    }

    /** The bucket holding the key of rank {@code rank} (0: the largest) in a histogram. */
    private static int bucketAtRank(int[] hist, long rank) {
        long above = 0;
        for (int b = hist.length - 1; b > 0; b--) {
            above += hist[b];
            if (above > rank) {
                return b;
            }
        }
        return 0;
    }

    /** The cuts from the chunks' window lists, or null when a cut is outside its window. */
    private static TopKSelection.Cut[][] cuts(List<Chunks> chunks, int[][] w, long[][] ks, long numel, int streams) {
        TopKSelection.Cut[][] cuts = new TopKSelection.Cut[streams][];
        long[] offsets = chunks.stream().mapToLong(c -> c.offset).toArray();
        for (int st = 0; st < streams; st++) {
            cuts[st] = new TopKSelection.Cut[ks[st].length];
            for (int c = 0; c < ks[st].length; c++) {
                long k = ks[st][c];
                if (k <= 0) {
                    cuts[st][c] = TopKSelection.Cut.none(k);
                    continue;
                }
                if (k >= numel) {
                    cuts[st][c] = TopKSelection.Cut.all(k, 0);
                    continue;
                }
                int lo = w[st][2 * c];
                int hi = w[st][2 * c + 1];
                long above = 0;
                int[][] inside = new int[chunks.size()][];
                long[] high = new long[(hi >>> 16) - (lo >>> 16) + 1];
                long count = 0;
                for (int i = 0; i < chunks.size(); i++) {
                    Chunks ch = chunks.get(i);
                    above += ch.above(st, c, hi);
                    inside[i] = ch.inside(st, c, lo, hi);
                    count += inside[i].length;
                    int[] h = ch.high(st, c, lo, inside[i]);
                    for (int b = 0; b < h.length; b++) {
                        high[b] += h[b];
                    }
                }
                if (!(above < k && k <= above + count)) {
                    return null; // the k-th largest key is not in the window
                }
                cuts[st][c] = cutInside(k, k - above, inside, high, lo, offsets);
            }
        }
        return cuts;
    }

    /** Per thread: {@link #cutInside}'s counts of the low halves, all zero between its calls. */
    private static final ThreadLocal<long[]> LOW_COUNTS = ThreadLocal.withInitial(() -> new long[1 << 16]);

    /**
     * The cut of the top {@code k}, at rank {@code rank} (1: the largest) among the window keys {@code inside} (per
     * chunk, in order; {@code high} counts them per high-half bucket from {@code lo}'s on): the threshold key, how
     * many keys equal to it are in, and per chunk how many equal keys come before it (when some but not all of them
     * are in).
     */
    private static TopKSelection.Cut cutInside(long k, long rank, int[][] inside, long[] high, int lo,
            long[] offsets) {
        // the high half (counted by the chunks), then the low half, as the two-pass histograms would
        int bucketLo = lo >>> 16;
        long above = 0;
        int b = high.length - 1;
        while (above + high[b] < rank) {
            above += high[b];
            b--;
        }
        int bucket = bucketLo + b;
        // each chunk's keys in that bucket, picked by the lanes (the windows hold 10-20 % of a tensor's keys, and two
        // scalar scans of them per cut on this one thread took 14 % of a 4 GB breadcrumbs merge's samples)
        int[][] inBucket = new int[inside.length][];
        int longest = 0;
        for (int[] keys : inside) {
            longest = Math.max(longest, keys.length);
        }
        // this thread's scratch, not a new array per cut: per-cut arrays were ~1 GB of a 4 GB breadcrumbs merge's
        // allocations (JFR), which grew the heap, and so the RSS
        int[] found = TopKSelection.lowScratchOf(longest + TaskVectorKernels.I.length());
        for (int i = 0; i < inside.length; i++) {
            int c = WindowSelection.inside(inside[i], inside[i].length, bucket << 16, bucket << 16 | 0xffff, found);
            inBucket[i] = java.util.Arrays.copyOf(found, c);
        }
        // counted from, scanned from and cleared back to zero over the low halves present only: keys from bf16 task
        // vectors mostly have a low half of 0, and clearing and scanning all 65536 counts per cut took ~4 % of a 4 GB
        // breadcrumbs merge's samples
        long[] low = LOW_COUNTS.get();
        int top = 0;
        int bottom = 0xffff;
        for (int[] list : inBucket) {
            for (int key : list) {
                int half = key & 0xffff;
                low[half]++;
                top = Math.max(top, half);
                bottom = Math.min(bottom, half);
            }
        }
        int l = top;
        while (above + low[l] < rank) {
            above += low[l];
            l--;
        }
        int threshold = bucket << 16 | l;
        long need = rank - above;
        long equal = low[l];
        java.util.Arrays.fill(low, bottom, top + 1, 0); // the bucket holds the rank's key: never empty
        TopKSelection.Cut cut = new TopKSelection.Cut(k, threshold, need, equal, Double.NaN);
        if (need < equal) {
            long[] before = new long[inside.length];
            long running = 0;
            for (int i = 0; i < inside.length; i++) {
                before[i] = running;
                for (int key : inBucket[i]) {
                    running += key == threshold ? 1 : 0;
                }
            }
            cut.chunks(offsets, before);
        }
        return cut;
    }

    // ---------------------------------------------------------------- kernels

    /** How many of {@code keys[0..n)} are above {@code hi}. */
    static long countAbove(int[] keys, int n, int hi) {
        TaskVectorKernels.Lanes l = TaskVectorKernels.Lanes.COUNT_ABOVE;
        long count = 0;
        int j = 0;
        while (TaskVectorKernels.VECTOR && j < n) {
            if (l.warm()) {
                int end = j + TaskVectorKernels.I.loopBound(n - j);
                count += countAboveLanes(keys, j, end, hi);
                j = end;
                break;
            }
            if (!l.probe(n - j)) {
                break;
            }
            long t0 = System.nanoTime();
            count += countAboveLanes(keys, j, j + TaskVectorKernels.PROBE, hi);
            l.probed(System.nanoTime() - t0, TaskVectorKernels.PROBE);
            int end = Math.min(n, j + TaskVectorKernels.BLOCK);
            count += countAboveScalar(keys, j + TaskVectorKernels.PROBE, end, hi);
            j = end;
        }
        return count + countAboveScalar(keys, j, n, hi);
    }

    static long countAboveScalar(int[] keys, int from, int to, int hi) {
        long count = 0;
        for (int j = from; j < to; j++) {
            count += (hi - keys[j]) >>> 31; // keys and hi are in [0, 2^31): no overflow
        }
        return count;
    }

    static long countAboveLanes(int[] keys, int from, int to, int hi) {
        IntVector acc = IntVector.zero(TaskVectorKernels.I);
        for (int j = from; j < to; j += TaskVectorKernels.I.length()) {
            acc = acc.add(1, IntVector.fromArray(TaskVectorKernels.I, keys, j).compare(VectorOperators.GT, hi));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Appends to {@code found} the keys in {@code [lo, hi]} ({@code lo ≤ hi}), in index order; returns how many.
     * {@code found} needs {@link TaskVectorKernels#I} lanes of room beyond {@code n}.
     */
    static int inside(int[] keys, int n, int lo, int hi, int[] found) {
        TaskVectorKernels.Lanes l = TaskVectorKernels.Lanes.INSIDE;
        int count = 0;
        int j = 0;
        while (TaskVectorKernels.VECTOR && j < n) {
            if (l.warm()) {
                int end = j + TaskVectorKernels.I.loopBound(n - j);
                count = insideLanes(keys, j, end, lo, hi, found, count);
                j = end;
                break;
            }
            if (!l.probe(n - j)) {
                break;
            }
            long t0 = System.nanoTime();
            count = insideLanes(keys, j, j + TaskVectorKernels.PROBE, lo, hi, found, count);
            l.probed(System.nanoTime() - t0, TaskVectorKernels.PROBE);
            int end = Math.min(n, j + TaskVectorKernels.BLOCK);
            count = insideScalar(keys, j + TaskVectorKernels.PROBE, end, lo, hi, found, count);
            j = end;
        }
        return insideScalar(keys, j, n, lo, hi, found, count);
    }

    static int insideScalar(int[] keys, int from, int to, int lo, int hi, int[] found, int count) {
        long width = (long) hi - lo;
        for (int j = from; j < to; j++) {
            int key = keys[j];
            // compaction without a branch (a window holds a few percent of the keys, in no pattern)
            found[count] = key;
            count += 1 - (int) ((width - ((key - lo) & 0xffffffffL)) >>> 63);
        }
        return count;
    }

    static int insideLanes(int[] keys, int from, int to, int lo, int hi, int[] found, int count) {
        for (int j = from; j < to; j += TaskVectorKernels.I.length()) {
            IntVector v = IntVector.fromArray(TaskVectorKernels.I, keys, j);
            VectorMask<Integer> in = v.compare(VectorOperators.GE, lo).and(v.compare(VectorOperators.LE, hi));
            v.compress(in).intoArray(found, count); // the selected keys first, in order
            count += in.trueCount();
        }
        return count;
    }

    /** One window's scan of a chunk's keys of stream {@code stream}: {@code above << 32 | listed}. */
    @FunctionalInterface
    private interface WindowScan {
        long scan(int stream, int lo, int hi, int[] found);
    }

    /** Whether window {@code wi} of a stream's windows {@code ws} is scanned ({@code lo ≤ hi}; else it is empty). */
    private static boolean scanned(int[] ws, int wi) {
        return ws[2 * wi] <= ws[2 * wi + 1];
    }

    /** Two windows' scan of a chunk's keys of stream {@code stream}: into {@code counts}, as {@link WindowScan}. */
    @FunctionalInterface
    private interface WindowPairScan {
        void scan(int stream, int lo0, int hi0, int[] found0, int lo1, int hi1, int[] found1, long[] counts);
    }

    private static final ThreadLocal<int[]> SECOND_FOUND = new ThreadLocal<>();

    /** This thread's list for the second window of a pair scan (the first uses {@link TopKSelection#lowScratchOf}). */
    private static int[] secondScratch(int n) {
        int[] found = SECOND_FOUND.get();
        if (found == null || found.length < n) {
            found = new int[n];
            SECOND_FOUND.set(found);
        }
        return found;
    }

    /**
     * {@link #countAbove} and {@link #inside} ({@code lo ≤ hi}) over the keys {@code |x − b|} of stored bf16 elements
     * {@code [offset, offset + n)}, made in the same loop ({@link TaskVectorKernels#keysBf16}'s keys) and never
     * stored: returns the count above {@code hi} in the high 32 bits, the count appended to {@code found} (which needs
     * {@link TaskVectorKernels#I} lanes of room beyond {@code n}) in the low 32.
     */
    static long windowBf16(MemorySegment x, MemorySegment b, long offset, int n, int lo, int hi, int[] found) {
        VectorSpecies<Integer> lanes = TaskVectorKernels.I;
        IntVector above = IntVector.zero(lanes);
        int count = 0;
        int j = 0;
        for (int upper = n - lanes.length() + 1; j < upper; j += lanes.length()) {
            IntVector v = FloatCodec.bf16Lanes(x, offset + j).sub(FloatCodec.bf16Lanes(b, offset + j))
                    .reinterpretAsInts().and(0x7fffffff);
            above = above.add(1, v.compare(VectorOperators.GT, hi));
            VectorMask<Integer> in = v.compare(VectorOperators.GE, lo).and(v.compare(VectorOperators.LE, hi));
            v.compress(in).intoArray(found, count); // the selected keys first, in order
            count += in.trueCount();
        }
        long high = above.reduceLanes(VectorOperators.ADD);
        long width = (long) hi - lo;
        for (; j < n; j++) { // insideScalar's and countAboveScalar's steps on keysBf16's scalar keys
            float xj = Float.intBitsToFloat(FloatCodec.bf16Bits(x, offset + j));
            float bj = Float.intBitsToFloat(FloatCodec.bf16Bits(b, offset + j));
            int key = Float.floatToRawIntBits(xj - bj) & 0x7fffffff;
            high += (hi - key) >>> 31;
            found[count] = key;
            count += 1 - (int) ((width - ((key - lo) & 0xffffffffL)) >>> 63);
        }
        return high << 32 | count;
    }

    /**
     * {@link #windowBf16} over two windows of the same keys in one loop, the keys made once (breadcrumbs scans two cuts
     * of each task vector): into {@code counts[0]} and {@code counts[1]} each window's {@code above << 32 | listed},
     * its keys appended to {@code found0} and {@code found1} (each with {@link TaskVectorKernels#I} lanes of room
     * beyond {@code n}).
     */
    static void twoWindowsBf16(MemorySegment x, MemorySegment b, long offset, int n, int lo0, int hi0, int[] found0,
            int lo1, int hi1, int[] found1, long[] counts) {
        VectorSpecies<Integer> lanes = TaskVectorKernels.I;
        IntVector above0 = IntVector.zero(lanes);
        IntVector above1 = IntVector.zero(lanes);
        int count0 = 0;
        int count1 = 0;
        int j = 0;
        for (int upper = n - lanes.length() + 1; j < upper; j += lanes.length()) {
            IntVector v = FloatCodec.bf16Lanes(x, offset + j).sub(FloatCodec.bf16Lanes(b, offset + j))
                    .reinterpretAsInts().and(0x7fffffff);
            above0 = above0.add(1, v.compare(VectorOperators.GT, hi0));
            above1 = above1.add(1, v.compare(VectorOperators.GT, hi1));
            VectorMask<Integer> in0 = v.compare(VectorOperators.GE, lo0).and(v.compare(VectorOperators.LE, hi0));
            VectorMask<Integer> in1 = v.compare(VectorOperators.GE, lo1).and(v.compare(VectorOperators.LE, hi1));
            v.compress(in0).intoArray(found0, count0);
            v.compress(in1).intoArray(found1, count1);
            count0 += in0.trueCount();
            count1 += in1.trueCount();
        }
        long high0 = above0.reduceLanes(VectorOperators.ADD);
        long high1 = above1.reduceLanes(VectorOperators.ADD);
        long width0 = (long) hi0 - lo0;
        long width1 = (long) hi1 - lo1;
        for (; j < n; j++) { // windowBf16's tail, twice
            float xj = Float.intBitsToFloat(FloatCodec.bf16Bits(x, offset + j));
            float bj = Float.intBitsToFloat(FloatCodec.bf16Bits(b, offset + j));
            int key = Float.floatToRawIntBits(xj - bj) & 0x7fffffff;
            high0 += (hi0 - key) >>> 31;
            high1 += (hi1 - key) >>> 31;
            found0[count0] = key;
            found1[count1] = key;
            count0 += 1 - (int) ((width0 - ((key - lo0) & 0xffffffffL)) >>> 63);
            count1 += 1 - (int) ((width1 - ((key - lo1) & 0xffffffffL)) >>> 63);
        }
        counts[0] = high0 << 32 | count0;
        counts[1] = high1 << 32 | count1;
    }
}
