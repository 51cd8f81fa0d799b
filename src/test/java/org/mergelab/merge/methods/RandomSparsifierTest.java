package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mergelab.cli.Float64Reference;
import org.mergelab.merge.CounterRandom;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ResolvedParams;
import org.mergelab.merge.TensorMerger;

/**
 * DARE's Bernoulli drop and DELLA's MagPrune: keep rates, rescale rules, the per-row DELLA probabilities, and the
 * determinism guarantees (same seed ⇒ same bits for any threads and chunking; another seed ⇒ another mask). Models are
 * merged alone with weight 1 on a zero base, so the output is the sparsified task vector itself.
 */
class RandomSparsifierTest {
    static final MergeMethod DARE = MethodRegistry.find("dare_linear").orElseThrow();
    static final MergeMethod DELLA = MethodRegistry.find("della_linear").orElseThrow();

    static float[] run(MergeMethod m, ResolvedParams p, long[] shape, float[] tau, int chunk, int threads, long seed) {
        List<float[]> in = List.of(new float[tau.length], tau);
        return TensorMerger.merge(m, p, 0, shape, in, chunk, threads == 1 ? null : pool(), threads, seed);
    }

    static ResolvedParams dare(double density, Object... globals) {
        return params(globals(DARE, globals), List.of(Map.of(), map("weight", 1.0, "density", density)));
    }

    static ResolvedParams della(double density, double eps, Object... globals) {
        return params(globals(DELLA, globals), List.of(Map.of(), map("weight", 1.0, "density", density, "epsilon",
                eps)));
    }

    static float[] uniformish(Random r, int n) {
        float[] t = new float[n];
        for (int i = 0; i < n; i++) {
            t[i] = (float) ((0.5 + r.nextDouble()) * (r.nextBoolean() ? 1 : -1));
        }
        return t;
    }

    static int kept(float[] out) {
        int k = 0;
        for (float v : out) {
            k += v != 0 ? 1 : 0;
        }
        return k;
    }

    // ---------------------------------------------------------------- DARE

    @Test
    void dareKeepsAFractionDensityOfAMillionElements() {
        int n = 1_000_000;
        float[] tau = uniformish(new Random(1), n);
        for (double density : new double[] {0.1, 0.3, 0.5, 0.9}) {
            float[] out = run(DARE, dare(density, "rescale", false), new long[] {1000, 1000}, tau, 1 << 16, 4, 42);
            double sigma = Math.sqrt(n * density * (1 - density));
            int k = kept(out);
            assertTrue(Math.abs(k - n * density) < 4 * sigma, "density " + density + ": kept " + k + " of " + n
                    + ", expected " + n * density + " ± " + 4 * sigma);
            for (int i = 0; i < n; i++) {
                if (out[i] != 0 && out[i] != tau[i]) {
                    throw new AssertionError("rescale: false changed a kept value at " + i);
                }
            }
        }
    }

    @Test
    void dareMaskIsTheCounterRandomDraw() {
        int n = 5000;
        float[] tau = uniformish(new Random(2), n);
        long key = CounterRandom.key(42, "tensor", 1); // input 1: the model (input 0 is the base)
        boolean[] expected = Float64Reference.bernoulliMask(key, n, 0.37);
        float[] out = run(DARE, dare(0.37, "rescale", false), new long[] {n}, tau, 7, 1, 42);
        for (int i = 0; i < n; i++) {
            assertEquals(expected[i] ? tau[i] : 0f, out[i], "element " + i);
        }
    }

