package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mergelab.cli.Float64Reference;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ResolvedParams;

/**
 * The magnitude sparsifiers (TIES trim, breadcrumbs) against sort-based references, on data built to tie: every
 * element of one model merged alone with weight 1 comes out as exactly {@code x} (kept) or {@code b} (dropped), so the
 * kept set is compared exactly, for several chunk sizes and thread counts.
 */
class MagnitudeSparsifierTest {
    /** A task vector drawn from a few magnitudes (many exact ties, some zeros), on a base of grid values. */
    static List<float[]> tiedInputs(Random r, int n, int distinct) {
        float[] b = new float[n];
        float[] x = new float[n];
        for (int j = 0; j < n; j++) {
            b[j] = (r.nextInt(2001) - 1000) / 1024f;
            float mag = r.nextInt(distinct) / 64f;
            x[j] = b[j] + (r.nextBoolean() ? mag : -mag);
        }
        return List.of(b, x);
    }

    static double[] tau(List<float[]> in) {
        double[] t = new double[in.get(0).length];
        for (int j = 0; j < t.length; j++) {
            t[j] = (double) in.get(1)[j] - in.get(0)[j];
        }
        return t;
    }

    /** Which elements survived: the output equals x (kept) or b (dropped); a zero task vector counts as either. */
    static void assertKept(boolean[] expected, List<float[]> in, float[] out, String what) {
        float[] b = in.get(0);
        float[] x = in.get(1);
        for (int j = 0; j < out.length; j++) {
            float want = expected[j] ? x[j] : b[j];
            if (out[j] != want) {
                fail(what + ": element " + j + " (|τ| " + Math.abs(x[j] - b[j]) + ") should be "
                        + (expected[j] ? "kept" : "dropped") + ": expected " + want + " but was " + out[j]);
            }
        }
    }

