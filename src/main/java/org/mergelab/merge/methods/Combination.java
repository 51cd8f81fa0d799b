package org.mergelab.merge.methods;

import org.mergelab.merge.ChunkKernel;

/**
 * The kernel most interpolation methods end in: once their whole-tensor statistics fix the coefficients, the output
 * is {@code Σ c_i·x_i} elementwise.
 */
final class Combination {
    private Combination() {}

    static ChunkKernel of(double[] coefficients) {
        int k = coefficients.length;
        float[] c = new float[k];
        for (int i = 0; i < k; i++) {
            c[i] = (float) coefficients[i];
        }
        return (offset, in, out, n) -> {
            java.util.Arrays.fill(out, 0, n, 0f);
            for (int i = 0; i < k; i++) {
                float ci = c[i];
                if (ci == 0f) {
                    continue;
                }
                float[] x = in[i];
                for (int j = 0; j < n; j++) {
                    out[j] += ci * x[j];
                }
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

    /** Index of the input that is not {@code base} in a two-input merge. */
    static int other(int base) {
        return base == 0 ? 1 : 0;
    }
}