    @Test
    void dareL1RescaleMatchesTheNormExactly() {
        int n = 40_000;
        float[] tau = uniformish(new Random(3), n);
        long key = CounterRandom.key(42, "tensor", 1);
        boolean[] keep = Float64Reference.bernoulliMask(key, n, 0.3);
        double before = 0;
        double after = 0;
        for (int i = 0; i < n; i++) {
            before += Math.abs(tau[i]);
            after += keep[i] ? Math.abs(tau[i]) : 0;
        }
        double factor = before / after;
        float[] out = run(DARE, dare(0.3), new long[] {200, 200}, tau, 999, 2, 42); // rescale: true, l1 by default
        double sum = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(keep[i] ? (float) (tau[i] * factor) : 0f, out[i], Math.ulp(out[i]), "element " + i);
            sum += Math.abs(out[i]);
        }
        assertRelEquals(before, sum, 1e-6, "‖masked τ‖₁ after rescale = ‖τ‖₁");
        // mergekit's 1e-7 guard: a task vector of norm below it is masked but not rescaled
        float[] tiny = new float[1000];
        Arrays.fill(tiny, 1e-11f);
        float[] t = run(DARE, dare(0.5), new long[] {1000}, tiny, 7, 1, 42);
        for (float v : t) {
            assertTrue(v == 0 || v == 1e-11f, "no rescale below the guard: " + v);
        }
    }

    @Test
    void dareInverseDensityRescaleIsExact() {
        int n = 20_000;
        float[] tau = uniformish(new Random(4), n);
        for (double density : new double[] {0.25, 0.5, 0.3}) {
            float[] out = run(DARE, dare(density, "rescale_mode", "inverse_density"), new long[] {n}, tau, 1000, 2,
                    42);
            boolean[] keep = Float64Reference.bernoulliMask(CounterRandom.key(42, "tensor", 1), n, density);
            for (int i = 0; i < n; i++) {
                float expected = keep[i] ? (float) (tau[i] / density) : 0f;
                if (density == 0.3) {
                    assertEquals(expected, out[i], Math.ulp(expected), "element " + i); // 1/0.3 is not exact
                } else {
                    assertEquals(expected, out[i], "element " + i);
                }
            }
        }
    }

    @Test
    void sameSeedGivesTheSameBitsForAnyThreadsAndChunks() {
        long[] shape = {64, 250};
        float[] tau = uniformish(new Random(5), numel(shape));
        for (ResolvedParams p : List.of(dare(0.4, "rescale", false), dare(0.4, "rescale_mode", "inverse_density"),
                della(0.4, 0.2, "rescale", false), della(0.4, 0.2, "rescale_mode", "inverse_density"))) {
            MergeMethod m = p.perModel().get(1).containsKey("epsilon") ? DELLA : DARE;
            float[] first = run(m, p, shape, tau, 250, 1, 42);
            for (int chunk : new int[] {250, 500, 2750, 1 << 16}) {
                for (int threads : new int[] {1, 2, 4}) {
                    assertArrayEquals(first, run(m, p, shape, tau, chunk, threads, 42), m.name() + " " + p.globals()
                            + " chunk " + chunk + " threads " + threads);
                }
            }
            float[] other = run(m, p, shape, tau, 250, 1, 43);
            assertFalse(Arrays.equals(first, other), m.name() + ": another seed, another mask");
            int differ = 0;
            for (int i = 0; i < first.length; i++) {
                differ += (first[i] == 0) != (other[i] == 0) ? 1 : 0;
            }
            assertTrue(differ > first.length / 4, m.name() + ": masks of two seeds should be unrelated: " + differ);
        }
        // with the L1 rescale the same mask comes out, and the factor (a float64 sum) is chunk-order dependent only
        // in its last bits
        float[] a = run(DARE, dare(0.4), shape, tau, 250, 1, 42);
        assertArrayEquals(a, run(DARE, dare(0.4), shape, tau, 250, 4, 42));
        float[] b = run(DARE, dare(0.4), shape, tau, 1 << 16, 4, 42);
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i] == 0, b[i] == 0);
            assertEquals(a[i], b[i], 2 * Math.ulp(a[i]));
        }
    }

    @Test
    void modelsAndTensorsDrawIndependentMasks() {
        long[] shape = {10_000};
        float[] tau = uniformish(new Random(6), 10_000);
        List<float[]> in = List.of(new float[10_000], tau, tau);
        ResolvedParams p = params(globals(DARE, "rescale", false, "normalize", false),
                List.of(Map.of(), map("weight", 1.0, "density", 0.5), map("weight", 1.0, "density", 0.5)));
        float[] out = TensorMerger.merge(DARE, p, 0, shape, in, 1000, null, 1, 42);
        int both = 0;
        int one = 0;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 2 * tau[i]) {
                both++;
            } else if (out[i] == tau[i]) {
                one++;
            }
        }
        // independent masks: a quarter kept by both, half by exactly one
        assertEquals(2500, both, 4 * Math.sqrt(10_000 * 0.25 * 0.75));
        assertEquals(5000, one, 4 * Math.sqrt(10_000 * 0.25));
        assertTrue(CounterRandom.key(42, "a.weight", 1) != CounterRandom.key(42, "b.weight", 1));
    }

    // ---------------------------------------------------------------- DELLA

    /**
     * Rows of 50 elements with a random magnitude order: each ascending rank r keeps with probability
     * {@code (d − ε) + 2ε(r−1)/49}, checked per rank over 4000 rows (within 4.5σ), and the row mean is the density.
     */
    @Test
    void dellaKeepProbabilityRisesWithRankWithinEachRow() {
        int rows = 4000;
        int len = 50;
        double density = 0.5;
        double eps = 0.2;
        Random r = new Random(7);
        float[] tau = new float[rows * len];
        int[][] rankOf = new int[rows][len];
        for (int row = 0; row < rows; row++) {
            int[] perm = new int[len];
            for (int i = 0; i < len; i++) {
                perm[i] = i;
            }
            for (int i = len - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            for (int i = 0; i < len; i++) {
                // element i has the perm[i]-th smallest magnitude of its row
                tau[row * len + i] = (float) ((1 + perm[i]) * 0.01 * (r.nextBoolean() ? 1 : -1));
                rankOf[row][i] = perm[i];
            }
        }
        float[] out = run(DELLA, della(density, eps, "rescale", false), new long[] {rows, len}, tau, 1000, 4, 42);
        int[] keptAtRank = new int[len];
        for (int row = 0; row < rows; row++) {
            for (int i = 0; i < len; i++) {
                if (out[row * len + i] != 0) {
                    keptAtRank[rankOf[row][i]]++;
                }
            }
        }
        int total = 0;
        for (int rank = 0; rank < len; rank++) {
            double p = (density - eps) + 2 * eps * rank / (len - 1);
            double sigma = Math.sqrt(rows * p * (1 - p));
            assertEquals(rows * p, keptAtRank[rank], 4.5 * sigma, "rank " + (rank + 1));
            total += keptAtRank[rank];
        }
        assertEquals(rows * len * density, total, 4 * Math.sqrt(rows * len * 0.25), "mean keep rate = density");
        // the lowest and highest ranks are far apart: about 0.3 vs 0.7
        assertTrue(keptAtRank[0] < 0.36 * rows && keptAtRank[len - 1] > 0.64 * rows,
                keptAtRank[0] + " vs " + keptAtRank[len - 1]);
    }

    @Test
    void dellaMaskIsDeterministicAndMatchesTheReference() {
        long[] shape = {30, 40};
        Random r = new Random(8);
        float[] tau = new float[1200];
        for (int i = 0; i < tau.length; i++) {
            tau[i] = (r.nextInt(9) - 4) / 8f; // many ties and zeros within each row
        }
        for (String mode : new String[] {"none", "l1", "inverse_density"}) {
            Object[] g = mode.equals("none") ? new Object[] {"rescale", false}
                    : new Object[] {"rescale_mode", mode};
            ResolvedParams p = della(0.45, 0.3, g);
            float[] out = run(DELLA, p, shape, tau, 40, 1, 42);
            double[] ref = Float64Reference.sparsify(new Float64Reference.Gta("della", null, false, 1, mode), d(tau),
                    0.45, 0.3, 42, "tensor", 1, shape);
            assertCloseAbs(ref, out, 1e-6, "della " + mode);
            for (int chunk : new int[] {80, 1200}) {
                float[] again = run(DELLA, p, shape, tau, chunk, 3, 42);
                if (mode.equals("l1")) {
                    assertCloseAbs(d(out), again, 1e-6, "della l1 chunk " + chunk);
                } else {
                    assertArrayEquals(out, again, "della " + mode + " chunk " + chunk);
                }
            }
        }
    }

    @Test
    void dellaEdgeCases() {
        float[] tau = uniformish(new Random(9), 300);
        // density ≤ 0 zeroes the task vector; density 1 leaves it alone
        assertZeros(run(DELLA, della(0, 0.15), new long[] {300}, tau, 300, 1, 42), "density 0");
        assertArrayEquals(tau, run(DELLA, della(1, 0.15), new long[] {300}, tau, 300, 1, 42));
        // rows of one element keep with probability density
        float[] out = run(DELLA, della(0.3, 0.2, "rescale", false), new long[] {300, 1}, tau, 7, 1, 42);
        boolean[] expected = Float64Reference.bernoulliMask(CounterRandom.key(42, "tensor", 1), 300, 0.3);
        for (int i = 0; i < 300; i++) {
            assertEquals(expected[i] ? tau[i] : 0f, out[i]);
        }
        // a 1-D tensor is one row
        float[] flat = run(DELLA, della(0.3, 0.2, "rescale", false), new long[] {300}, tau, 7, 1, 42);
        double[] ref = Float64Reference.sparsify(new Float64Reference.Gta("della", null, false, 1, "none"), d(tau),
                0.3, 0.2, 42, "tensor", 1, new long[] {300});
        assertCloseAbs(ref, flat, 0, "1-D della");
    }
}
