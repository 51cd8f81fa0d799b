package org.mergelab.merge.methods;

import org.mergelab.merge.ChunkKernel;

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
            case 2 -> {
                int a = active[0];
                int b = active[1];
                float ca = c[a];
                float cb = c[b];
                yield (offset, in, out, n) -> {
                    float[] x = in[a];
                    float[] y = in[b];
                    for (int j = 0; j < n; j++) {
                        out[j] = (0f + ca * x[j]) + cb * y[j];
                    }
                };
            }
            default -> (offset, in, out, n) -> accumulate(c, in, out, n);
        };
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
