package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mergelab.BadInputException;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ResolvedParams;

class MultislerpTest {
    private final Multislerp multislerp = new Multislerp();

    /**
     * A direct float64 implementation of mergekit's multislerp on explicit vectors. {@code xs} are the non-base
     * models in order, {@code base} may be null.
     */
    static double[] reference(List<float[]> xs, double[] weight, float[] base, boolean normalizeWeights,
            double eps) {
        if (xs.size() == 1) {
            return d(xs.get(0));
        }
        int k = xs.size();
        double[][] v = new double[k][];
        for (int i = 0; i < k; i++) {
            v[i] = base == null ? d(xs.get(i)) : sub(d(xs.get(i)), d(base));
        }
        double[] w = weight.clone();
        if (normalizeWeights) {
            double s = 0;
            for (double x : w) {
                s += x;
            }
            for (int i = 0; i < k; i++) {
                w[i] /= s;
            }
        }
        double[] n = new double[k];
        double[][] u = new double[k][];
        for (int i = 0; i < k; i++) {
            n[i] = norm(v[i]);
            u[i] = scale(v[i], 1 / (n[i] + eps));
        }
        int len = v[0].length;
        double[] mean = new double[len];
        for (int i = 0; i < k; i++) {
            mean = add(mean, scale(u[i], w[i]));
        }
        double meanNorm = norm(mean);
        if (meanNorm < eps) {
            if (k == 2) {
                double[] res = add(scale(v[0], w[0]), scale(v[1], w[1]));
                return base == null ? res : add(res, d(base));
            }
            throw new IllegalArgumentException("antipodal");
        }
        mean = scale(mean, 1 / meanNorm);
        double[] tangent = new double[len];
        for (int i = 0; i < k; i++) {
            double[] ti = sub(u[i], scale(mean, dot(u[i], mean)));
            tangent = add(tangent, scale(ti, w[i]));
        }
        double tn = norm(tangent) + eps;
        double[] result = add(scale(mean, Math.cos(tn)), scale(tangent, Math.sin(tn) / tn));
        double avgNorm = 0;
        for (int i = 0; i < k; i++) {
            avgNorm += n[i] * w[i];
        }
        result = scale(result, avgNorm);
        return base == null ? result : add(result, d(base));
    }

    private ResolvedParams p(boolean normalize, List<Map<String, Object>> w) {
        return params(globals(multislerp, "normalize_weights", normalize), w);
    }

    /** Runs with the base (if any) appended last. */
    private float[] run(List<float[]> xs, double[] w, float[] base, boolean normalize, long[] shape) {
        List<float[]> inputs = new ArrayList<>(xs);
        List<Map<String, Object>> pm = new ArrayList<>(weights(w));
        int b = -1;
        if (base != null) {
            b = inputs.size();
            inputs.add(base);
            pm.add(Map.of());
        }
        return merge(multislerp, p(normalize, pm), b, shape, inputs);
    }

    private static List<float[]> all(List<float[]> xs, float[] base) {
        List<float[]> l = new ArrayList<>(xs);
        if (base != null) {
            l.add(base);
        }
        return l;
    }

    @Test
    void declaresMergekitParameters() {
        assertEquals("multislerp", multislerp.name());
        assertEquals(MergeMethod.BaseRole.SPECIAL, multislerp.baseRole());
        Map<String, Object> g = globals(multislerp);
        assertEquals(Boolean.TRUE, g.get("normalize_weights"));
        assertEquals(1e-8, ((Number) g.get("eps")).doubleValue());
    }

    @Test
    void twoModelsWithoutBase() {
        Random r = new Random(71);
        long[] shape = {5, 7};
        List<float[]> xs = List.of(gaussian(r, 35), gaussian(r, 35, 2));
        double[] w = {0.3, 0.7};
        float[] out = run(xs, w, null, true, shape);
        assertClose(reference(xs, w, null, true, 1e-8), out, xs, "2 models");
    }

