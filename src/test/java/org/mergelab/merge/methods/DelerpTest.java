package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;

class DelerpTest {
    private final Delerp delerp = new Delerp();

    /** A direct float64 port of the article's reference {@code delerp(t, v0, v1, eps)}. */
    static double[] reference(double t, double[] v0, double[] v1, double eps) {
        double normV0 = norm(v0);
        double normV1 = norm(v1);
        if (normV0 < eps && normV1 < eps) {
            return new double[v0.length];
        }
        double[] merged = lerp(v0, v1, t);
        double normMerged = norm(merged);
        if (normMerged > eps) {
            merged = scale(merged, 1 / normMerged);
        } else {
            return lerp(v0, v1, t);
        }
        return scale(merged, Math.max(normV0, normV1));
    }

    private float[] run(double t, float[] v0, float[] v1, long[] shape) {
        return merge(delerp, params(globals(delerp, "t", t), empty(2)), 0, shape, List.of(v0, v1));
    }

    private float[] run(double t, double eps, float[] v0, float[] v1, long[] shape) {
        return merge(delerp, params(globals(delerp, "t", t, "eps", eps), empty(2)), 0, shape, List.of(v0, v1));
    }

    @Test
    void declaresTAndEps() {
        assertEquals("delerp", delerp.name());
        assertEquals(MergeMethod.BaseRole.SPECIAL, delerp.baseRole());
        ParamSpec t = delerp.params().stream().filter(s -> s.name().equals("t")).findFirst().orElseThrow();
        assertTrue(t.required());
        ParamSpec eps = delerp.params().stream().filter(s -> s.name().equals("eps")).findFirst().orElseThrow();
        assertEquals(1e-8, ((Number) eps.defaultValue()).doubleValue());
    }

    @Test
    void outputNormIsTheLargerInputNorm() {
        Random r = new Random(41);
        float[] small = gaussian(r, 35);
        float[] big = gaussian(r, 35, 3);
        for (double t : new double[] {0.05, 0.3, 0.5, 0.9}) {
            float[] a = run(t, small, big, new long[] {5, 7});
            assertRelEquals(norm(big), norm(a), 2e-6, "|out| = max norm (larger v1), t=" + t);
            float[] b = run(t, big, small, new long[] {5, 7});
            assertRelEquals(norm(big), norm(b), 2e-6, "|out| = max norm (larger v0), t=" + t);
        }
    }

    @Test
    void directionIsTheLerpsAndMatchesTheArticleCode() {
        Random r = new Random(42);
        float[] v0 = gaussian(r, 35);
        float[] v1 = gaussian(r, 35, 0.5);
        for (double t : new double[] {0.2, 0.5, 0.999}) {
            float[] out = run(t, v0, v1, new long[] {5, 7});
            assertEquals(1.0, cosine(d(out), lerp(d(v0), d(v1), t)), 1e-6, "direction t=" + t);
            assertClose(reference(t, d(v0), d(v1), 1e-8), out, List.of(v0, v1), "article code t=" + t);
        }
    }

    @Test
    void endpoints() {
        Random r = new Random(43);
        double[][] pq = orthonormalPair(r, 13);
        // equal norms: t = 0 and t = 1 return the endpoints themselves
        float[] v0 = f(atAngle(pq, 0, 2));
        float[] v1 = f(atAngle(pq, 1.2, 2));
        List<float[]> xs = List.of(v0, v1);
        assertClose(d(v0), run(0, v0, v1, new long[] {13}), xs, 1e-6, "t=0");
        assertClose(d(v1), run(1, v0, v1, new long[] {13}), xs, 1e-6, "t=1");
        // unequal norms: the endpoint's direction at the larger norm (the method's definition)
        float[] w1 = f(atAngle(pq, 1.2, 5));
        float[] out = run(0, v0, w1, new long[] {13});
        assertClose(scale(d(v0), norm(w1) / norm(v0)), out, List.of(v0, w1), 1e-6, "t=0, |v1| > |v0|");
        float[] out1 = run(1, v0, w1, new long[] {13});
        assertClose(d(w1), out1, List.of(v0, w1), 1e-6, "t=1, |v1| > |v0|");
    }

