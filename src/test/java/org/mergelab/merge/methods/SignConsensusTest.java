package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The consensus mix's Vector API lanes against its scalar loop, which runs every element until the lanes are compiled:
 * the same bits for both votes, every divisor rule, with and without per-element factors, on odd lengths and on
 * signed zeros, subnormals, infinities and NaN.
 */
class SignConsensusTest {
    private static final float[] SPECIAL = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-40f, Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, -2.5e-3f};

    @Test
    void vectorLanesGiveTheScalarLoopsBits() {
        Random r = new Random(9);
        int compared = 0;
        for (int n : new int[] {1, 3, 8, 17, 100, 1001}) {
            for (int k : new int[] {1, 2, 3}) {
                float[][] tau = new float[k][n];
                double[][] factors = new double[k][];
                for (int m = 0; m < k; m++) {
                    for (int j = 0; j < n; j++) {
                        tau[m][j] = r.nextInt(5) == 0 ? SPECIAL[r.nextInt(SPECIAL.length)]
                                : r.nextInt(3) == 0 ? 0f : (float) r.nextGaussian();
                    }
                    if (m % 2 == 1) {
                        factors[m] = new double[n];
                        for (int j = 0; j < n; j++) {
                            factors[m][j] = r.nextInt(4) == 0 ? 0 : 1 + r.nextDouble();
                        }
                    }
                }
                float[] b = new float[n];
                for (int j = 0; j < n; j++) {
                    b[j] = r.nextInt(7) == 0 ? SPECIAL[r.nextInt(SPECIAL.length)] : (float) r.nextGaussian();
                }
                double[] a = new double[k];
                double[] g = new double[k];
                double[] h = new double[k];
                for (int m = 0; m < k; m++) {
                    a[m] = r.nextGaussian();
                    g[m] = r.nextDouble();
                    h[m] = m == 0 ? 0 : r.nextDouble();
                }
                for (SignConsensus vote : SignConsensus.values()) {
                    for (SignConsensus.Divide divide : SignConsensus.Divide.values()) {
                        float[] vector = new float[n];
                        float[] scalar = new float[n];
                        int done = vote.mixVector(tau, factors, k, a, g, h, divide, 0.7, b, vector, n);
                        vote.mixScalar(tau, factors, k, a, g, h, divide, 0.7, b, vector, done, n);
                        vote.mixScalar(tau, factors, k, a, g, h, divide, 0.7, b, scalar, 0, n);
                        for (int j = 0; j < n; j++) {
                            assertEquals(Float.floatToRawIntBits(scalar[j]), Float.floatToRawIntBits(vector[j]),
                                    vote + " " + divide + " k=" + k + " n=" + n + " at " + j);
                        }
                        compared += done;
                    }
                }
            }
        }
        assertTrue(compared > 0 || !org.mergelab.io.FloatCodec.VECTOR, "the vector lanes ran");
    }
}