    @Test
    void threeModelsWithoutBase() {
        Random r = new Random(72);
        long[] shape = {13};
        List<float[]> xs = List.of(gaussian(r, 13), gaussian(r, 13, 0.5), gaussian(r, 13, 3));
        double[] w = {1, 2, 3};
        assertClose(reference(xs, w, null, true, 1e-8), run(xs, w, null, true, shape), xs, "3 models");
    }

    @Test
    void threeModelsWithBaseAnywhere() {
        Random r = new Random(73);
        long[] shape = {5, 7};
        float[] base = gaussian(r, 35);
        List<float[]> xs = new ArrayList<>();
        for (int m = 0; m < 3; m++) {
            float[] x = new float[35];
            for (int i = 0; i < 35; i++) {
                x[i] = base[i] + (float) (r.nextGaussian() * 0.1 * (m + 1));
            }
            xs.add(x);
        }
        double[] w = {0.5, 0.2, 0.3};
        double[] expected = reference(xs, w, base, true, 1e-8);
        for (int pos = 0; pos <= 3; pos++) {
            List<float[]> inputs = new ArrayList<>(xs);
            inputs.add(pos, base);
            List<Map<String, Object>> pm = new ArrayList<>(weights(w));
            pm.add(pos, Map.of());
            float[] out = merge(multislerp, p(true, pm), pos, shape, inputs);
            assertClose(expected, out, all(xs, base), "base at " + pos);
        }
    }

    @Test
    void twoModelsWithBase() {
        Random r = new Random(74);
        long[] shape = {13};
        float[] base = gaussian(r, 13);
        List<float[]> xs = List.of(gaussian(r, 13), gaussian(r, 13));
        double[] w = {2, 1};
        assertClose(reference(xs, w, base, true, 1e-8), run(xs, w, base, true, shape), all(xs, base),
                "2 models + base");
    }

    @Test
    void unnormalizedWeights() {
        Random r = new Random(75);
        long[] shape = {5, 7};
        List<float[]> xs = List.of(gaussian(r, 35), gaussian(r, 35), gaussian(r, 35));
        double[] w = {0.5, 0.8, 0.4};
        float[] out = run(xs, w, null, false, shape);
        assertClose(reference(xs, w, null, false, 1e-8), out, xs, "normalize_weights false");
        // not the same as the normalised merge (the scale Σ w_i n_i differs)
        float[] normed = run(xs, w, null, true, shape);
        assertEquals(1.7, norm(out) / norm(normed), 0.05);
    }

    @Test
    void orthogonalUnitVectorsGiveTheNormalizedMidpoint() {
        float[] e1 = new float[13];
        float[] e2 = new float[13];
        e1[0] = 1;
        e2[12] = 1;
        float[] out = run(List.of(e1, e2), new double[] {1, 1}, null, true, new long[] {13});
        double[] expected = new double[13];
        expected[0] = Math.sqrt(0.5);
        expected[12] = Math.sqrt(0.5);
        assertClose(expected, out, List.of(e1, e2), 1e-6, "(e1 + e2)/√2");
    }

    @Test
    void sameDirectionDifferentNormsGiveWeightedNorm() {
        Random r = new Random(76);
        float[] x = gaussian(r, 35);
        float[] x3 = new float[35];
        for (int i = 0; i < 35; i++) {
            x3[i] = 3 * x[i];
        }
        // direction of x, norm 0.25·|x| + 0.75·3|x| = 2.5|x|
        float[] out = run(List.of(x, x3), new double[] {1, 3}, null, true, new long[] {5, 7});
        assertClose(scale(d(x), 2.5), out, List.of(x, x3), 1e-6, "parallel inputs");
    }

