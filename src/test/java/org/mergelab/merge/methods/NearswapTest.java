package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;

class NearswapTest {
    private final Nearswap nearswap = new Nearswap();

    /** mergekit's formula in float64: w = clamp(t / max(|a − b|, 1e-6), 0, 1); w·b + (1 − w)·a. */
    static double[] reference(double t, float[] base, float[] other) {
        double[] r = new double[base.length];
        for (int i = 0; i < base.length; i++) {
            double a = base[i];
            double b = other[i];
            double w = t / Math.max(Math.abs(a - b), 1e-6);
            w = Math.max(0, Math.min(1, w));
            r[i] = w * b + (1 - w) * a;
        }
        return r;
    }

    private float[] run(double t, float[] base, float[] other, long[] shape) {
        return merge(nearswap, params(globals(nearswap, "t", t), empty(2)), 0, shape, List.of(base, other));
    }

    @Test
    void declaresRequiredT() {
        assertEquals("nearswap", nearswap.name());
        assertEquals(MergeMethod.BaseRole.SPECIAL, nearswap.baseRole());
        ParamSpec t = nearswap.params().get(0);
        assertEquals("t", t.name());
        assertTrue(t.required());
    }

    @Test
    void elementwiseFormulaByHand() {
        float[] a = {0, 0, 0, 1, 1, 5, -2, 3};
        float[] b = {0.05f, 0.2f, -0.4f, 1, 1.1f, 5, 2, 3.000001f};
        // t = 0.1: |a−b| = 0.05 → w = 1 (swap); 0.2 → w = 0.5; 0.4 → w = 0.25; 0 → w = 1 (equal anyway);
        // 0.1 → w = 1; 4 → w = 0.025; 1e-6 → w = 1
        float[] out = run(0.1, a, b, new long[] {8});
        float[] expected = {0.05f, 0.1f, -0.1f, 1, 1.1f, 5, -2 + 0.025f * 4, 3.000001f};
        assertArrayEquals(expected, out, 2e-6f);
    }

    @Test
    void randomTensorsMatchTheFormula() {
        Random r = new Random(91);
        long[] shape = {5, 7};
        float[] base = gaussian(r, 35);
        float[] other = new float[35];
        for (int i = 0; i < 35; i++) {
            other[i] = base[i] + (float) (r.nextGaussian() * 0.3);
        }
        for (double t : new double[] {0.01, 0.1, 0.3, 1e-4}) {
            assertClose(reference(t, base, other), run(t, base, other, shape), List.of(base, other), 1e-6,
                    "t=" + t);
        }
        float[] big = gaussian(r, 3000);
        float[] big2 = gaussian(r, 3000);
        assertClose(reference(0.5, big, big2), run(0.5, big, big2, new long[] {3000}), List.of(big, big2), 1e-6,
                "3000 elements");
    }

    @Test
    void extremesOfT() {
        Random r = new Random(92);
        float[] base = gaussian(r, 13);
        float[] other = gaussian(r, 13);
        // t = 0 (or negative) keeps the base; a huge t swaps everything
        assertArrayEquals(base, run(0, base, other, new long[] {13}));
        assertArrayEquals(base, run(-1, base, other, new long[] {13}));
        assertArrayEquals(other, run(1e9, base, other, new long[] {13}));
        // identical inputs: the result is that tensor
        assertArrayEquals(base, run(0.1, base, base.clone(), new long[] {13}));
    }

    @Test
    void baseIsTheAnchorWhereverItIs() {
        Random r = new Random(93);
        float[] base = gaussian(r, 35);
        float[] other = gaussian(r, 35);
        float[] out = merge(nearswap, params(globals(nearswap, "t", 0.2), empty(2)), 1, new long[] {5, 7},
                List.of(other, base));
        assertClose(reference(0.2, base, other), out, List.of(other, base), 1e-6, "base at index 1");
    }

    @Test
    void zeroTensors() {
        assertZeros(run(0.1, new float[35], new float[35], new long[] {5, 7}), "zeros");
    }

    @Test
    void checkModelsNeedsBaseAndExactlyOneOther() {
        assertBadModels(nearswap, 3, 0);
        assertBadModels(nearswap, 2, -1);
        assertBadModels(nearswap, 1, 0);
        assertDoesNotThrow(() -> nearswap.checkModels(models(2, 0)));
    }
}