    static float[] mergeAt(MergeMethod m, ResolvedParams p, long[] shape, List<float[]> in, int chunk, int threads) {
        return mergeOnce(m, p, 0, shape, in, chunk, threads == 1 ? null : pool(), threads);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.001, 0.1, 0.3, 0.5, 0.77, 0.999, 1.0})
    void tiesTrimKeepsTheTopKWithLowerIndexFirstAmongTies(double density) {
        MergeMethod ties = MethodRegistry.find("ties").orElseThrow();
        Random r = new Random(Double.hashCode(density));
        long[] shape = {37, 53};
        List<float[]> in = tiedInputs(r, numel(shape), 9);
        ResolvedParams p = params(globals(ties), List.of(Map.of(), map("weight", 1.0, "density", density)));
        boolean[] expected = Float64Reference.magnitudeMask(tau(in), density);
        for (int chunk : new int[] {1, 7, 53, 1000, 1 << 16}) {
            for (int threads : new int[] {1, 3}) {
                assertKept(expected, in, mergeAt(ties, p, shape, in, chunk, threads), "density " + density + " chunk "
                        + chunk + " threads " + threads);
            }
        }
    }

    /** 300k elements of 5 magnitudes: the threshold ties split across hundreds of chunks of a 4-thread run. */
    @Test
    void tiesTrimOnALargeTensorWithFewDistinctMagnitudes() {
        MergeMethod ties = MethodRegistry.find("ties").orElseThrow();
        Random r = new Random(11);
        long[] shape = {300, 1000};
        List<float[]> in = tiedInputs(r, numel(shape), 5);
        double density = 0.4321;
        ResolvedParams p = params(globals(ties), List.of(Map.of(), map("weight", 1.0, "density", density)));
        boolean[] expected = Float64Reference.magnitudeMask(tau(in), density);
        int kept = 0;
        for (boolean e : expected) {
            kept += e ? 1 : 0;
        }
        assertEquals((int) Math.floor(density * 300_000), kept);
        for (int chunk : new int[] {1000, 7000, 1 << 18}) {
            assertKept(expected, in, mergeAt(ties, p, shape, in, chunk, 4), "chunk " + chunk);
        }
    }

    /** Without the kept chunk lists (cap 0), a third pass counts the threshold's ties per chunk: same result. */
    @Test
    void tieCountingPassGivesTheSameSelection() {
        MergeMethod ties = MethodRegistry.find("ties").orElseThrow();
        MergeMethod bc = MethodRegistry.find("breadcrumbs").orElseThrow();
        Random r = new Random(14);
        long[] shape = {50, 400};
        List<float[]> in = tiedInputs(r, numel(shape), 4);
        long saved = TopKSelection.retainedMax;
        TopKSelection.retainedMax = 0;
        try {
            for (double density : new double[] {0.2, 0.61}) {
                ResolvedParams p = params(globals(ties), List.of(Map.of(), map("weight", 1.0, "density", density)));
                assertKept(Float64Reference.magnitudeMask(tau(in), density), in, mergeAt(ties, p, shape, in, 800, 3),
                        "ties density " + density);
                ResolvedParams q = params(globals(bc), List.of(Map.of(), map("weight", 1.0, "density", density,
                        "gamma", 0.05)));
                assertKept(Float64Reference.breadcrumbsMask(tau(in), density, 0.05), in, mergeAt(bc, q, shape, in,
                        800, 3), "breadcrumbs density " + density);
            }
        } finally {
            TopKSelection.retainedMax = saved;
        }
    }

    /** Magnitudes spanning many binades and both halves of the float bits (the low-half histogram decides). */
    @Test
    void tiesTrimOnContinuousMagnitudes() {
        MergeMethod ties = MethodRegistry.find("ties").orElseThrow();
        Random r = new Random(12);
        int n = 20_000;
        float[] b = new float[n];
        float[] x = new float[n];
        for (int j = 0; j < n; j++) {
            x[j] = (float) (Math.exp(r.nextGaussian() * 3) * (r.nextBoolean() ? 1 : -1));
        }
        List<float[]> in = List.of(b, x);
        for (double density : new double[] {0.01, 0.5, 0.9}) {
            ResolvedParams p = params(globals(ties), List.of(Map.of(), map("weight", 1.0, "density", density)));
            assertKept(Float64Reference.magnitudeMask(tau(in), density), in, mergeAt(ties, p, new long[] {n}, in, 999,
                    2), "density " + density);
        }
    }

    /** TIES rescale: L1 match (the kept sum equals the whole sum) and 1/density. */
    @Test
    void tiesRescaleModes() {
        MergeMethod ties = MethodRegistry.find("ties").orElseThrow();
        Random r = new Random(13);
        long[] shape = {40, 50};
        List<float[]> in = tiedInputs(r, numel(shape), 7);
        double[] t = tau(in);
        boolean[] keep = Float64Reference.magnitudeMask(t, 0.25);
        double before = 0;
        double after = 0;
        for (int j = 0; j < t.length; j++) {
            before += Math.abs(t[j]);
            after += keep[j] ? Math.abs(t[j]) : 0;
        }
        for (String mode : new String[] {"l1", "inverse_density"}) {
            ResolvedParams p = params(globals(ties, "rescale", true, "rescale_mode", mode),
                    List.of(Map.of(), map("weight", 1.0, "density", 0.25)));
            float[] out = merge(ties, p, 0, shape, in);
            double factor = mode.equals("l1") ? before / after : 4;
            double[] expected = new double[t.length];
            for (int j = 0; j < t.length; j++) {
                expected[j] = in.get(0)[j] + (keep[j] ? t[j] * factor : 0);
            }
            assertClose(expected, out, in, 1e-6, mode);
        }
    }

    // ---------------------------------------------------------------- breadcrumbs

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 5, 17, 64, 99, 100, 250, 1000})
    void breadcrumbsKeepsTheDocumentedRangeEvenWhenNoOutlierIsDropped(int n) {
        MergeMethod bc = MethodRegistry.find("breadcrumbs").orElseThrow();
        Random r = new Random(n);
        List<float[]> in = tiedInputs(r, n, 6);
        double[] t = tau(in);
        for (double gamma : new double[] {0, 0.01, 0.1}) {
            for (double density : new double[] {0.3, 0.9, 0.995}) {
                ResolvedParams p = params(globals(bc),
                        List.of(Map.of(), map("weight", 1.0, "density", density, "gamma", gamma)));
                boolean[] expected = Float64Reference.breadcrumbsMask(t, density, gamma);
                String what = "n " + n + " gamma " + gamma + " density " + density;
                for (int chunk : new int[] {1, 7, 1 << 16}) {
                    assertKept(expected, in, mergeAt(bc, p, new long[] {n}, in, chunk, 1), what + " chunk " + chunk);
                }
                long target = (long) Math.floor(density * n);
                int kept = 0;
                for (boolean e : expected) {
                    kept += e ? 1 : 0;
                }
                assertEquals(target, kept, what + ": floor(density·N) survive, outliers or not");
                if (target > 0) {
                    assertTrue(kept > 0, what + ": never the all-zero task vector of mergekit's n_top = 0 slice");
                }
            }
        }
    }

    /** gamma 0.1, density 0.5 on 10 distinct magnitudes: the largest (the outlier) and the 4 smallest go. */
    @Test
    void breadcrumbsByHand() {
        MergeMethod bc = MethodRegistry.find("breadcrumbs").orElseThrow();
        float[] b = new float[10];
        float[] x = {0.1f, -0.9f, 0.3f, 1.0f, -0.2f, 0.5f, 0.7f, -0.6f, 0.4f, 0.8f};
        ResolvedParams p = params(globals(bc), List.of(Map.of(), map("weight", 1.0, "density", 0.5, "gamma", 0.1)));
        float[] out = merge(bc, p, 0, new long[] {2, 5}, List.of(b, x));
        assertArrayEquals(new float[] {0, -0.9f, 0, 0, 0, 0.5f, 0.7f, -0.6f, 0, 0.8f}, out);
        // density 1 leaves the task vector alone, outliers included (as mergekit)
        ResolvedParams all = params(globals(bc), List.of(Map.of(), map("weight", 1.0, "density", 1.0, "gamma", 0.1)));
        assertArrayEquals(x, merge(bc, all, 0, new long[] {10}, List.of(b, x)));
    }
}
