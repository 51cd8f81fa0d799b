package org.mergelab.merge.methods;

import static org.mergelab.merge.methods.TaskVectorKernels.F;
import static org.mergelab.merge.methods.TaskVectorKernels.I;

import java.lang.foreign.MemorySegment;

import org.mergelab.io.FloatCodec;
import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.methods.TaskVectorKernels.Lanes;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The kernel most interpolation methods end in: once their whole-tensor statistics fix the coefficients, the output
 * is {@code Σ c_i·x_i} elementwise.
 */
final class Combination {
    private Combination() {}

    /**
     * Above this {@code Σ|c_i|}, float32 accumulation loses the result to cancellation (near-degenerate geometry:
     * nearly antipodal inputs, a LERP just above its zero threshold), so the sum runs in float64 instead.
     */
    static final double FLOAT_SAFE_L1 = 4;

    static ChunkKernel of(double[] coefficients) {
        int k = coefficients.length;
        float[] c = new float[k];
        double l1 = 0;
        for (int i = 0; i < k; i++) {
            c[i] = (float) coefficients[i];
            l1 += Math.abs(coefficients[i]);
        }
        if (!(l1 <= FLOAT_SAFE_L1)) {
            return wide(coefficients.clone());
        }
        int[] active = java.util.stream.IntStream.range(0, k).filter(i -> c[i] != 0f).toArray();
        // one pass per element for the usual one or two terms, the same float operations in the same order as
        // accumulate (0f + c·x first: a −0 product gives +0 there too)
        return switch (active.length) {
            case 1 -> {
                int a = active[0];
                float ca = c[a];
                yield (offset, in, out, n) -> {
                    float[] x = in[a];
                    for (int j = 0; j < n; j++) {
                        out[j] = 0f + ca * x[j];
                    }
                };
            }
            case 2 -> new TwoTerms(active[0], active[1], c[active[0]], c[active[1]]);
            default -> (offset, in, out, n) -> accumulate(c, in, out, n);
        };
    }

    /**
     * {@code out = (0 + ca·x_a) + cb·x_b} in float32; over two stored bf16 inputs it reads them straight from memory
     * once its lanes are compiled (a 2 GB pair of mapped tensors, one thread, with the encoding: 0.44 s against 0.9 s
     * decoded first, measured).
     */
    private record TwoTerms(int a, int b, float ca, float cb) implements ChunkKernel {
        @Override
        public void apply(long offset, float[][] in, float[] out, int n) {
            float[] x = in[a];
            float[] y = in[b];
            for (int j = 0; j < n; j++) {
                out[j] = (0f + ca * x[j]) + cb * y[j];
            }
        }

        @Override
        public boolean applyBf16(long offset, MemorySegment[] bf16, float[] out, int n, int[] largest) {
            // every input's largest magnitude is wanted: only when both inputs are the terms
            if (!TaskVectorKernels.VECTOR || bf16.length != 2 || !Lanes.TWO_TERMS_BF16.runsOrProbes(n,
                    () -> twoTermsBf16(bf16[a], bf16[b], offset, TaskVectorKernels.PROBE, ca, cb, out, new int[2], 0,
                            1))) {
                return false;
            }
            twoTermsBf16(bf16[a], bf16[b], offset, n, ca, cb, out, largest, a, b);
            return true;
        }
    }

    /**
     * {@link TwoTerms#apply} over elements {@code [offset, offset + n)} of stored bf16 tensors {@code x} and {@code y}:
     * the same float operations per element; their largest magnitude bits go to {@code largest[ix]} and
     * {@code largest[iy]}.
     */
    static void twoTermsBf16(MemorySegment x, MemorySegment y, long offset, int n, float cx, float cy, float[] out,
            int[] largest, int ix, int iy) {
        FloatVector zero = FloatVector.zero(F);
        IntVector lx = IntVector.zero(I);
        IntVector ly = IntVector.zero(I);
        int i = 0;
        for (int upper = n - F.length() + 1; i < upper; i += F.length()) {
            FloatVector u = FloatCodec.bf16Lanes(x, offset + i);
            FloatVector v = FloatCodec.bf16Lanes(y, offset + i);
            lx = lx.max(u.reinterpretAsInts().and(0x7fffffff));
            ly = ly.max(v.reinterpretAsInts().and(0x7fffffff));
            zero.add(u.mul(cx)).add(v.mul(cy)).intoArray(out, i);
        }
        int mx = lx.reduceLanes(VectorOperators.MAX);
        int my = ly.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            int ux = FloatCodec.bf16Bits(x, offset + i);
            int vy = FloatCodec.bf16Bits(y, offset + i);
            mx = Math.max(mx, ux & 0x7fffffff);
            my = Math.max(my, vy & 0x7fffffff);
            out[i] = (0f + cx * Float.intBitsToFloat(ux)) + cy * Float.intBitsToFloat(vy);
        }
        largest[ix] = mx;
        largest[iy] = my;
    }

    /** {@code out = Σ c_i·x_i} term by term in float32, skipping zero coefficients: the reference the fast paths match. */
    static void accumulate(float[] c, float[][] in, float[] out, int n) {
        java.util.Arrays.fill(out, 0, n, 0f);
        for (int i = 0; i < c.length; i++) {
            float ci = c[i];
            if (ci == 0f) {
                continue;
            }
            float[] x = in[i];
            for (int j = 0; j < n; j++) {
                out[j] += ci * x[j];
            }
        }
    }

    /** The same sum accumulated in float64 with unrounded coefficients, rounded to float once per element. */
    private static ChunkKernel wide(double[] c) {
        int k = c.length;
        if (k == 2) {
            double c0 = c[0];
            double c1 = c[1];
            return (offset, in, out, n) -> {
                float[] x0 = in[0];
                float[] x1 = in[1];
                for (int j = 0; j < n; j++) {
                    out[j] = (float) (c0 * x0[j] + c1 * x1[j]);
                }
            };
        }
        return (offset, in, out, n) -> {
            double[] acc = new double[n];
            for (int i = 0; i < k; i++) {
                double ci = c[i];
                if (ci == 0) {
                    continue;
                }
                float[] x = in[i];
                for (int j = 0; j < n; j++) {
                    acc[j] += ci * x[j];
                }
            }
            for (int j = 0; j < n; j++) {
                out[j] = (float) acc[j];
            }
        };
    }

    /** Coefficients for {@code (1−t)·x_a + t·x_b} over {@code k} inputs. */
    static double[] lerp(int k, int a, int b, double t) {
        double[] c = new double[k];
        c[a] += 1 - t;
        c[b] += t;
        return c;
    }
}
