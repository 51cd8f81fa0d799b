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

    /** The vector lanes draw exactly what the scalar loops draw (they only run once warmed up, so call them here). */
    @Test
    void vectorLanesMatchTheScalarDraws() {
        long key = CounterRandom.key(5, "model.embed_tokens.weight", 1);
        java.util.Random r = new java.util.Random(4);
        for (int n : new int[] {0, 1, 7, 8, 9, 100, 1001}) {
            for (double p : new double[] {0, 0.25, 0.5, 1}) {
                float[] lanes = new float[n];
                java.util.Arrays.fill(lanes, 2f);
                long limit = (long) Math.ceil(p * 0x1p53);
                int done = CounterRandom.retainLanes(key, 77, lanes, n, limit);
                for (int j = 0; j < done; j++) {
                    assertEquals(CounterRandom.uniform(key, 77 + j) < p ? 2f : 0f, lanes[j], "n " + n + " j " + j);
                }
                assertTrue(n - done < 64, "the lanes cover all but a tail");
            }
            double[] probs = new double[n + 3];
            for (int j = 0; j < probs.length; j++) {
                probs[j] = r.nextDouble();
            }
            float[] lanes = new float[n + 3];
            java.util.Arrays.fill(lanes, 3f);
            int done = CounterRandom.retainLanes(key, 5, lanes, probs, 3, n);
            for (int j = 0; j < done; j++) {
                assertEquals(CounterRandom.uniform(key, 5 + j) < probs[3 + j] ? 3f : 0f, lanes[3 + j], "j " + j);
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
