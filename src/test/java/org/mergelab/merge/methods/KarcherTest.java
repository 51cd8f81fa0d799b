package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mergelab.BadInputException;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.ResolvedParams;

class KarcherTest {
    private final Karcher karcher = new Karcher();

    /** A direct float64 implementation of mergekit's karcher_merge_tensors with α_i = 1/N, on explicit vectors. */
    static double[] reference(List<float[]> xs, int maxIter, double tol) {
        if (xs.size() == 1) {
            return d(xs.get(0));
        }
        int k = xs.size();
        double[] alphas = new double[k];
        java.util.Arrays.fill(alphas, 1.0 / k);
        double[] norms = new double[k];
        double[][] units = new double[k][];
        for (int i = 0; i < k; i++) {
            double[] x = d(xs.get(i));
            norms[i] = norm(x);
            units[i] = norms[i] == 0 ? new double[x.length] : scale(x, 1 / norms[i]);
        }
        List<Integer> valid = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            if (norms[i] > tol) {
                valid.add(i);
            }
        }
        int len = xs.get(0).length;
        if (valid.isEmpty()) {
            return new double[len];
        }
        double alphaSum = 0;
        for (int i : valid) {
            alphaSum += alphas[i];
        }
        double[] mean = new double[len];
        for (int i : valid) {
            mean = add(mean, scale(units[i], alphas[i] / alphaSum));
        }
        double meanNorm = norm(mean);
        mean = meanNorm < tol ? units[valid.get(0)].clone() : scale(mean, 1 / meanNorm);
        for (int iter = 0; iter < maxIter; iter++) {
            double[] tangent = new double[len];
            for (int i : valid) {
                double c = Math.max(-1, Math.min(1, dot(mean, units[i])));
                double theta = Math.acos(c);
                if (theta < tol) {
                    continue;
                }
                double a = alphas[i] / alphaSum * theta / Math.sin(theta);
                tangent = add(tangent, scale(sub(units[i], scale(mean, c)), a));
            }
            double tn = norm(tangent);
            if (tn < tol) {
                break;
            }
            mean = add(scale(mean, Math.cos(tn)), scale(tangent, Math.sin(tn) / tn));
            double un = norm(mean);
            if (un > tol) {
                mean = scale(mean, 1 / un);
            }
        }
        double s = 0;
        for (int i = 0; i < k; i++) {
            s += alphas[i] * norms[i];
        }
        return scale(mean, s);
    }

    private ResolvedParams p(int maxIter, double tol, int n) {
        return params(globals(karcher, "max_iter", maxIter, "tol", tol), empty(n));
    }

    private float[] run(List<float[]> xs, long[] shape) {
        return merge(karcher, params(globals(karcher), empty(xs.size())), -1, shape, xs);
    }

    @Test
    void declaresMergekitParameters() {
        assertEquals("karcher", karcher.name());
        assertEquals(MergeMethod.BaseRole.ORDINARY, karcher.baseRole());
        Map<String, Object> g = globals(karcher);
        assertEquals(10, ((Number) g.get("max_iter")).intValue());
        assertEquals(1e-5, ((Number) g.get("tol")).doubleValue());
        ParamSpec maxIter = karcher.params().stream().filter(s -> s.name().equals("max_iter")).findFirst()
                .orElseThrow();
        assertEquals(ParamSpec.Kind.INTEGER, maxIter.kind());
        assertTrue(karcher.params().stream().noneMatch(s -> s.scope() == ParamSpec.Scope.PER_MODEL),
                "karcher ignores per-model weights");
    }

    @Test
    void twoVectorsGiveTheNormalizedMidpointAtTheMeanNorm() {
        Random r = new Random(81);
        double[][] pq = orthonormalPair(r, 35);
        for (double theta : new double[] {0.3, Math.PI / 2, 2.5}) {
            float[] a = f(atAngle(pq, 0, 2));
            float[] b = f(atAngle(pq, theta, 5));
            double[] ua = scale(d(a), 1 / norm(a));
            double[] ub = scale(d(b), 1 / norm(b));
            double[] mid = add(ua, ub);
            double[] expected = scale(mid, (norm(a) + norm(b)) / 2 / norm(mid));
            float[] out = run(List.of(a, b), new long[] {5, 7});
            assertClose(expected, out, List.of(a, b), "two vectors at angle " + theta);
            assertRelEquals(3.5, norm(out), 2e-6, "mean norm");
        }
        // the unit-vector case of the brief: e1, e2 → (e1 + e2)/√2
        float[] e1 = new float[13];
        float[] e2 = new float[13];
        e1[1] = 1;
        e2[4] = 1;
        double[] expected = new double[13];
        expected[1] = Math.sqrt(0.5);
        expected[4] = Math.sqrt(0.5);
        assertClose(expected, run(List.of(e1, e2), new long[] {13}), List.of(e1, e2), 1e-6, "e1, e2");
    }

    @Test
    void threeVectorsMatchTheIterativeReference() {
        Random r = new Random(82);
        long[] shape = {5, 7};
        List<float[]> xs = List.of(gaussian(r, 35), gaussian(r, 35, 2), gaussian(r, 35, 0.5));
        assertClose(reference(xs, 10, 1e-5), run(xs, shape), xs, "3 random vectors, defaults");
        // iteration semantics, step by step: after 0, 1 and 2 steps, and run to convergence
        for (int maxIter : new int[] {0, 1, 2, 100}) {
            float[] out = merge(karcher, p(maxIter, 1e-9, 3), -1, shape, xs);
            assertClose(reference(xs, maxIter, 1e-9), out, xs, "max_iter " + maxIter);
        }
        // 0 and 1 iterations differ, so the test above can tell them apart
        double[] r0 = reference(xs, 0, 1e-9);
        double[] r1 = reference(xs, 1, 1e-9);
        assertTrue(maxAbs(sub(r0, r1)) > 1e-3, "the first step moves the estimate");
    }

    @Test
    void convergedMeanHasZeroTangent() {
        // at the Karcher mean, Σ θ_i/sin θ_i (u_i − cos θ_i u) = 0
        Random r = new Random(83);
        List<float[]> xs = List.of(gaussian(r, 13), gaussian(r, 13), gaussian(r, 13), gaussian(r, 13));
        float[] out = merge(karcher, p(200, 1e-10, 4), -1, new long[] {13}, xs);
        double[] u = scale(d(out), 1 / norm(out));
        double[] tangent = new double[13];
        for (float[] x : xs) {
            double[] ui = scale(d(x), 1 / norm(x));
            double c = dot(u, ui);
            double th = Math.acos(c);
            tangent = add(tangent, scale(sub(ui, scale(u, c)), th / Math.sin(th)));
        }
        assertTrue(norm(tangent) < 1e-5, "tangent at the result " + norm(tangent));
        double meanNorm = 0;
        for (float[] x : xs) {
            meanNorm += norm(x) / 4;
        }
        assertRelEquals(meanNorm, norm(out), 2e-6, "scale is the mean norm");
    }

    @Test
    void zeroNormModelsTakeNoPartInTheDirectionButCountInTheScale() {
        Random r = new Random(84);
        float[] a = gaussian(r, 35);
        float[] b = gaussian(r, 35);
        float[] z = new float[35];
        List<float[]> xs = List.of(a, z, b);
        float[] out = run(xs, new long[] {5, 7});
        assertClose(reference(xs, 10, 1e-5), out, xs, "with a zero model");
        double[] mid = add(scale(d(a), 1 / norm(a)), scale(d(b), 1 / norm(b)));
        double[] expected = scale(mid, (norm(a) + norm(b)) / 3 / norm(mid));
        assertClose(expected, out, xs, "midpoint of the non-zero pair, scaled by (|a| + 0 + |b|)/3");
    }

    @Test
    void allZeroModelsGiveZeros() {
        assertZeros(run(List.of(new float[35], new float[35], new float[35]), new long[] {5, 7}), "all zero");
        // norms at or below tol count as zero too
        float[] tiny1 = new float[13];
        float[] tiny2 = new float[13];
        tiny1[0] = 1e-6f;
        tiny2[3] = -2e-6f;
        assertZeros(run(List.of(tiny1, tiny2), new long[] {13}), "norms below tol");
    }

    @Test
    void singleModelIsReturnedUnchanged() {
        Random r = new Random(85);
        float[] x = gaussian(r, 35);
        assertArrayEquals(x, run(List.of(x), new long[] {5, 7}), "single model");
        // even when its norm is below tol (mergekit returns the lone tensor before any norm test)
        float[] tiny = new float[13];
        tiny[2] = 1e-7f;
        tiny[7] = -3e-7f;
        assertArrayEquals(tiny, run(List.of(tiny), new long[] {13}), "single tiny model");
    }

    @Test
    void identicalAndAntipodalPairs() {
        Random r = new Random(86);
        float[] x = gaussian(r, 35);
        float[] neg = new float[35];
        float[] twice = new float[35];
        for (int i = 0; i < 35; i++) {
            neg[i] = -x[i];
            twice[i] = 2 * x[i];
        }
        // same direction: x scaled by the mean norm 1.5|x|
        assertClose(scale(d(x), 1.5), run(List.of(x, twice), new long[] {5, 7}), List.of(x, twice), 1e-6,
                "parallel");
        // antipodal: the mean of the units vanishes, the first unit is the start and the tangent cancels
        float[] out = run(List.of(x, neg), new long[] {5, 7});
        assertClose(reference(List.of(x, neg), 10, 1e-5), out, List.of(x, neg), 1e-6, "antipodal");
        assertClose(d(x), out, List.of(x, neg), 1e-6, "antipodal gives the first model's direction");
    }

    @Test
    void baseAndWeightsAreIgnored() {
        Random r = new Random(87);
        long[] shape = {5, 7};
        List<float[]> xs = List.of(gaussian(r, 35), gaussian(r, 35), gaussian(r, 35));
        float[] plain = run(xs, shape);
        float[] withBase = merge(karcher, params(globals(karcher), empty(3)), 1, shape, xs);
        assertArrayEquals(plain, withBase, "base index does not matter");
        float[] weighted = merge(karcher, params(globals(karcher), weights(0.1, 5, 2)), -1, shape, xs);
        assertArrayEquals(plain, weighted, "per-model weights are ignored");
        // nor does the order of the models (equal weights), up to float rounding
        float[] reordered = run(List.of(xs.get(2), xs.get(0), xs.get(1)), shape);
        assertClose(d(plain), reordered, xs, "order");
    }

    @Test
    void largeTensorManyModels() {
        Random r = new Random(88);
        long[] shape = {48, 64};
        float[] common = gaussian(r, 3072, 0.02);
        List<float[]> xs = new ArrayList<>();
        for (int m = 0; m < 5; m++) {
            float[] x = new float[3072];
            for (int i = 0; i < 3072; i++) {
                x[i] = common[i] + (float) (r.nextGaussian() * 0.01);
            }
            xs.add(x);
        }
        assertClose(reference(xs, 10, 1e-5), run(xs, shape), xs, "5 models, 3072 elements");
    }

    @Test
    void checkParamsAndModels() {
        assertThrows(BadInputException.class, () -> karcher.checkParams(p(-1, 1e-5, 2), models(2, -1), "t"));
        assertThrows(BadInputException.class, () -> karcher.checkParams(p(10, 0, 2), models(2, -1), "t"));
        assertThrows(BadInputException.class, () -> karcher.checkParams(p(10, -1e-3, 2), models(2, -1), "t"));
        assertDoesNotThrow(() -> karcher.checkParams(p(0, 1e-5, 2), models(2, -1), "t"));
        assertBadModels(karcher, 0, -1);
        assertDoesNotThrow(() -> karcher.checkModels(models(1, -1)));
        assertDoesNotThrow(() -> karcher.checkModels(models(4, 0)));
    }
}
