package org.mergelab.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.junit.jupiter.api.Test;

class ReductionsTest {
    @Test
    void vectorDotMatchesScalarDotAndExactSum() {
        Random r = new Random(7);
        for (int n : new int[] {0, 1, 15, 16, 17, 255, 1000, 4099}) {
            float[] a = new float[n];
            float[] b = new float[n];
            double exact = 0;
            for (int i = 0; i < n; i++) {
                a[i] = (float) r.nextGaussian();
                b[i] = (float) (r.nextGaussian() * 1e-3);
                exact += (double) a[i] * b[i];
            }
            int from = Math.min(3, n);
            double expectedTail = exact;
            for (int i = 0; i < from; i++) {
                expectedTail -= (double) a[i] * b[i];
            }
            double tol = 1e-12 * (1 + Math.abs(exact)) * Math.max(1, n);
            assertEquals(exact, Reductions.dotScalar(a, b, 0, n), tol, "scalar n=" + n);
            assertEquals(exact, Reductions.dotVector(a, b, 0, n), tol, "vector n=" + n);
            assertEquals(expectedTail, Reductions.dotVector(a, b, from, n), tol, "vector from=" + from);
        }
    }

    @Test
    void dotAccumulatesInDoublePrecision() {
        // 1e6 products of 1.0001f·1.0001f: a float accumulator would be off by far more than 1e-6 relative
        int n = 1_000_000;
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1.0001f);
        double exact = (double) 1.0001f * 1.0001f * n;
        assertEquals(exact, Reductions.dot(a, a, 0, n), exact * 1e-12);
    }
}
