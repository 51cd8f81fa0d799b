package org.mergelab.merge.methods;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.mergelab.io.FloatCodec;
import org.mergelab.merge.CounterRandom;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The per-element loops of the task-vector methods, fused so each chunk is read once: task vector, sparsifying mask,
 * count of what the mask zeroed. Each loop exists twice with the same results: Vector API lanes, and plain scalar code
 * (C2 does not vectorize these loops itself: {@code floatToRawIntBits} stops it).
 *
 * <p>Each kernel's lanes run whole calls only once they are compiled ({@link Lanes}): interpreted or C1-compiled,
 * Vector API code is hundreds to thousands of times slower than scalar code (one 256K-element chunk took ~1 s here),
 * so a merge that started on them spent its first seconds there.
 */
final class TaskVectorKernels {
    private TaskVectorKernels() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Ints with as many lanes as {@link #F}. */
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    /** Doubles with half as many lanes as {@link #F}: one float vector widens into two of them. */
    static final VectorSpecies<Double> DH = VectorSpecies.of(double.class, F.vectorShape());
    /** Floats with as many lanes as {@link #L}. */
    static final VectorSpecies<Float> FL = VectorSpecies.of(float.class,
            VectorShape.forBitSize(Math.max(64, L.vectorBitSize() / 2)));

    /** Whether the lane kernels exist here at all ({@code -Dmergelab.vector=false} turns them off). */
    static final boolean VECTOR = FloatCodec.VECTOR && FL.length() == L.length()
            && F.length() >= 4;

    // ---------------------------------------------------------------- lanes on once compiled

    /**
     * The lane kernels. Until one is compiled, each call of its kernel runs a {@link #PROBE} of the elements on the
     * lanes, timed, and the rest in scalar code: the probes get the lanes compiled by C2 from the merge's own calls
     * (no warm-up thread, no variant the merge does not use), and cost little while they run slowly (interpreted,
     * Vector API code takes microseconds per element; C1-compiled, tens of nanoseconds). Once {@link #FAST_PROBES}
     * probes in a row ran at compiled speed, the kernel runs on the lanes.
     */
    enum Lanes {
        /** {@link SignConsensus#mix}, any number of task vectors. */
        MIX,
        /** {@link SignConsensus#mix} of two task vectors without per-element factors. */
        MIX_TWO,
        /** {@link #rankMask}. */
        RANK_MASK,
        /** {@link #randomMask}. */
        RANDOM_MASK,
        /** {@link #keys}. */
        KEYS,
        /** {@link #lowHalves}. */
        LOW_HALVES,
        /** {@link WindowSelection#countAbove}. */
        COUNT_ABOVE,
        /** {@link WindowSelection#inside}. */
        INSIDE,
        /** {@link #nonzero}. */
        NONZERO,
        /** {@link #absSumLanes}. */
        L1_SUM,
        /** {@link #randomMaskAbsSumsLanes}. */
        RANDOM_L1_SUM,
        /** {@link #recordKept}. */
        RECORD_KEPT,
        /** {@link #keptMask}. */
        KEPT_MASK,
        /** {@link Combination#twoTermsBf16}. */
        TWO_TERMS_BF16,
        /** {@link TaskSum#twoModelsBf16}. */
        TASK_SUM_BF16,
        /** {@link #keysBf16}. */
        KEYS_BF16,
        /** {@link #rankMaskTwoBf16}. */
        RANK_MASK_TWO_BF16,
        /** {@link WindowSelection#windowBf16}. */
        WINDOW_BF16,
        /** {@link WindowSelection#twoWindowsBf16}. */
        TWO_WINDOWS_BF16,
        /** {@link DellaRowKernels}. */
        DELLA_ROW;

        private volatile boolean warm;
        private final java.util.concurrent.atomic.AtomicInteger fast = new java.util.concurrent.atomic.AtomicInteger();

        /** Whether these lanes are compiled (and so used for whole calls). */
        boolean warm() {
            return warm;
        }

        /** Whether a call over {@code n} elements should probe the lanes. */
        boolean probe(int n) {
            return probing && n >= PROBE;
        }

        /**
         * For the kernels that run a whole call on the lanes or decline it (the caller then decodes the chunk): true
         * once the lanes are compiled; until then false, having timed {@code probe} ({@link #PROBE} elements of this
         * call on the lanes) when the call is long enough to probe.
         */
        boolean runsOrProbes(int n, Runnable probe) {
            if (warm) {
                return true;
            }
            if (probe(n)) {
                // timed on its second run: the first brings the chunk's start into the cache (these kernels read
                // mapped inputs, and ~18 lines from memory alone took longer than the limit, so the lanes of the
                // TIES pass over stored bf16 never counted as compiled)
                probe.run();
                long t0 = System.nanoTime();
                probe.run();
                probed(System.nanoTime() - t0, PROBE);
            }
            return false;
        }

        /** Notes a probe of {@code n} elements that took {@code nanos}. */
        void probed(long nanos, int n) {
            if (nanos >= FAST_NANOS_PER_ELEMENT * n) {
                fast.set(0);
            } else if (fast.incrementAndGet() == FAST_PROBES) {
                warm = true;
                if (LOG) {
                    System.err.printf("mergelab: %s lanes compiled, %.2f s after start%n", this,
                            java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() / 1e3);
                }
            }
        }
    }

    /** Elements a probe runs on the lanes (a multiple of every lane count used). */
    static final int PROBE = 64;
    /** A probe faster than this per element ran compiled code (C1-compiled lanes take ~50 ns, compiled ones ~1). */
    static final long FAST_NANOS_PER_ELEMENT = 8;
    /** Probes in a row that must be fast (a slow one is sometimes just a thread switch). */
    static final int FAST_PROBES = 16;

    /** Whether kernels probe their lanes; tests turn it off to run the scalar code alone. */
    private static volatile boolean probing = true;

    /** Tests: use every lane kernel (true, after compiling them here) or none (false, no probes either). */
    static void useLanes(boolean lanes) {
        for (Lanes l : Lanes.values()) {
            if (lanes && VECTOR) {
                warmUp(l);
            } else {
                l.warm = false;
            }
        }
        probing = lanes;
    }

    /** Tests: lanes off and probing again, as in a new JVM. */
    static void resetLanes() {
        for (Lanes l : Lanes.values()) {
            l.warm = false;
            l.fast.set(0);
        }
        probing = true;
    }

    /**
     * Tests: calls {@code l}'s lanes on 256 elements until they are compiled (as {@link Lanes#probed} tells), in
     * every variant a merge uses.
     */
    static void warmUp(Lanes l) {
        synchronized (l) {
            if (l.warm || !VECTOR) {
                return;
            }
            WarmUpData d = new WarmUpData(256);
            long start = System.nanoTime();
            for (int rep = 0; !l.warm; rep++) {
                if (System.nanoTime() - start > 60_000_000_000L) {
                    throw new IllegalStateException(l + " lanes not compiled after a minute");
                }
                long t0 = System.nanoTime();
                d.run(l, rep);
                l.probed(System.nanoTime() - t0, d.n);
            }
        }
    }

    /** {@code -Dmergelab.warmup.log=true} reports on stderr when each kernel's lanes take over. */
    static final boolean LOG = Boolean.getBoolean("mergelab.warmup.log");

    /** Inputs for the warm-up calls. */
    private static final class WarmUpData {
        final int n;
        final float[] b;
        final float[][] x = new float[3][];
        final float[][] tau = new float[3][];
        final double[][] factors;
        final double[][] noFactors = new double[3][];
        final float[] out;
        final int[] keys;
        final int[] found;
        /** A second list, for the two-window scan. */
        final int[] found2;
        final long[] bits;
        /** {@code 2n} bf16 elements (zeros), for the kernels that read stored bf16. */
        final MemorySegment bf16;
        final double[] sums = new double[2];
        final double[] c = {0.4, 0.6, -0.2};
        final double[] ones = {1, 1, 1};
        long sink;

        WarmUpData(int n) {
            this.n = n;
            b = new float[n];
            out = new float[n];
            keys = new int[n];
            found = new int[n + I.length()];
            found2 = new int[n + I.length()];
            bits = new long[(n + 63) / 64];
            bf16 = Arena.ofAuto().allocate(4L * n, 64);
            factors = new double[][] {null, new double[n], null};
            for (int m = 0; m < 3; m++) {
                x[m] = new float[n];
                tau[m] = new float[n];
            }
            for (int j = 0; j < n; j++) {
                b[j] = (j % 17 - 8) * 0.01f;
                for (int m = 0; m < 3; m++) {
                    x[m][j] = b[j] + ((j * (m + 3)) % 11 - 5) * 0.001f;
                    tau[m][j] = (j + m) % 3 == 0 ? 0 : x[m][j] - b[j];
                }
                factors[1][j] = j % 2;
            }
            keysLanes(x[0], b, keys, 0, n);
        }

        void run(Lanes l, int rep) {
            SignConsensus v = rep % 2 == 0 ? SignConsensus.SUM : SignConsensus.COUNT;
            SignConsensus.Divide d = SignConsensus.Divide.values()[rep % 3];
            switch (l) {
                case MIX -> v.mixLanes(tau, rep % 4 == 0 ? factors : noFactors, 2 + rep % 2, c, ones, c, d, 1, b, out,
                        rep % 2 * 8, n);
                case MIX_TWO -> v.mixTwoLanes(tau[0], tau[1], c[0], c[1], 1, 1, c[0], c[1], d, 1, b, out,
                        rep % 2 * 8, n);
                case RANK_MASK -> sink += rankMaskLanes(x[rep % 3], b, tau[0], rep % 2 * F.length(), n,
                        keys[rep % n], rep % 2 == 0 ? Integer.MAX_VALUE : keys[(rep + 7) % n]);
                case RANDOM_MASK -> sink += randomMaskLanes(x[rep % 3], b, tau[0], rep % 2 * L.length(), n,
                        0x1234L + rep, rep * 256L, 1L << 52);
                case KEYS -> keysLanes(x[rep % 3], b, keys, rep % 2 * F.length(), n);
                case LOW_HALVES -> sink += lowHalvesLanes(keys, 0, n, rep % 8 == 0 ? keys[rep % n] >>> 16 : 0x7fff,
                        found, 0);
                case COUNT_ABOVE -> sink += WindowSelection.countAboveLanes(keys, rep % 2 * I.length(), n,
                        keys[rep % n]);
                case INSIDE -> sink += WindowSelection.insideLanes(keys, rep % 2 * I.length(), n, keys[rep % n] - 9,
                        keys[rep % n] + 99, found, 0);
                case NONZERO -> sink += nonzeroLanes(tau[rep % 3], rep % 2 * F.length(), n);
                case L1_SUM -> sink += (long) absSumLanes(x[rep % 3], rep % 2 == 0 ? b : null, rep % 2 * F.length(),
                        n - rep % 3, rep % 5 == 0 ? 0 : 0.25);
                case RANDOM_L1_SUM -> sink += randomMaskAbsSumsLanes(x[rep % 3], b, rep % 2 * L.length(),
                        n - rep % 3, 0x1234L + rep, rep * 256L, 1L << 52, sums, rep % 5 == 0 ? 0 : 0.25, 0.125) ? 1 : 0;
                case RECORD_KEPT -> recordKeptLanes(tau[rep % 3], rep % 2 * 64, n, bits);
                case KEPT_MASK -> sink += keptMaskLanes(x[rep % 3], b, tau[0], rep % 2 * 64, n, bits);
                case TWO_TERMS_BF16 -> Combination.twoTermsBf16(bf16, bf16, rep % 2 * F.length(), n - rep % 3, 0.25f,
                        0.75f, out, found, 0, 1);
                case TASK_SUM_BF16 -> TaskSum.twoModelsBf16(bf16, bf16, bf16, rep % 2 * F.length(), n - rep % 3, 0.4,
                        0.6, 1, out, found, 0, 1, 2);
                case KEYS_BF16 -> keysBf16(bf16, bf16, rep % 2 * F.length(), keys, n - rep % 3);
                case RANK_MASK_TWO_BF16 -> sink += rankMaskTwoBf16(bf16, bf16, bf16, rep % 2 * F.length(),
                        rep % 2 * 8, n - rep % 3, keys[rep % n], Integer.MAX_VALUE, -1, keys[(rep + 7) % n], out,
                        tau[0], tau[1], found, 0, 1, 2);
                case WINDOW_BF16 -> sink += WindowSelection.windowBf16(bf16, bf16, rep % 2 * F.length(), n - rep % 3,
                        rep % 3, rep % 2 == 0 ? Integer.MAX_VALUE : 0x3f000000, found);
                case TWO_WINDOWS_BF16 -> {
                    long[] counts = new long[2];
                    WindowSelection.twoWindowsBf16(bf16, bf16, rep % 2 * F.length(), n - rep % 3, rep % 3,
                            rep % 2 == 0 ? Integer.MAX_VALUE : 0x3f000000, found, 0, 0x3f000000, found2, counts);
                    sink += counts[0] + counts[1];
                }
                case DELLA_ROW -> DellaRowKernels.probe();
            }
        }
    }

    // ---------------------------------------------------------------- task vectors

    /**
     * Elements per block of the fused loops (a block of each array stays in L1 between the loops over it), and per
     * probe while a kernel's lanes are not compiled yet.
     */
    static final int BLOCK = 2048;

    /** {@code into = x − b} over {@code [from, to)} (C2 vectorizes this one itself). */
    static void taskVector(float[] x, float[] b, float[] into, int from, int to) {
        for (int j = from; j < to; j++) {
            into[j] = x[j] - b[j];
        }
    }

    /** Non-zero entries of {@code v[from, to)} ({@code v != 0}: NaN counts, both zeros do not). */
    static int nonzero(float[] v, int from, int to) {
        Lanes l = Lanes.NONZERO;
        int c = 0;
        int j = from;
        while (VECTOR && j < to) {
            if (l.warm()) {
                int end = j + F.loopBound(to - j);
                c += nonzeroLanes(v, j, end);
                j = end;
                break;
            }
            if (!l.probe(to - j)) {
                break;
            }
            long t0 = System.nanoTime();
            c += nonzeroLanes(v, j, j + PROBE);
            l.probed(System.nanoTime() - t0, PROBE);
            int end = Math.min(to, j + BLOCK);
            c += nonzeroScalar(v, j + PROBE, end);
            j = end;
        }
        return c + nonzeroScalar(v, j, to);
    }

    static int nonzeroScalar(float[] v, int from, int to) {
        int c = 0;
        for (int j = from; j < to; j++) {
            // |v| bits + 0x7fffffff carries into the sign bit exactly when |v| bits are not 0
            c += ((Float.floatToRawIntBits(v[j]) & 0x7fffffff) + 0x7fffffff) >>> 31;
        }
        return c;
    }

    /** {@link #nonzero} on lanes, for {@code to − from} a multiple of the lane count. */
    static int nonzeroLanes(float[] v, int from, int to) {
        IntVector acc = IntVector.zero(I);
        for (int j = from; j < to; j += F.length()) {
            // v ≠ 0 as its magnitude bits ≠ 0, on int lanes: no mask cast (see CounterRandom.keptLanes)
            acc = acc.add(1, FloatVector.fromArray(F, v, j).reinterpretAsInts().and(0x7fffffff)
                    .compare(VectorOperators.NE, 0));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    // ---------------------------------------------------------------- magnitude-rank mask

    /**
     * Over {@code [from, to)}: {@code into = x − b} where the magnitude key {@code k} of that difference
     * ({@link TaskVectors#magnitudeKey}) has {@code above < k ≤ atMost}, else {@code +0}; returns how many non-zero
     * differences it zeroed. Thresholds lie in {@code [−1, Integer.MAX_VALUE]}.
     */
    static int rankMask(float[] x, float[] b, float[] into, int from, int to, int above, int atMost) {
        Lanes l = Lanes.RANK_MASK;
        int zeroed = 0;
        int j = from;
        while (VECTOR && j < to) {
            if (l.warm()) {
                int end = j + F.loopBound(to - j);
                zeroed += rankMaskLanes(x, b, into, j, end, above, atMost);
                j = end;
                break;
            }
            if (!l.probe(to - j)) {
                break;
            }
            long t0 = System.nanoTime();
            zeroed += rankMaskLanes(x, b, into, j, j + PROBE, above, atMost);
            l.probed(System.nanoTime() - t0, PROBE);
            int end = Math.min(to, j + BLOCK);
            zeroed += rankMaskScalar(x, b, into, j + PROBE, end, above, atMost);
            j = end;
        }
        return zeroed + rankMaskScalar(x, b, into, j, to, above, atMost);
    }

    static int rankMaskScalar(float[] x, float[] b, float[] into, int from, int to, int above, int atMost) {
        int zeroed = 0;
        for (int j = from; j < to; j++) {
            int bits = Float.floatToRawIntBits(x[j] - b[j]);
            int key = bits & 0x7fffffff;
            // (above − key) < 0 ⇔ key > above; ~(atMost − key) < 0 ⇔ key ≤ atMost (no overflow in either)
            int keep = ((above - key) & ~(atMost - key)) >>> 31;
            into[j] = Float.intBitsToFloat(bits & -keep);
            zeroed += ((key + 0x7fffffff) >>> 31) & (keep ^ 1);
        }
        return zeroed;
    }

    /** {@link #rankMask} on lanes, for {@code to − from} a multiple of the lane count. */
    static int rankMaskLanes(float[] x, float[] b, float[] into, int from, int to, int above, int atMost) {
        IntVector zeroed = IntVector.zero(I);
        for (int j = from; j < to; j += F.length()) {
            IntVector bits = FloatVector.fromArray(F, x, j).sub(FloatVector.fromArray(F, b, j)).reinterpretAsInts();
            IntVector key = bits.and(0x7fffffff);
            VectorMask<Integer> keep = key.compare(VectorOperators.GT, above)
                    .and(key.compare(VectorOperators.LE, atMost));
            IntVector.zero(I).blend(bits, keep).reinterpretAsFloats().intoArray(into, j);
            zeroed = zeroed.add(1, key.compare(VectorOperators.NE, 0).andNot(keep));
        }
        return zeroed.reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #rankMask} of two task vectors over stored bf16 tensors, read straight from memory: for {@code j} in
     * {@code [from, to)}, element {@code offset + j} of {@code b}, {@code x0}, {@code x1} gives {@code fb[j]} (the base,
     * decoded), {@code t0[j]} and {@code t1[j]} (the task vectors, kept where {@code above_m < key ≤ atMost_m}, else
     * {@code +0}): the same operations per element as decoding the chunk and masking it. Raises {@code largest[ib]},
     * {@code largest[i0]}, {@code largest[i1]} to the inputs' largest magnitude bits; returns how many non-zero
     * task-vector entries it zeroed. Meant for L1-sized blocks that the mixing then reads back.
     */
    static int rankMaskTwoBf16(MemorySegment b, MemorySegment x0, MemorySegment x1, long offset, int from, int to,
            int above0, int atMost0, int above1, int atMost1, float[] fb, float[] t0, float[] t1, int[] largest,
            int ib, int i0, int i1) {
        IntVector lb = IntVector.zero(I);
        IntVector l0 = IntVector.zero(I);
        IntVector l1 = IntVector.zero(I);
        IntVector zeroed = IntVector.zero(I);
        IntVector zero = IntVector.zero(I);
        int j = from;
        for (int upper = to - F.length() + 1; j < upper; j += F.length()) {
            FloatVector vb = FloatCodec.bf16Lanes(b, offset + j);
            FloatVector v0 = FloatCodec.bf16Lanes(x0, offset + j);
            FloatVector v1 = FloatCodec.bf16Lanes(x1, offset + j);
            vb.intoArray(fb, j);
            lb = lb.max(vb.reinterpretAsInts().and(0x7fffffff));
            l0 = l0.max(v0.reinterpretAsInts().and(0x7fffffff));
            l1 = l1.max(v1.reinterpretAsInts().and(0x7fffffff));
            IntVector bits0 = v0.sub(vb).reinterpretAsInts();
            IntVector bits1 = v1.sub(vb).reinterpretAsInts();
            IntVector key0 = bits0.and(0x7fffffff);
            IntVector key1 = bits1.and(0x7fffffff);
            VectorMask<Integer> keep0 = key0.compare(VectorOperators.GT, above0)
                    .and(key0.compare(VectorOperators.LE, atMost0));
            VectorMask<Integer> keep1 = key1.compare(VectorOperators.GT, above1)
                    .and(key1.compare(VectorOperators.LE, atMost1));
            zero.blend(bits0, keep0).reinterpretAsFloats().intoArray(t0, j);
            zero.blend(bits1, keep1).reinterpretAsFloats().intoArray(t1, j);
            zeroed = zeroed.add(1, key0.compare(VectorOperators.NE, 0).andNot(keep0))
                    .add(1, key1.compare(VectorOperators.NE, 0).andNot(keep1));
        }
        int mb = lb.reduceLanes(VectorOperators.MAX);
        int m0 = l0.reduceLanes(VectorOperators.MAX);
        int m1 = l1.reduceLanes(VectorOperators.MAX);
        int count = zeroed.reduceLanes(VectorOperators.ADD);
        int tail = j;
        for (; j < to; j++) { // the scalar tail: decoded in place, then masked by rankMask's scalar twin
            int bb = FloatCodec.bf16Bits(b, offset + j);
            int b0 = FloatCodec.bf16Bits(x0, offset + j);
            int b1 = FloatCodec.bf16Bits(x1, offset + j);
            mb = Math.max(mb, bb & 0x7fffffff);
            m0 = Math.max(m0, b0 & 0x7fffffff);
            m1 = Math.max(m1, b1 & 0x7fffffff);
            fb[j] = Float.intBitsToFloat(bb);
            t0[j] = Float.intBitsToFloat(b0);
            t1[j] = Float.intBitsToFloat(b1);
        }
        count += rankMaskScalar(t0, fb, t0, tail, to, above0, atMost0);
        count += rankMaskScalar(t1, fb, t1, tail, to, above1, atMost1);
        largest[ib] = Math.max(largest[ib], mb);
        largest[i0] = Math.max(largest[i0], m0);
        largest[i1] = Math.max(largest[i1], m1);
        return count;
    }

    // ---------------------------------------------------------------- random (DARE) mask

    static final long GOLDEN = 0x9E3779B97F4A7C15L;

    /**
     * Over {@code [from, to)}: {@code into = x − b} where element {@code first + j}'s draw of stream {@code key} is
     * kept ({@code CounterRandom.retain}'s decision: {@code CounterRandom.draw(key, first + j) < limit}), else
     * {@code +0}; returns how many non-zero differences it zeroed.
     */
    static int randomMask(float[] x, float[] b, float[] into, int from, int to, long key, long first, long limit) {
        Lanes l = Lanes.RANDOM_MASK;
        int zeroed = 0;
        int j = from;
        while (VECTOR && j < to) {
            if (l.warm()) {
                int end = j + L.loopBound(to - j);
                zeroed += randomMaskLanes(x, b, into, j, end, key, first, limit);
                j = end;
                break;
            }
            if (!l.probe(to - j)) {
                break;
            }
            long t0 = System.nanoTime();
            zeroed += randomMaskLanes(x, b, into, j, j + PROBE, key, first, limit);
            l.probed(System.nanoTime() - t0, PROBE);
            int end = Math.min(to, j + BLOCK);
            zeroed += randomMaskScalar(x, b, into, j + PROBE, end, key, first, limit);
            j = end;
        }
        return zeroed + randomMaskScalar(x, b, into, j, to, key, first, limit);
    }

    static int randomMaskScalar(float[] x, float[] b, float[] into, int from, int to, long key, long first,
            long limit) {
        int zeroed = 0;
        for (int j = from; j < to; j++) {
            float t = x[j] - b[j];
            long keep = (CounterRandom.draw(key, first + j) - limit) >>> 63; // m < limit (both < 2^63)
            int bits = Float.floatToRawIntBits(t);
            into[j] = Float.intBitsToFloat(bits & -(int) keep);
            zeroed += (((bits & 0x7fffffff) + 0x7fffffff) >>> 31) & ((int) keep ^ 1);
        }
        return zeroed;
    }

    /** {@link #randomMask} on lanes, for {@code to − from} a multiple of the lane count. */
    static int randomMaskLanes(float[] x, float[] b, float[] into, int from, int to, long key, long first,
            long limit) {
        // key + (first + j + lane)·golden, stepped by additions (the same integers mod 2^64 as the products)
        LongVector lanes = LongVector.zero(L).addIndex(1).mul(GOLDEN);
        long step = L.length() * GOLDEN;
        long at = key + (first + from) * GOLDEN;
        int zeroed = 0;
        for (int j = from; j < to; j += L.length(), at += step) {
            IntVector keep = (IntVector) CounterRandom.keptLanes(mixLanes(lanes.add(at)), limit)
                    .convertShape(VectorOperators.L2I, IL, 0);
            IntVector t = FloatVector.fromArray(FL, x, j).sub(FloatVector.fromArray(FL, b, j)).reinterpretAsInts();
            t.and(keep).reinterpretAsFloats().intoArray(into, j); // a dropped difference becomes +0
            // non-zero (magnitude bits: NaN counts, −0 does not, as t ≠ 0 says) and dropped
            zeroed += t.and(0x7fffffff).and(keep.not()).compare(VectorOperators.NE, 0).trueCount();
        }
        return zeroed;
    }

    /** SplitMix64's finaliser on lanes, as {@code CounterRandom} draws with it. */
    static LongVector mixLanes(LongVector z) {
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xBF58476D1CE4E5B9L);
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(0x94D049BB133111EBL);
        return z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
    }

    // ---------------------------------------------------------------- L1 sums

    /**
     * Adds {@code |a[j]|} to {@code sums[0]} and {@code |b[j]|} to {@code sums[1]} for {@code j} in
     * {@code [from, to)}, in index order (float64 sums, so the order is part of the result).
     */
    static void absSums(float[] a, float[] b, int from, int to, double[] sums) {
        double sa = sums[0];
        double sb = sums[1];
        for (int j = from; j < to; j++) {
            sa += Math.abs(a[j]);
            sb += Math.abs(b[j]);
        }
        sums[0] = sa;
        sums[1] = sb;
    }

    /**
     * {@link #absSums(float[], float[], int, int, double[])} of two pairs in one loop, into {@code sums[0..4)}: four
     * independent chains of additions, so each waits less on the latency of its own.
     */
    static void absSums(float[] a, float[] b, float[] c, float[] d, int from, int to, double[] sums) {
        double sa = sums[0];
        double sb = sums[1];
        double sc = sums[2];
        double sd = sums[3];
        for (int j = from; j < to; j++) {
            sa += Math.abs(a[j]);
            sb += Math.abs(b[j]);
            sc += Math.abs(c[j]);
            sd += Math.abs(d[j]);
        }
        sums[0] = sa;
        sums[1] = sb;
        sums[2] = sc;
        sums[3] = sd;
    }

    /**
     * {@code s + Σ |x[j] − b[j]|} over {@code [from, to)} ({@code b} null: {@code |x[j]|}) as the float64 sum in
     * index order gives it, when the lanes can tell that every partial sum is exact; else −1 (a real result is
     * never negative), and the caller adds in index order.
     *
     * <p>The lanes add in another order. That gives the same bits when no addition rounds: when {@code s} and all the
     * values are multiples of 2<sup>q</sup> (q the lowest set bit among them) and the total is below
     * 2<sup>q+52</sup>, every partial sum of any order is a multiple of 2<sup>q</sup> below 2<sup>q+53</sup>, which a
     * double holds exactly. The computed total is checked against that bound; if the true total were 2<sup>q+53</sup>
     * or more, the computed one could not be below 2<sup>q+52</sup>. Task vectors of bf16 checkpoints pass (a
     * difference of two bf16 values has few significant bits); float32 ones often do not.
     */
    static double absSumLanes(float[] x, float[] b, int from, int to, double s) {
        int upper = from + F.loopBound(to - from);
        DoubleVector acc0 = DoubleVector.zero(DH);
        DoubleVector acc1 = DoubleVector.zero(DH);
        IntVector low = IntVector.broadcast(I, Integer.MAX_VALUE);
        for (int j = from; j < upper; j += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, j);
            if (b != null) {
                v = v.sub(FloatVector.fromArray(F, b, j));
            }
            v = v.abs();
            IntVector bits = v.reinterpretAsInts();
            IntVector exponent = bits.lanewise(VectorOperators.LSHR, 23);
            VectorMask<Integer> normal = exponent.compare(VectorOperators.NE, 0);
            IntVector mantissa = bits.and(0x7fffff).or(IntVector.zero(I).blend(0x800000, normal));
            // the lowest set bit of the significand, as a float: its exponent field is 127 + its position
            IntVector lowest = mantissa.and(mantissa.neg()).convert(VectorOperators.I2F, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHR, 23);
            // lowest set bit of the value: 2^(max(exponent, 1) − 150 + position); kept here as + 23 − 127 + 150
            IntVector at = exponent.max(1).add(lowest);
            low = low.min(IntVector.broadcast(I, Integer.MAX_VALUE).blend(at, bits.compare(VectorOperators.NE, 0)));
            acc0 = acc0.add(v.convertShape(VectorOperators.F2D, DH, 0));
            acc1 = acc1.add(v.convertShape(VectorOperators.F2D, DH, 1));
        }
        int lowest = low.reduceLanes(VectorOperators.MIN);
        lowest = lowest == Integer.MAX_VALUE ? Integer.MAX_VALUE : lowest - 127 - 150;
        DoubleVector acc = acc0.add(acc1);
        double sum = 0;
        for (int lane = 0; lane < DH.length(); lane++) {
            sum += acc.lane(lane);
        }
        for (int j = upper; j < to; j++) {
            float v = Math.abs(b == null ? x[j] : x[j] - b[j]);
            lowest = Math.min(lowest, lowestBit(v));
            sum += v;
        }
        return exactTotal(s, sum, lowest);
    }

    /**
     * The position of the lowest set bit of a non-negative float ({@code 2^p}), {@code Integer.MAX_VALUE} for zero: the
     * lanes' tails (the lanes compute it inline, see {@link #randomMaskAbsSumsLanes}).
     */
    private static int lowestBit(float nonNegative) {
        int bits = Float.floatToRawIntBits(nonNegative);
        if (bits == 0) {
            return Integer.MAX_VALUE;
        }
        int e = bits >>> 23;
        int m = (bits & 0x7fffff) | (e != 0 ? 0x800000 : 0);
        return Math.max(e, 1) - 150 + Integer.numberOfTrailingZeros(m);
    }

    /**
     * {@code s + sum} when no addition of the lanes' sum could have rounded: {@code lowest} is the position of the
     * lowest set bit among the values summed ({@code Integer.MAX_VALUE} when all were zero); else −1.
     */
    private static double exactTotal(double s, double sum, int lowest) {
        // s's lowest set bit, without branches on s (C2 compiled them as never taken, the first call with a running
        // sum deoptimized it, and the lanes ran as C1 code that boxes every vector): a zero s contributes nothing
        long sBits = Double.doubleToRawLongBits(s);
        int sExponent = (int) (sBits >>> 52) & 0x7ff;
        long sMantissa = (sBits & 0xfffffffffffffL) | (-(long) Math.min(sExponent, 1) & 1L << 52);
        int sLowest = Math.max(sExponent, 1) - 1075 + Long.numberOfTrailingZeros(sMantissa);
        int nonzero = (int) ((sMantissa | -sMantissa) >> 63); // -1 when s != 0, else 0
        lowest = Math.min(lowest, (sLowest & nonzero) | (Integer.MAX_VALUE & ~nonzero));
        double total = s + sum;
        if (lowest == Integer.MAX_VALUE) {
            return total == s ? s : -1; // no non-zero value (total is s, or NaN/inf from a value)
        }
        return total < Math.scalb(1.0, Math.min(lowest + 52, 1023)) ? total : -1;
    }

    /** Ints with as many lanes as {@link #L}. */
    static final VectorSpecies<Integer> IL = FL.withLanes(int.class);
    /** Doubles with as many lanes as {@link #L}. */
    static final VectorSpecies<Double> DL = VectorSpecies.of(double.class, L.vectorShape());

    /**
     * {@link #randomMaskAbsSumsLanes} once its lanes are compiled; until then false (after timing a probe of them on a
     * few elements, thrown away), and the caller sums the masked vector itself.
     */
    static boolean randomMaskAbsSums(float[] x, float[] b, int from, int to, long key, long first, long limit,
            double[] sums, double s, double kept) {
        Lanes l = Lanes.RANDOM_L1_SUM;
        if (!VECTOR) {
            return false;
        }
        if (l.warm()) {
            return randomMaskAbsSumsLanes(x, b, from, to, key, first, limit, sums, s, kept);
        }
        if (l.probe(to - from)) {
            long t0 = System.nanoTime();
            randomMaskAbsSumsLanes(x, b, from, from + PROBE, key, first, limit, new double[2], s, kept);
            l.probed(System.nanoTime() - t0, PROBE);
        }
        return false;
    }

    /**
     * DARE's two L1 sums over {@code [from, to)} in one pass, the masked task vector never written: into
     * {@code sums[0]} {@code s + Σ |x − b|} and into {@code sums[1]} {@code kept + Σ |x − b|} over the elements
     * {@link #randomMask} keeps, each as the float64 sum in index order gives it. Returns false, {@code sums}
     * untouched, when the lanes cannot tell that both are exact (see {@link #absSumLanes}); the kept values are some of
     * the task vector's, so its lowest set bit bounds both sums.
     */
    static boolean randomMaskAbsSumsLanes(float[] x, float[] b, int from, int to, long key, long first, long limit,
            double[] sums, double s, double kept) {
        LongVector lanes = LongVector.zero(L).addIndex(1).mul(GOLDEN);
        long step = L.length() * GOLDEN;
        long at = key + (first + from) * GOLDEN;
        int upper = from + L.loopBound(to - from);
        DoubleVector all = DoubleVector.zero(DL);
        DoubleVector keptSum = DoubleVector.zero(DL);
        IntVector low = IntVector.broadcast(IL, Integer.MAX_VALUE);
        for (int j = from; j < upper; j += L.length(), at += step) {
            LongVector keep = CounterRandom.keptLanes(mixLanes(lanes.add(at)), limit);
            FloatVector v = FloatVector.fromArray(FL, x, j).sub(FloatVector.fromArray(FL, b, j)).abs();
            // absSumLanes's lowest set bit, on this loop's species: a shared helper taking the species from its
            // argument was not intrinsified (a non-constant species) and boxed every vector (tried, measured)
            IntVector bits = v.reinterpretAsInts();
            IntVector exponent = bits.lanewise(VectorOperators.LSHR, 23);
            VectorMask<Integer> normal = exponent.compare(VectorOperators.NE, 0);
            IntVector mantissa = bits.and(0x7fffff).or(IntVector.zero(IL).blend(0x800000, normal));
            IntVector lowest = mantissa.and(mantissa.neg()).convert(VectorOperators.I2F, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHR, 23);
            IntVector position = exponent.max(1).add(lowest);
            low = low.min(IntVector.broadcast(IL, Integer.MAX_VALUE).blend(position,
                    bits.compare(VectorOperators.NE, 0)));
            DoubleVector d = (DoubleVector) v.convertShape(VectorOperators.F2D, DL, 0);
            all = all.add(d);
            // a dropped lane adds +0, which leaves the sum as it was: it starts at +0 and adds magnitudes
            keptSum = keptSum.add(d.reinterpretAsLongs().and(keep).reinterpretAsDoubles());
        }
        int lowest = low.reduceLanes(VectorOperators.MIN);
        lowest = lowest == Integer.MAX_VALUE ? Integer.MAX_VALUE : lowest - 127 - 150;
        double sumAll = 0;
        double sumKept = 0;
        for (int lane = 0; lane < DL.length(); lane++) {
            sumAll += all.lane(lane);
            sumKept += keptSum.lane(lane);
        }
        for (int j = upper; j < to; j++) {
            float v = Math.abs(x[j] - b[j]);
            lowest = Math.min(lowest, lowestBit(v));
            sumAll += v;
            if (CounterRandom.draw(key, first + j) < limit) {
                sumKept += v;
            }
        }
        double totalAll = exactTotal(s, sumAll, lowest);
        double totalKept = exactTotal(kept, sumKept, lowest);
        if (totalAll < 0 || totalKept < 0) {
            return false;
        }
        sums[0] = totalAll;
        sums[1] = totalKept;
        return true;
    }

    // ---------------------------------------------------------------- kept bits

    /**
     * Sets bit {@code j} of {@code bits} ({@code bits[j >>> 6]}, bit {@code j & 63}) for every {@code j} in
     * {@code [from, to)} whose {@code masked[j]} has any bit set, clearing the others ({@code from} a multiple of 64).
     * A mask's output is {@code τ} where kept and {@code +0} where dropped, so these bits and {@code τ} give it back
     * exactly ({@link #keptMask}): a kept {@code −0} has its sign bit set, and a kept {@code +0} is {@code +0} either
     * way.
     */
    static void recordKept(float[] masked, int from, int to, long[] bits) {
        Lanes l = Lanes.RECORD_KEPT;
        int j = from;
        while (VECTOR && j < to) {
            if (l.warm()) {
                int end = j + (to - j) / 64 * 64;
                recordKeptLanes(masked, j, end, bits);
                j = end;
                break;
            }
            if (!l.probe(to - j)) {
                break;
            }
            long t0 = System.nanoTime();
            recordKeptLanes(masked, j, j + PROBE, bits);
            l.probed(System.nanoTime() - t0, PROBE);
            int end = Math.min(to, j + BLOCK);
            recordKeptScalar(masked, j + PROBE, end, bits);
            j = end;
        }
        recordKeptScalar(masked, j, to, bits);
    }

    static void recordKeptScalar(float[] masked, int from, int to, long[] bits) {
        for (int j = from; j < to; j++) {
            long bit = 1L << (j & 63);
            long set = -(long) (((Float.floatToRawIntBits(masked[j]) | -Float.floatToRawIntBits(masked[j])) >>> 31));
            bits[j >>> 6] = (bits[j >>> 6] & ~bit) | (bit & set);
        }
    }

    /** {@link #recordKept} on lanes, for {@code from} and {@code to} multiples of 64. */
    static void recordKeptLanes(float[] masked, int from, int to, long[] bits) {
        for (int w = from; w < to; w += 64) {
            long word = 0;
            for (int j = w; j < w + 64; j += I.length()) {
                long set = FloatVector.fromArray(F, masked, j).reinterpretAsInts().compare(VectorOperators.NE, 0)
                        .toLong();
                word |= set << (j - w);
            }
            bits[w >>> 6] = word;
        }
    }

    /**
     * Over {@code [from, to)} ({@code from} a multiple of 64): {@code into = x − b} where bit {@code j} of
     * {@code bits} is set, else {@code +0}; returns how many non-zero differences it zeroed.
     */
    static int keptMask(float[] x, float[] b, float[] into, int from, int to, long[] bits) {
        Lanes l = Lanes.KEPT_MASK;
        int zeroed = 0;
        int j = from;
        while (VECTOR && j < to) {
            if (l.warm()) {
                int end = j + (to - j) / 64 * 64;
                zeroed += keptMaskLanes(x, b, into, j, end, bits);
                j = end;
                break;
            }
            if (!l.probe(to - j)) {
                break;
            }
            long t0 = System.nanoTime();
            zeroed += keptMaskLanes(x, b, into, j, j + PROBE, bits);
            l.probed(System.nanoTime() - t0, PROBE);
            int end = Math.min(to, j + BLOCK);
            zeroed += keptMaskScalar(x, b, into, j + PROBE, end, bits);
            j = end;
        }
        return zeroed + keptMaskScalar(x, b, into, j, to, bits);
    }

    static int keptMaskScalar(float[] x, float[] b, float[] into, int from, int to, long[] bits) {
        int zeroed = 0;
        for (int j = from; j < to; j++) {
            int bits32 = Float.floatToRawIntBits(x[j] - b[j]);
            int keep = (int) (bits[j >>> 6] >>> (j & 63)) & 1;
            into[j] = Float.intBitsToFloat(bits32 & -keep);
            zeroed += (((bits32 & 0x7fffffff) + 0x7fffffff) >>> 31) & (keep ^ 1);
        }
        return zeroed;
    }

    /** {@link #keptMask} on lanes, for {@code from} and {@code to} multiples of 64. */
    static int keptMaskLanes(float[] x, float[] b, float[] into, int from, int to, long[] bits) {
        IntVector zeroed = IntVector.zero(I);
        long laneBits = (1L << I.length()) - 1;
        for (int j = from; j < to; j += I.length()) {
            IntVector t = FloatVector.fromArray(F, x, j).sub(FloatVector.fromArray(F, b, j)).reinterpretAsInts();
            VectorMask<Integer> keep = VectorMask.fromLong(I, (bits[j >>> 6] >>> (j & 63)) & laneBits);
            IntVector.zero(I).blend(t, keep).reinterpretAsFloats().intoArray(into, j);
            zeroed = zeroed.add(1, t.and(0x7fffffff).compare(VectorOperators.NE, 0).andNot(keep));
        }
        return zeroed.reduceLanes(VectorOperators.ADD);
    }

    // ---------------------------------------------------------------- selection keys

    /** {@code keys = magnitudeKey(x − b)} over {@code [0, n)}. */
    static void keys(float[] x, float[] b, int[] keys, int n) {
        Lanes l = Lanes.KEYS;
        int j = 0;
        while (VECTOR && j < n) {
            if (l.warm()) {
                int end = j + F.loopBound(n - j);
                keysLanes(x, b, keys, j, end);
                j = end;
                break;
            }
            if (!l.probe(n - j)) {
                break;
            }
            long t0 = System.nanoTime();
            keysLanes(x, b, keys, j, j + PROBE);
            l.probed(System.nanoTime() - t0, PROBE);
            int end = Math.min(n, j + BLOCK);
            keysScalar(x, b, keys, j + PROBE, end);
            j = end;
        }
        keysScalar(x, b, keys, j, n);
    }

    static void keysScalar(float[] x, float[] b, int[] keys, int from, int to) {
        for (int j = from; j < to; j++) {
            keys[j] = Float.floatToRawIntBits(x[j] - b[j]) & 0x7fffffff;
        }
    }

    /** {@code keys[j] = magnitudeKey(x[j] − b[j])} for {@code j} in {@code [from, to)}, a lane multiple. */
    static void keysLanes(float[] x, float[] b, int[] keys, int from, int to) {
        for (int j = from; j < to; j += F.length()) {
            FloatVector.fromArray(F, x, j).sub(FloatVector.fromArray(F, b, j)).reinterpretAsInts().and(0x7fffffff)
                    .intoArray(keys, j);
        }
    }

    /**
     * {@link #keys} of elements {@code [offset, offset + n)} of stored bf16 tensors {@code x} and {@code b}, read
     * straight from memory: the same float subtraction, so the same keys.
     */
    static void keysBf16(MemorySegment x, MemorySegment b, long offset, int[] keys, int n) {
        int j = 0;
        for (int upper = n - F.length() + 1; j < upper; j += F.length()) {
            FloatCodec.bf16Lanes(x, offset + j).sub(FloatCodec.bf16Lanes(b, offset + j))
                    .reinterpretAsInts().and(0x7fffffff).intoArray(keys, j);
        }
        for (; j < n; j++) {
            float xj = Float.intBitsToFloat(FloatCodec.bf16Bits(x, offset + j));
            float bj = Float.intBitsToFloat(FloatCodec.bf16Bits(b, offset + j));
            keys[j] = Float.floatToRawIntBits(xj - bj) & 0x7fffffff;
        }
    }

    /** How many of {@code keys[0..n)} are 0 (C2 vectorizes this integer loop itself). */
    static int countZeroKeys(int[] keys, int n) {
        int zeros = 0;
        for (int j = 0; j < n; j++) {
            zeros += (keys[j] - 1) >>> 31; // key == 0 (keys are ≥ 0)
        }
        return zeros;
    }

    /**
     * Appends to {@code found} the low halves of the keys whose high half is {@code bucket}, in index order; returns
     * how many. Matches are rare (one bucket of 2<sup>15</sup>), so the lanes skip whole vectors without one.
     */
    static int lowHalves(int[] keys, int n, int bucket, int[] found) {
        Lanes l = Lanes.LOW_HALVES;
        int count = 0;
        int j = 0;
        while (VECTOR && j < n) {
            if (l.warm()) {
                int end = j + I.loopBound(n - j);
                count = lowHalvesLanes(keys, j, end, bucket, found, count);
                j = end;
                break;
            }
            if (!l.probe(n - j)) {
                break;
            }
            long t0 = System.nanoTime();
            count = lowHalvesLanes(keys, j, j + PROBE, bucket, found, count);
            l.probed(System.nanoTime() - t0, PROBE);
            int end = Math.min(n, j + BLOCK);
            count = lowHalvesScalar(keys, j + PROBE, end, bucket, found, count);
            j = end;
        }
        return lowHalvesScalar(keys, j, n, bucket, found, count);
    }

    static int lowHalvesScalar(int[] keys, int from, int to, int bucket, int[] found, int count) {
        for (int j = from; j < to; j++) {
            int key = keys[j];
            if ((key >>> 16) == bucket) { // rare: a well-predicted branch
                found[count++] = key & 0xffff;
            }
        }
        return count;
    }

    static int lowHalvesLanes(int[] keys, int from, int to, int bucket, int[] found, int count) {
        for (int j = from; j < to; j += I.length()) {
            IntVector high = IntVector.fromArray(I, keys, j).lanewise(VectorOperators.LSHR, 16);
            if (high.compare(VectorOperators.EQ, bucket).anyTrue()) {
                count = lowHalvesScalar(keys, j, j + I.length(), bucket, found, count);
            }
        }
        return count;
    }
}
