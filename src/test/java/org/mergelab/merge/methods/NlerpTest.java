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

class NlerpTest {
    private final Nlerp nlerp = new Nlerp();

    /** Independent float64 reference of MergeLab's NLERP decision. */
    static double[] reference(double t, double[] v0, double[] v1) {
        double[] m = lerp(v0, v1, t);
        double mn = norm(m);
        if (mn <= 1e-8) {
            return m;
        }
        double magnitude = (1 - t) * norm(v0) + t * norm(v1);
        return scale(m, magnitude / mn);
    }

    private float[] run(double t, float[] v0, float[] v1, long[] shape) {
        return merge(nlerp, params(globals(nlerp, "t", t), empty(2)), 0, shape, List.of(v0, v1));
    }

    @Test
    void declaresRequiredT() {
        assertEquals("nlerp", nlerp.name());
        assertEquals(MergeMethod.BaseRole.SPECIAL, nlerp.baseRole());
        ParamSpec t = nlerp.params().stream().filter(s -> s.name().equals("t")).findFirst().orElseThrow();
        assertTrue(t.required());
        assertEquals(ParamSpec.Scope.GLOBAL, t.scope());
    }

    @Test
    void normIsTheInterpolatedNormAndDirectionIsTheLerps() {
        Random r = new Random(31);
        float[] v0 = gaussian(r, 35);
        float[] v1 = gaussian(r, 35, 4);
        double n0 = norm(v0);
        double n1 = norm(v1);
        for (double t : new double[] {0.1, 0.5, 0.73}) {
            float[] out = run(t, v0, v1, new long[] {5, 7});
            assertRelEquals((1 - t) * n0 + t * n1, norm(out), 2e-6, "norm at t=" + t);
            assertEquals(1.0, cosine(d(out), lerp(d(v0), d(v1), t)), 1e-6, "direction at t=" + t);
            assertClose(reference(t, d(v0), d(v1)), out, List.of(v0, v1), "nlerp t=" + t);
        }
    }

    @Test
    void noNormDipBetweenEqualNormVectors() {
        Random r = new Random(32);
        double[][] pq = orthonormalPair(r, 3000);
        float[] v0 = f(atAngle(pq, 0, 7));
        float[] v1 = f(atAngle(pq, 2.5, 7));
        float[] out = run(0.5, v0, v1, new long[] {3000});
        assertRelEquals(7, norm(out), 2e-6, "midpoint norm");
        // at t = 0.5 NLERP of equal-norm vectors equals SLERP
        assertClose(SlerpTest.reference(0.5, d(v0), d(v1)), out, List.of(v0, v1), "equals slerp at the midpoint");
    }

    @Test
    void endpoints() {
        Random r = new Random(33);
        float[] v0 = gaussian(r, 13);
        float[] v1 = gaussian(r, 13, 2);
        List<float[]> xs = List.of(v0, v1);
        assertClose(d(v0), run(0, v0, v1, new long[] {13}), xs, 1e-6, "t=0");
        assertClose(d(v1), run(1, v0, v1, new long[] {13}), xs, 1e-6, "t=1");
    }

    @Test
    void cancellingInputsFallBackToLerp() {
        Random r = new Random(34);
        float[] v0 = gaussian(r, 35);
        float[] v1 = new float[35];
        for (int i = 0; i < 35; i++) {
            v1[i] = -v0[i];
        }
        // LERP is exactly zero at t = 0.5: returned as is, not blown up to the interpolated norm
        assertZeros(run(0.5, v0, v1, new long[] {5, 7}), "v1 = -v0 at t = 0.5");
        // elsewhere it is an ordinary NLERP: direction of v0, norm (1−t)|v0| + t|v0| = |v0|
        float[] out = run(0.25, v0, v1, new long[] {5, 7});
        assertClose(d(v0), out, List.of(v0, v1), 1e-6, "v1 = -v0 at t = 0.25");
    }

    @Test
    void tinyLerpBelowThresholdIsReturnedAsIs() {
        // LERP norm 1e-9 ≤ 1e-8: the tiny LERP comes back (and is not rescaled to the ~1e-9 magnitude either)
        float[] v0 = new float[13];
        float[] v1 = new float[13];
        v0[3] = 2e-9f;
        v1[5] = 1e-9f;
        float[] out = run(0.5, v0, v1, new long[] {13});
        double[] expected = lerp(d(v0), d(v1), 0.5);
        assertCloseAbs(expected, out, 1e-16, "tiny lerp");
    }

    @Test
    void zeroTensorsGiveZeros() {
        float[] z = new float[35];
        assertZeros(run(0.3, z, z, new long[] {5, 7}), "both zero");
        Random r = new Random(35);
        float[] v1 = gaussian(r, 35);
        // zero base: direction of v1, norm t·|v1| — i.e. the LERP itself
        float[] out = run(0.3, z, v1, new long[] {5, 7});
        assertClose(scale(d(v1), 0.3), out, List.of(z, v1), 1e-6, "zero base");
    }

    @Test
    void baseAtIndexOneIsV0() {
        Random r = new Random(36);
        float[] other = gaussian(r, 35);
        float[] base = gaussian(r, 35, 3);
        float[] out = merge(nlerp, params(globals(nlerp, "t", 0.2), empty(2)), 1, new long[] {5, 7},
                List.of(other, base));
        assertClose(reference(0.2, d(base), d(other)), out, List.of(other, base), "base at index 1");
    }

    @Test
    void largeTensor() {
        Random r = new Random(37);
        float[] v0 = gaussian(r, 3000, 0.05);
        float[] v1 = gaussian(r, 3000, 0.02);
        float[] out = run(0.6, v0, v1, new long[] {30, 100});
        assertClose(reference(0.6, d(v0), d(v1)), out, List.of(v0, v1), "3000 elements");
    }

    @Test
    void checkModelsNeedsBaseAndExactlyOneOther() {
        assertBadModels(nlerp, 3, 0);
        assertBadModels(nlerp, 2, -1);
        assertBadModels(nlerp, 1, 0);
        assertDoesNotThrow(() -> nlerp.checkModels(models(2, 1)));
    }
}