    @Test
    void singleModelIsReturnedUnchanged() {
        Random r = new Random(77);
        long[] shape = {5, 7};
        float[] x = gaussian(r, 35);
        float[] base = gaussian(r, 35);
        assertArrayEquals(x, run(List.of(x), new double[] {0.4}, null, true, shape), "no base");
        assertArrayEquals(x, run(List.of(x), new double[] {0.4}, base, true, shape), "with base");
        assertArrayEquals(x, run(List.of(x), new double[] {0.4}, base, false, shape), "with base, raw weight");
        // a model identical to the base (zero task vector) is still just returned
        assertArrayEquals(base, run(List.of(base.clone()), new double[] {1}, base, true, shape), "model = base");
        // and so is a single zero tensor
        assertZeros(run(List.of(new float[35]), new double[] {1}, null, true, shape), "single zero tensor");
    }

    @Test
    void antipodalPairFallsBackToLerp() {
        Random r = new Random(78);
        float[] x = gaussian(r, 35);
        float[] neg = new float[35];
        for (int i = 0; i < 35; i++) {
            neg[i] = -x[i];
        }
        assertZeros(run(List.of(x, neg), new double[] {1, 1}, null, true, new long[] {5, 7}), "x, -x");
        // task vectors ±x exactly (dyadic values, so that base ± x − base is exact in float)
        float[] base = new float[35];
        float[] a = new float[35];
        float[] b = new float[35];
        for (int i = 0; i < 35; i++) {
            base[i] = Math.round(r.nextGaussian() * 100);
            float xi = Math.round(r.nextGaussian() * 8) / 8f;
            a[i] = base[i] + xi;
            b[i] = base[i] - xi;
        }
        float[] out = run(List.of(a, b), new double[] {1, 1}, base, true, new long[] {5, 7});
        // 0.5(a − base) + 0.5(b − base) + base = base
        assertClose(d(base), out, List.of(a, b, base), 1e-6, "antipodal task vectors give the base");
        // two zero tensors: the LERP of zeros
        assertZeros(run(List.of(new float[35], new float[35]), new double[] {1, 1}, null, true, new long[] {5, 7}),
                "two zero tensors");
    }

    @Test
    void nearlyAntipodalTaskVectorsStayBounded() {
        // base ± x rounded in float: the task vectors are antipodal up to rounding, so the mean direction is the
        // (ill-conditioned) rounding residual. Whatever direction comes out, the spec's result is base + r·Σw_i n_i
        // with |r| ≤ ~1: it must not blow up through cancellation in the output pass.
        Random r = new Random(78);
        float[] x = gaussian(r, 35);
        float[] base = gaussian(r, 35);
        float[] a = new float[35];
        float[] b = new float[35];
        for (int i = 0; i < 35; i++) {
            a[i] = base[i] + x[i];
            b[i] = base[i] - x[i];
        }
        List<Map<String, Object>> pm = new ArrayList<>(weights(1, 1));
        pm.add(Map.of());
        // (the Gram-matrix route knows |m| only to a few per cent here, hence the slack; float32 accumulation of the
        // ~1e7 coefficients used to give 4× the bound)
        double bound = 1.25 * (norm(sub(d(a), d(base))) + norm(sub(d(b), d(base)))) / 2;
        for (int chunk : new int[] {1, 7, 1 << 16}) {
            float[] out = mergeOnce(multislerp, p(true, pm), 2, new long[] {5, 7}, List.of(a, b, base), chunk, null,
                    1);
            double dist = norm(sub(d(out), d(base)));
            org.junit.jupiter.api.Assertions.assertTrue(dist <= bound,
                    "chunk " + chunk + ": |out − base| = " + dist + " > " + bound);
        }
    }

