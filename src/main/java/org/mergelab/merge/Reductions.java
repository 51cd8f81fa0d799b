package org.mergelab.merge;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.WarmUpTrigger;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Whole-tensor reductions shared by methods, accumulated in float64. Within a chunk, sums run over four interleaved
 * accumulators (fixed order, so results are reproducible); chunks combine in order.
 */
public final class Reductions {
    private Reductions() {}

    /**
     * Gram matrix {@code G[i][j] = Σ v_i·v_j} of the inputs treated as flat vectors. With {@code origin ≥ 0}, the vectors
     * are task vectors {@code v_i = x_i − x_origin} (and row/column {@code origin} is zero).
     */
    public static double[][] gram(TensorJob job, int origin) {
        int k = job.inputCount();
        double[] flat = job.reduce(new ChunkReducer<double[]>() {
            @Override
            public double[] newState(long offset, int length) {
                return new double[k * k];
            }

            @Override
            public void accumulate(double[] g, long offset, float[][] in, int n) {
                float[][] v = origin >= 0 ? differences(in, origin, n) : in;
                if (k == 2 && VECTOR) {
                    pairGram(v[0], v[1], n, g);
                    return;
                }
                for (int i = 0; i < k; i++) {
                    for (int j = i; j < k; j++) {
                        g[i * k + j] += dot(v[i], v[j], 0, n);
                    }
                }
            }

            @Override
            public boolean accumulateBf16(double[] g, long offset, MemorySegment[] bf16, int n) {
                if (k != 2 || origin >= 0 || !VECTOR || !warmBf16) {
                    return false;
                }
                pairGramBf16(bf16[0], bf16[1], offset, n, g);
                return true;
            }

            @Override
            public void combine(double[] into, double[] next) {
                for (int i = 0; i < into.length; i++) {
                    into[i] += next[i];
                }
            }
        });
        double[][] g = new double[k][k];
        for (int i = 0; i < k; i++) {
            for (int j = i; j < k; j++) {
                g[i][j] = flat[i * k + j];
                g[j][i] = flat[i * k + j];
            }
        }
        return g;
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Vector path only where one float vector widens into exactly two double vectors. */
    private static final boolean VECTOR = org.mergelab.io.FloatCodec.VECTOR && F.length() == 2 * D.length();

    /**
     * {@code Σ a[i]·b[i]} over {@code [from, to)} in float64: each product is exact in float64 and accumulated in
     * float64 lanes (Vector API), so only the float64 additions round. Until {@link #warmUp()} has compiled the vector
     * loop, {@link #dotLanes} computes the same bits in scalar code, so a result never depends on when the switch came.
     */
    public static double dot(float[] a, float[] b, int from, int to) {
        if (!VECTOR) {
            return dotScalar(a, b, from, to);
        }
        if (warm) {
            return dotVector(a, b, from, to);
        }
        WARM_UP.count(to - from, Reductions::warmUp);
        return dotLanes(a, b, from, to);
    }

    private static volatile boolean warm;
    /**
     * Scalar dot elements after which the process compiles the vector dots itself: about the Gram pass over a pair of
     * 4 GB bf16 models (three dots per element pair), past which the compile (1.1-1.4 s of a core here) pays for itself;
     * a sweep's many small merges get there too.
     */
    private static final WarmUpTrigger WARM_UP = new WarmUpTrigger(6L << 30);

    /** Starts {@link #warmUp()} on the warm-up thread unless it has started already; returns at once. */
    static void warmUpInBackground() {
        if (VECTOR && !warm) {
            WARM_UP.start(Reductions::warmUp);
        }
    }

    /**
     * As {@link #warmUpInBackground()} for a merge whose inputs are all read as stored bf16, whose Gram passes need
     * only {@link #pairGramBf16}: {@link #warmUpBf16()}, a third of the compiling (a 4 GB slerp merge's warm-up thread
     * had ~0.7 s of a core's samples, and C2 0.12 s on the two float-array kernels it does not run).
     */
    static void warmUpBf16InBackground() {
        if (VECTOR && !warmBf16) {
            WARM_UP_BF16.start(Reductions::warmUpBf16);
        }
    }

    /** Whether {@link #pairGramBf16} is compiled (by {@link #warmUpBf16()}, or {@link #warmUp()} with the rest). */
    private static volatile boolean warmBf16;
    /** Started by {@link #warmUpBf16InBackground} only, never by a count of scalar work. */
    private static final WarmUpTrigger WARM_UP_BF16 = new WarmUpTrigger(Long.MAX_VALUE);

    /** Whether the Gram passes over stored bf16 run compiled (tests). */
    static boolean warmForStoredBf16() {
        return warmBf16;
    }

    /** Gets {@link #pairGramBf16} compiled by C2 and switches the Gram passes over stored bf16 to it. */
    static synchronized void warmUpBf16() {
        if (warmBf16 || !VECTOR) {
            return;
        }
        MemorySegment[] bf16 = warmUpSegments(256);
        double[] g = new double[4];
        WarmUpTrigger.runUntilCompiled(() -> {
            for (int rep = 0; rep < 100; rep++) {
                MemorySegment s = bf16[rep % bf16.length];
                pairGramBf16(s, s, 0, 256, g);
            }
        }, 100L * 256, 120);
        if (!(g[0] > 0)) {
            throw new AssertionError();
        }
        warmBf16 = true;
    }

    /** {@code n} bf16 elements in each kind of memory the bf16 kernel reads: mappings (merges), native (sweeps). */
    private static MemorySegment[] warmUpSegments(int n) {
        float[] x = new float[n];
        java.util.Arrays.fill(x, 0.5f);
        MemorySegment nativeBf16 = Arena.ofAuto().allocate(2L * n, 64);
        FloatCodec.encode(DType.BF16, x, n, nativeBf16);
        MemorySegment mapped = WarmUpTrigger.mappedZeros(2L * n);
        return mapped == null ? new MemorySegment[] {nativeBf16} : new MemorySegment[] {nativeBf16, mapped};
    }

    /**
     * Gets the vector loops ({@link #dot}'s, the pair Grams') compiled by C2 (interpreted they are ~100× slower than
     * scalar code), then switches to them. Idempotent; a second caller waits for the first.
     */
    static synchronized void warmUp() {
        if (warm || !VECTOR) {
            return;
        }
        float[] x = new float[256];
        java.util.Arrays.fill(x, 0.5f);
        double[] g = new double[4];
        MemorySegment[] bf16 = warmUpSegments(x.length);
        WarmUpTrigger.runUntilCompiled(() -> {
            for (int rep = 0; rep < 100; rep++) {
                g[2] += dotVector(x, x, 0, x.length);
                pairGramVector(x, x, x.length, g);
                MemorySegment s = bf16[rep % bf16.length];
                pairGramBf16(s, s, 0, x.length, g);
            }
        }, 100L * 3 * x.length, 120);
        if (!(g[2] > 0)) {
            throw new AssertionError();
        }
        warm = true;
        warmBf16 = true;
    }

    /**
     * {@link #dotVector} lane by lane in scalar code, bit for bit: lane {@code l} of the first half of each float
     * vector accumulates into {@code acc[l]}, of the second half into {@code acc[half + l]} (an fma of an exact
     * product equals a multiply-add), the halves are added lane-wise and the lanes summed in order.
     */
    static double dotLanes(float[] a, float[] b, int from, int to) {
        int lanes = F.length();
        int half = D.length();
        double[] acc = new double[lanes];
        int i = from;
        for (int upper = to - lanes + 1; i < upper; i += lanes) {
            for (int l = 0; l < lanes; l++) {
                acc[l] += (double) a[i + l] * b[i + l];
            }
        }
        double s = 0;
        for (int l = 0; l < half; l++) {
            s += acc[l] + acc[half + l];
        }
        return s + dotScalar(a, b, i, to);
    }

    /**
     * The two-vector Gram matrix in one pass: adds {@code a·a}, {@code a·b}, {@code b·b} over {@code [0, n)} to
     * {@code g[0]}, {@code g[1]}, {@code g[3]} (row-major 2×2), each bit for bit what {@link #dot} gives, as
     * {@link #dotLanes} computes it: until the vector dot is compiled, one scalar pass reading each input once (half
     * the speed of three compiled vector dots, measured, but its warm-up costs more than this pass on a 1 GB merge).
     */
    static void pairGram(float[] a, float[] b, int n, double[] g) {
        if (warm) {
            pairGramVector(a, b, n, g);
            return;
        }
        WARM_UP.count(3L * n, Reductions::warmUp);
        int lanes = F.length();
        int half = D.length();
        double[] aa = new double[lanes];
        double[] ab = new double[lanes];
        double[] bb = new double[lanes];
        int i = 0;
        for (int upper = n - lanes + 1; i < upper; i += lanes) {
            for (int l = 0; l < lanes; l++) {
                double x = a[i + l];
                double y = b[i + l];
                aa[l] += x * x;
                ab[l] += x * y;
                bb[l] += y * y;
            }
        }
        double saa = 0;
        double sab = 0;
        double sbb = 0;
        for (int l = 0; l < half; l++) {
            saa += aa[l] + aa[half + l];
            sab += ab[l] + ab[half + l];
            sbb += bb[l] + bb[half + l];
        }
        g[0] += saa + dotScalar(a, a, i, n);
        g[1] += sab + dotScalar(a, b, i, n);
        g[3] += sbb + dotScalar(b, b, i, n);
    }

    /** {@link #pairGram} with compiled vectors: each of the three sums bit for bit what {@link #dotVector} gives. */
    static void pairGramVector(float[] a, float[] b, int n, double[] g) {
        DoubleVector aa0 = DoubleVector.zero(D);
        DoubleVector aa1 = DoubleVector.zero(D);
        DoubleVector ab0 = DoubleVector.zero(D);
        DoubleVector ab1 = DoubleVector.zero(D);
        DoubleVector bb0 = DoubleVector.zero(D);
        DoubleVector bb1 = DoubleVector.zero(D);
        int i = 0;
        for (int upper = n - F.length() + 1; i < upper; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector y = FloatVector.fromArray(F, b, i);
            DoubleVector x0 = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector x1 = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 1);
            DoubleVector y0 = (DoubleVector) y.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector y1 = (DoubleVector) y.convertShape(VectorOperators.F2D, D, 1);
            aa0 = x0.fma(x0, aa0);
            aa1 = x1.fma(x1, aa1);
            ab0 = x0.fma(y0, ab0);
            ab1 = x1.fma(y1, ab1);
            bb0 = y0.fma(y0, bb0);
            bb1 = y1.fma(y1, bb1);
        }
        g[0] += lanesInOrder(aa0.add(aa1)) + dotScalar(a, a, i, n);
        g[1] += lanesInOrder(ab0.add(ab1)) + dotScalar(a, b, i, n);
        g[3] += lanesInOrder(bb0.add(bb1)) + dotScalar(b, b, i, n);
    }

