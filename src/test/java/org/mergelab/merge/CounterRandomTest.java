package org.mergelab.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CounterRandomTest {
    /** retain's vector lanes and scalar tail keep exactly the elements whose uniform draw is below p. */
    @Test
    void retainKeepsExactlyTheDrawsBelowP() {
        long key = CounterRandom.key(7, "model.layers.0.mlp.up_proj.weight", 2);
        for (double p : new double[] {0, 1e-9, 0.1, 0.3, 0.5, 0.999999, 1, 1.5}) {
            for (long first : new long[] {0, 13, 1L << 33}) {
                for (int n : new int[] {0, 1, 7, 8, 31, 1000}) {
                    float[] v = new float[n];
                    for (int j = 0; j < n; j++) {
                        v[j] = j + 1;
                    }
                    CounterRandom.retain(key, first, v, n, p);
                    for (int j = 0; j < n; j++) {
                        boolean keep = CounterRandom.uniform(key, first + j) < p;
                        assertEquals(keep ? j + 1 : 0f, v[j], "p " + p + " first " + first + " j " + j);
                    }
                }
            }
        }
    }

    /** The per-element-probability variant keeps exactly the elements whose draw is below their own p. */
    @Test
    void retainWithPerElementProbabilities() {
        long key = CounterRandom.key(9, "w", 1);
        java.util.Random r = new java.util.Random(3);
        for (int n : new int[] {1, 8, 9, 100, 1001}) {
            for (int from : new int[] {0, 5}) {
                double[] p = new double[from + n];
                float[] v = new float[from + n];
                for (int j = 0; j < p.length; j++) {
                    p[j] = j % 7 == 0 ? CounterRandom.uniform(key, 1000 + j - from) : r.nextDouble();
                    v[j] = j + 1;
                }
                CounterRandom.retain(key, 1000, v, p, from, n);
                for (int j = 0; j < from; j++) {
                    assertEquals(j + 1, v[j], "untouched before from");
                }
                for (int j = 0; j < n; j++) {
                    boolean keep = CounterRandom.uniform(key, 1000 + j) < p[from + j];
                    assertEquals(keep ? from + j + 1 : 0f, v[from + j], "n " + n + " from " + from + " j " + j);
                }
            }
        }
    }

    /** Draws at exactly p: a uniform equal to p is dropped (strict <), in both paths. */
    @Test
    void retainComparesStrictly() {
        long key = 12345;
        double u = CounterRandom.uniform(key, 3);
        float[] v = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        CounterRandom.retain(key, 0, v, 10, u);
        assertEquals(0f, v[3]);
        float[] w = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        CounterRandom.retain(key, 0, w, 10, Math.nextUp(u));
        assertEquals(1f, w[3]);
    }

    @Test
    void drawsAreUniformAndStreamsDiffer() {
        long a = CounterRandom.key(42, "t", 0);
        long b = CounterRandom.key(42, "t", 1);
        assertNotEquals(a, b);
        assertNotEquals(a, CounterRandom.key(43, "t", 0));
        double sum = 0;
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            double u = CounterRandom.uniform(a, i);
            assertTrue(u >= 0 && u < 1);
            sum += u;
        }
        assertEquals(0.5, sum / n, 4 * Math.sqrt(1.0 / 12 / n));
    }
}