    @Test
    void antipodalThreeModelsAreRejected() {
        Random r = new Random(79);
        float[] x = gaussian(r, 35);
        float[] neg = new float[35];
        for (int i = 0; i < 35; i++) {
            neg[i] = -x[i];
        }
        // ¼·u − ½·u + ¼·u = 0
        List<float[]> xs = List.of(x, neg, x);
        List<Map<String, Object>> w = weights(1, 2, 1);
        assertThrows(BadInputException.class,
                () -> TensorMergerCall.run(multislerp, p(true, w), -1, new long[] {5, 7}, xs));
        assertThrows(IllegalArgumentException.class, () -> reference(xs, new double[] {1, 2, 1}, null, true, 1e-8));
        // with a base: task vectors ±x (dyadic values, so that base ± x − base is exact in float)
        float[] base = new float[35];
        float[] a = new float[35];
        float[] b = new float[35];
        for (int i = 0; i < 35; i++) {
            base[i] = Math.round(r.nextGaussian() * 100);
            float xi = Math.round(r.nextGaussian() * 8) / 8f;
            a[i] = base[i] + xi;
            b[i] = base[i] - xi;
        }
        List<float[]> withBase = List.of(a, b, b, a, base);
        List<Map<String, Object>> wb = weights(1, 1, 1, 1, Double.NaN);
        assertThrows(BadInputException.class,
                () -> TensorMergerCall.run(multislerp, p(true, wb), 4, new long[] {5, 7}, withBase));
    }

    @Test
    void threeModelsAllEqualToTheBaseGiveTheBase() {
        // MergeLab decision (a frozen layer): mergekit would call this antipodal and stop the merge
        Random r = new Random(80);
        float[] base = gaussian(r, 35);
        List<float[]> xs = List.of(base.clone(), base.clone(), base.clone(), base);
        float[] out = TensorMergerCall.run(multislerp, p(true, weights(1, 2, 1, Double.NaN)), 3, new long[] {5, 7},
                xs);
        org.junit.jupiter.api.Assertions.assertArrayEquals(base, out);
    }

    @Test
    void largeTensorManyModels() {
        Random r = new Random(80);
        long[] shape = {50, 60};
        float[] base = gaussian(r, 3000, 0.02);
        List<float[]> xs = new ArrayList<>();
        for (int m = 0; m < 4; m++) {
            float[] x = new float[3000];
            for (int i = 0; i < 3000; i++) {
                x[i] = base[i] + (float) (r.nextGaussian() * 0.001 * (m + 1));
            }
            xs.add(x);
        }
        double[] w = {0.1, 0.4, 0.2, 0.3};
        assertClose(reference(xs, w, base, true, 1e-8), run(xs, w, base, true, shape), all(xs, base),
                "4 models + base, 3000 elements");
        assertClose(reference(xs, w, null, true, 1e-8), run(xs, w, null, true, shape), xs,
                "4 models, 3000 elements");
    }

    @Test
    void checkParamsRejectsZeroWeightSumOnlyWhenNormalizing() {
        ResolvedParams bad = p(true, weights(1, -1, Double.NaN));
        assertThrows(BadInputException.class, () -> multislerp.checkParams(bad, models(3, 2), "t"));
        ResolvedParams raw = p(false, weights(1, -1, Double.NaN));
        assertDoesNotThrow(() -> multislerp.checkParams(raw, models(3, 2), "t"));
        ResolvedParams ok = p(true, weights(1, 1, Double.NaN));
        assertDoesNotThrow(() -> multislerp.checkParams(ok, models(3, 2), "t"));
    }

    @Test
    void checkModelsNeedsOneModelBesidesTheBase() {
        assertBadModels(multislerp, 1, 0);
        assertBadModels(multislerp, 0, -1);
        assertDoesNotThrow(() -> multislerp.checkModels(models(1, -1)));
        assertDoesNotThrow(() -> multislerp.checkModels(models(2, 0)));
        assertDoesNotThrow(() -> multislerp.checkModels(models(5, 3)));
    }

    /** A bare merge call (no consistency re-runs), for cases expected to throw. */
    private static final class TensorMergerCall {
        static float[] run(MergeMethod m, ResolvedParams p, int base, long[] shape, List<float[]> inputs) {
            return org.mergelab.merge.TensorMerger.merge(m, p, base, shape, inputs, CHUNK, null, 1);
        }
    }
}
