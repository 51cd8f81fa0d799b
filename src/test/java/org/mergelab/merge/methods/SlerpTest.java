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

class SlerpTest {
    private final Slerp slerp = new Slerp();

    /** Independent float64 reference of mergekit's slerp (normalised copies for the angle, raw vectors for output). */
    static double[] reference(double t, double[] v0, double[] v1) {
        double n0 = norm(v0);
        double n1 = norm(v1);
        double[] u0 = n0 > 1e-8 ? scale(v0, 1 / n0) : v0;
        double[] u1 = n1 > 1e-8 ? scale(v1, 1 / n1) : v1;
        double dot = dot(u0, u1);
        if (Math.abs(dot) > 0.9995) {
            return lerp(v0, v1, t);
        }
        double theta0 = Math.acos(dot);
        double sin0 = Math.sin(theta0);
        double thetaT = theta0 * t;
        return add(scale(v0, Math.sin(theta0 - thetaT) / sin0), scale(v1, Math.sin(thetaT) / sin0));
    }

    private float[] run(double t, float[] v0, float[] v1, long[] shape) {
        return merge(slerp, params(globals(slerp, "t", t), empty(2)), 0, shape, List.of(v0, v1));
    }

    @Test
    void declaresRequiredT() {
        assertEquals("slerp", slerp.name());
        assertEquals(MergeMethod.BaseRole.SPECIAL, slerp.baseRole());
        ParamSpec t = slerp.params().get(0);
        assertEquals("t", t.name());
        assertEquals(ParamSpec.Scope.GLOBAL, t.scope());
        assertTrue(t.required());
    }

    @Test
    void matchesShoemakeOnRandomTensors() {
        Random r = new Random(21);
        long[] shape = {5, 7};
        float[] v0 = gaussian(r, 35);
        float[] v1 = gaussian(r, 35, 2.5);
        for (double t : new double[] {0.1, 0.3, 0.5, 0.77, 0.9}) {
            float[] out = run(t, v0, v1, shape);
            assertClose(reference(t, d(v0), d(v1)), out, List.of(v0, v1), "slerp t=" + t);
        }
    }

    @Test
    void orthogonalUnitVectorsFollowTheQuarterCircle() {
        // e1, e2 at 90°: slerp(t) = cos(πt/2)·e1 + sin(πt/2)·e2
        float[] e1 = new float[13];
        float[] e2 = new float[13];
        e1[2] = 1;
        e2[9] = 1;
        for (double t : new double[] {0.25, 0.5, 0.6}) {
            float[] out = run(t, e1, e2, new long[] {13});
            double[] expected = new double[13];
            expected[2] = Math.cos(Math.PI * t / 2);
            expected[9] = Math.sin(Math.PI * t / 2);
            assertClose(expected, out, List.of(e1, e2), 1e-6, "quarter circle t=" + t);
        }
    }

    @Test
    void keepsTheNormOfEqualNormInputs() {
        Random r = new Random(22);
        double[][] pq = orthonormalPair(r, 3000);
        float[] v0 = f(atAngle(pq, 0, 40));
        float[] v1 = f(atAngle(pq, 2.0, 40)); // 2 rad apart, |v| = 40
        for (double t : new double[] {0.2, 0.5, 0.8}) {
            float[] out = run(t, v0, v1, new long[] {60, 50});
            assertRelEquals(40, norm(out), 1e-6, "norm at t=" + t);
            assertClose(reference(t, d(v0), d(v1)), out, List.of(v0, v1), "slerp t=" + t);
            // the angle to v0 is t·θ
            assertEquals(2.0 * t, Math.acos(cosine(d(out), d(v0))), 1e-5, "angle at t=" + t);
        }
    }

    @Test
    void endpointsAreReturnedAtTZeroAndOne() {
        Random r = new Random(23);
        float[] v0 = gaussian(r, 35);
        float[] v1 = gaussian(r, 35);
        List<float[]> xs = List.of(v0, v1);
        assertClose(d(v0), run(0, v0, v1, new long[] {5, 7}), xs, 1e-6, "t=0");
        assertClose(d(v1), run(1, v0, v1, new long[] {5, 7}), xs, 1e-6, "t=1");
    }

    @Test
    void baseIsTheTZeroEndWhereverItIs() {
        Random r = new Random(24);
        float[] other = gaussian(r, 35);
        float[] base = gaussian(r, 35);
        float[] out = merge(slerp, params(globals(slerp, "t", 0.3), empty(2)), 1, new long[] {5, 7},
                List.of(other, base));
        assertClose(reference(0.3, d(base), d(other)), out, List.of(other, base), "base at index 1");
    }