    @Test
    void bothNormsBelowEpsGiveZeros() {
        float[] v0 = new float[13];
        float[] v1 = new float[13];
        v0[0] = 3e-9f;
        v1[1] = -4e-9f;
        assertZeros(run(0.5, v0, v1, new long[] {13}), "both norms < 1e-8");
        assertZeros(run(0.5, new float[35], new float[35], new long[] {5, 7}), "zero tensors");
        // a larger eps parameter is honoured: norms ~1 are "zero" for eps = 10
        Random r = new Random(44);
        assertZeros(run(0.3, 10, gaussian(r, 13, 0.1), gaussian(r, 13, 0.1), new long[] {13}), "eps = 10");
    }

    @Test
    void oneTinyOneNormalVector() {
        Random r = new Random(45);
        float[] v0 = new float[35];
        float[] v1 = gaussian(r, 35);
        // v0 = 0: direction of t·v1, magnitude |v1| → v1 itself for any t > 0
        assertClose(d(v1), run(0.25, v0, v1, new long[] {5, 7}), List.of(v0, v1), 1e-6, "zero v0");
        // and at t = 0 the LERP is 0 (norm ≤ eps): the LERP (zeros) comes back
        assertZeros(run(0, v0, v1, new long[] {5, 7}), "zero v0 at t = 0");
    }

    @Test
    void cancellingInputsReturnTheLerp() {
        Random r = new Random(46);
        float[] v0 = gaussian(r, 35);
        float[] v1 = new float[35];
        for (int i = 0; i < 35; i++) {
            v1[i] = -v0[i];
        }
        assertZeros(run(0.5, v0, v1, new long[] {5, 7}), "v1 = -v0 at t = 0.5");
        // eps is the LERP threshold too: with eps = 1e3 any LERP of these small vectors comes back unscaled
        float[] w1 = gaussian(r, 35);
        float[] lerped = run(0.4, 1e3, v0, w1, new long[] {5, 7});
        // (both norms are < 1e3 here, so this is the zeros branch; use bigger vectors for the LERP branch)
        assertZeros(lerped, "both norms below eps = 1e3");
        float[] big0 = gaussian(r, 35, 1e3);
        float[] big1 = new float[35];
        for (int i = 0; i < 35; i++) {
            big1[i] = -big0[i] + (float) (r.nextGaussian() * 1);
        }
        double eps = 200; // |big0| ≈ 6000 > eps, |LERP at 0.5| ≈ 3 < eps
        float[] out = run(0.5, eps, big0, big1, new long[] {5, 7});
        assertClose(lerp(d(big0), d(big1), 0.5), out, List.of(big0, big1), 1e-6, "LERP norm below eps");
        assertClose(reference(0.5, d(big0), d(big1), eps), out, List.of(big0, big1), 1e-6, "article code");
    }

    @Test
    void baseAtIndexOneIsV0() {
        Random r = new Random(47);
        float[] other = gaussian(r, 35, 2);
        float[] base = gaussian(r, 35);
        float[] out = merge(delerp, params(globals(delerp, "t", 0.3), empty(2)), 1, new long[] {5, 7},
                List.of(other, base));
        assertClose(reference(0.3, d(base), d(other), 1e-8), out, List.of(other, base), "base at index 1");
    }

    @Test
    void largeTensor() {
        Random r = new Random(48);
        float[] v0 = gaussian(r, 4000, 0.02);
        float[] v1 = new float[4000];
        for (int i = 0; i < 4000; i++) {
            v1[i] = 0.8f * v0[i] + (float) (r.nextGaussian() * 0.005);
        }
        float[] out = run(0.999, v0, v1, new long[] {4000});
        assertClose(reference(0.999, d(v0), d(v1), 1e-8), out, List.of(v0, v1), "4000 elements");
        assertRelEquals(Math.max(norm(v0), norm(v1)), norm(out), 2e-6, "max norm");
    }

    @Test
    void checkModelsNeedsBaseAndExactlyOneOther() {
        assertBadModels(delerp, 3, 0);
        assertBadModels(delerp, 2, -1);
        assertBadModels(delerp, 1, 0);
        assertDoesNotThrow(() -> delerp.checkModels(models(2, 0)));
    }
}