    /**
     * {@link #pairGramVector} of elements {@code [offset, offset + n)} of two stored bf16 tensors, read straight from
     * their memory: the same floats in the same lanes and order, so the same bits, without decoding the chunk into
     * arrays first (a 2 GB pair: 0.25 s against 0.6 s decoded, one thread, measured).
     */
    static void pairGramBf16(MemorySegment a, MemorySegment b, long offset, int n, double[] g) {
        // pairGramVector's loop with another load, repeated rather than shared: vectors passed to a helper stay
        // unboxed only if C2 inlines it, which it did not for the lowest-bit lanes (TaskVectorKernels)
        DoubleVector aa0 = DoubleVector.zero(D);
        DoubleVector aa1 = DoubleVector.zero(D);
        DoubleVector ab0 = DoubleVector.zero(D);
        DoubleVector ab1 = DoubleVector.zero(D);
        DoubleVector bb0 = DoubleVector.zero(D);
        DoubleVector bb1 = DoubleVector.zero(D);
        int i = 0;
        for (int upper = n - F.length() + 1; i < upper; i += F.length()) {
            FloatVector x = FloatCodec.bf16Lanes(a, offset + i);
            FloatVector y = FloatCodec.bf16Lanes(b, offset + i);
            DoubleVector x0 = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector x1 = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 1);
            DoubleVector y0 = (DoubleVector) y.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector y1 = (DoubleVector) y.convertShape(VectorOperators.F2D, D, 1);
            aa0 = x0.fma(x0, aa0);
            aa1 = x1.fma(x1, aa1);
            ab0 = x0.fma(y0, ab0);
            ab1 = x1.fma(y1, ab1);
            bb0 = y0.fma(y0, bb0);
            bb1 = y1.fma(y1, bb1);
        }
        int tail = n - i;
        float[] ta = new float[tail];
        float[] tb = new float[tail];
        FloatCodec.decode(DType.BF16, a, offset + i, ta, tail);
        FloatCodec.decode(DType.BF16, b, offset + i, tb, tail);
        g[0] += lanesInOrder(aa0.add(aa1)) + dotScalar(ta, ta, 0, tail);
        g[1] += lanesInOrder(ab0.add(ab1)) + dotScalar(ta, tb, 0, tail);
        g[3] += lanesInOrder(bb0.add(bb1)) + dotScalar(tb, tb, 0, tail);
    }

    /** The lanes summed first to last (see {@link #dotVector} on why not reduceLanes). */
    private static double lanesInOrder(DoubleVector v) {
        double s = 0;
        for (int lane = 0; lane < D.length(); lane++) {
            s += v.lane(lane);
        }
        return s;
    }

    static double dotVector(float[] a, float[] b, int from, int to) {
        DoubleVector acc0 = DoubleVector.zero(D);
        DoubleVector acc1 = DoubleVector.zero(D);
        int i = from;
        for (int upper = to - F.length() + 1; i < upper; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector y = FloatVector.fromArray(F, b, i);
            DoubleVector x0 = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector x1 = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 1);
            DoubleVector y0 = (DoubleVector) y.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector y1 = (DoubleVector) y.convertShape(VectorOperators.F2D, D, 1);
            acc0 = x0.fma(y0, acc0);
            acc1 = x1.fma(y1, acc1);
        }
        // not reduceLanes(ADD): its order for floating point is unspecified and may differ between the interpreter
        // and C2 code, which would make the same reduction give different bits within one run
        return lanesInOrder(acc0.add(acc1)) + dotScalar(a, b, i, to);
    }

    static double dotScalar(float[] a, float[] b, int from, int to) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            s0 += (double) a[i] * b[i];
            s1 += (double) a[i + 1] * b[i + 1];
            s2 += (double) a[i + 2] * b[i + 2];
            s3 += (double) a[i + 3] * b[i + 3];
        }
        for (; i < to; i++) {
            s0 += (double) a[i] * b[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static final ThreadLocal<float[][]> DIFFERENCES = new ThreadLocal<>();

    /**
     * Task vectors of one chunk: {@code in[i] − in[origin]}, with a zero row for the origin itself. The rows are this
     * thread's scratch (valid until its next call), so a reduction pass allocates nothing per chunk.
     */
    static float[][] differences(float[][] in, int origin, int n) {
        float[][] d = DIFFERENCES.get();
        if (d == null || d.length < in.length || d[0].length < n) {
            d = new float[in.length][Math.max(n, 1)];
            DIFFERENCES.set(d);
        }
        float[] b = in[origin];
        for (int i = 0; i < in.length; i++) {
            float[] x = in[i];
            float[] r = d[i];
            if (i == origin) {
                java.util.Arrays.fill(r, 0, n, 0f);
                continue;
            }
            for (int j = 0; j < n; j++) {
                r[j] = x[j] - b[j];
            }
        }
        return d;
    }

    /**
     * Per-vector Gram matrices for methods that work row by row or column by column. {@code layout} says which flat
     * elements form a vector; the result is {@code G[vector][i*k + j]}.
     */
    public static double[][] vectorGram(TensorJob job, VectorLayout layout, int origin) {
        int k = job.inputCount();
        int kk = k * k;
        int vectors = Math.toIntExact(layout.count());
        VectorSums total = job.reduce(new ChunkReducer<VectorSums>() {
            @Override
            public VectorSums newState(long offset, int length) {
                boolean whole = offset == 0 && length == Math.min(Integer.MAX_VALUE, job.numel());
                if (whole || !layout.contiguous()) {
                    return new VectorSums(0, vectors, kk); // the total, or a column chunk touching every vector
                }
                long first = layout.vectorOf(offset);
                long last = layout.vectorOf(offset + length - 1);
                return new VectorSums(first, (int) (last - first + 1), kk);
            }

            @Override
            public void accumulate(VectorSums state, long offset, float[][] in, int n) {
                float[][] v = origin >= 0 ? differences(in, origin, n) : in;
                double[] g = state.sums;
                if (layout.contiguous()) {
                    // vectors are runs of layout.length() elements: sum each run in one go
                    int j = 0;
                    while (j < n) {
                        long flat = offset + j;
                        int at = (int) (layout.vectorOf(flat) - state.first) * kk;
                        int runEnd = (int) Math.min(n, (long) j + layout.length() - (flat % layout.length()));
                        for (int a = 0; a < k; a++) {
                            for (int b = a; b < k; b++) {
                                g[at + a * k + b] += dot(v[a], v[b], j, runEnd);
                            }
                        }
                        j = runEnd;
                    }
                } else {
                    for (int j = 0; j < n; j++) {
                        int at = (int) layout.vectorOf(offset + j) * kk;
                        for (int a = 0; a < k; a++) {
                            for (int b = a; b < k; b++) {
                                g[at + a * k + b] += (double) v[a][j] * v[b][j];
                            }
                        }
                    }
                }
            }

            @Override
            public void combine(VectorSums into, VectorSums next) {
                int shift = (int) (next.first - into.first) * kk;
                for (int i = 0; i < next.sums.length; i++) {
                    into.sums[shift + i] += next.sums[i];
                }
            }
        });
        double[][] out = new double[vectors][];
        for (int vec = 0; vec < vectors; vec++) {
            double[] g = java.util.Arrays.copyOfRange(total.sums, vec * kk, (vec + 1) * kk);
            for (int a = 0; a < k; a++) {
                for (int b = a + 1; b < k; b++) {
                    g[b * k + a] = g[a * k + b];
                }
            }
            out[vec] = g;
        }
        return out;
    }

    /** Upper-triangle Gram sums of the vectors {@code [first, first + count)}, {@code k·k} doubles each. */
    private record VectorSums(long first, int count, double[] sums) {
        VectorSums(long first, int count, int kk) {
            this(first, count, new double[Math.multiplyExact(count, kk)]);
        }
    }
}