    @Test
    void parallelInputsFallBackToLerp() {
        Random r = new Random(25);
        float[] v0 = gaussian(r, 35);
        float[] v1 = new float[35];
        for (int i = 0; i < 35; i++) {
            v1[i] = 3 * v0[i];
        }
        List<float[]> xs = List.of(v0, v1);
        float[] out = run(0.4, v0, v1, new long[] {5, 7});
        assertClose(lerp(d(v0), d(v1), 0.4), out, xs, 1e-6, "parallel");
    }

    @Test
    void antiParallelInputsFallBackToLerp() {
        Random r = new Random(26);
        float[] v0 = gaussian(r, 13);
        float[] v1 = new float[13];
        for (int i = 0; i < 13; i++) {
            v1[i] = -v0[i];
        }
        List<float[]> xs = List.of(v0, v1);
        assertZeros(run(0.5, v0, v1, new long[] {13}), "anti-parallel at t = 0.5");
        assertClose(scale(d(v0), 0.5), run(0.25, v0, v1, new long[] {13}), xs, 1e-6, "anti-parallel at t = 0.25");
    }

    @Test
    void lerpFallbackThresholdIsAbsCosAbove0_9995() {
        Random r = new Random(27);
        double[][] pq = orthonormalPair(r, 2000);
        float[] v0 = f(atAngle(pq, 0, 10));
        // cos = 0.9997 > 0.9995: LERP, whose midpoint norm dips to cos(θ/2)·10
        double thetaIn = Math.acos(0.9997);
        float[] v1 = f(atAngle(pq, thetaIn, 10));
        float[] in = run(0.5, v0, v1, new long[] {2000});
        assertRelEquals(10 * Math.cos(thetaIn / 2), norm(in), 2e-6, "LERP norm dip above the threshold");
        assertClose(lerp(d(v0), d(v1), 0.5), in, List.of(v0, v1), 1e-6, "LERP above threshold");
        // cos = −0.9997 (near anti-parallel) is LERP too
        float[] v1n = f(atAngle(pq, Math.PI - thetaIn, 10));
        assertClose(lerp(d(v0), d(v1n), 0.3), run(0.3, v0, v1n, new long[] {2000}), List.of(v0, v1n), 1e-6,
                "LERP near anti-parallel");
        // cos = 0.999 < 0.9995: the spherical formula, which keeps the norm
        double thetaOut = Math.acos(0.999);
        float[] v1s = f(atAngle(pq, thetaOut, 10));
        float[] out = run(0.5, v0, v1s, new long[] {2000});
        assertRelEquals(10, norm(out), 2e-6, "SLERP norm below the threshold");
        assertClose(reference(0.5, d(v0), d(v1s)), out, List.of(v0, v1s), 1e-6, "SLERP below threshold");
    }

    @Test
    void zeroTensors() {
        float[] z = new float[35];
        assertZeros(run(0.5, z, z, new long[] {5, 7}), "both zero");
        Random r = new Random(28);
        float[] v1 = gaussian(r, 35);
        // one zero vector: it is not normalised, the dot is 0 and θ = π/2, so the result is sin(πt/2)·v1
        float[] out = run(0.5, z, v1, new long[] {5, 7});
        assertClose(scale(d(v1), Math.sin(Math.PI / 4)), out, List.of(z, v1), 1e-6, "zero base");
        assertClose(reference(0.5, d(z), d(v1)), out, List.of(z, v1), 1e-6, "zero base vs reference");
    }

    @Test
    void extrapolatesOutsideUnitInterval() {
        Random r = new Random(29);
        float[] v0 = gaussian(r, 35);
        float[] v1 = gaussian(r, 35);
        for (double t : new double[] {-0.3, 1.4}) {
            assertClose(reference(t, d(v0), d(v1)), run(t, v0, v1, new long[] {5, 7}), List.of(v0, v1),
                    "t=" + t);
        }
    }

    @Test
    void largeTensor() {
        Random r = new Random(30);
        float[] v0 = gaussian(r, 4096, 0.02);
        float[] v1 = new float[4096];
        for (int i = 0; i < 4096; i++) {
            v1[i] = v0[i] + (float) (r.nextGaussian() * 0.01);
        }
        float[] out = run(0.35, v0, v1, new long[] {64, 64});
        assertClose(reference(0.35, d(v0), d(v1)), out, List.of(v0, v1), "4096 elements");
        float[] again = merge(slerp, params(globals(slerp, "t", 0.35), empty(2)), 0, new long[] {64, 64},
                List.of(v0, v1));
        assertArrayEquals(out, again, "deterministic");
    }

    @Test
    void checkModelsNeedsBaseAndExactlyOneOther() {
        assertBadModels(slerp, 3, 0);
        assertBadModels(slerp, 2, -1);
        assertBadModels(slerp, 1, 0);
        assertBadModels(slerp, 3, -1);
        assertDoesNotThrow(() -> slerp.checkModels(models(2, 0)));
        assertDoesNotThrow(() -> slerp.checkModels(models(2, 1)));
    }
}
