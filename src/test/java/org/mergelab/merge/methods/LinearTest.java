package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mergelab.BadInputException;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.ResolvedParams;

class LinearTest {
    private final Linear linear = new Linear();

    /** Independent float64 reference: Σ w_i x_i, divided by Σ w_i when normalising. */
    static double[] reference(List<float[]> xs, double[] w, boolean normalize) {
        int n = xs.get(0).length;
        double[] r = new double[n];
        double sum = 0;
        for (int i = 0; i < xs.size(); i++) {
            sum += w[i];
            for (int j = 0; j < n; j++) {
                r[j] += w[i] * xs.get(i)[j];
            }
        }
        return normalize ? scale(r, 1 / sum) : r;
    }

    private float[] run(List<float[]> xs, double[] w, boolean normalize, long[] shape, int base) {
        ResolvedParams p = params(globals(linear, "normalize", normalize), weights(w));
        return merge(linear, p, base, shape, xs);
    }

    @Test
    void declaresMergekitParameters() {
        assertEquals("linear", linear.name());
        assertEquals(MergeMethod.BaseRole.ORDINARY, linear.baseRole());
        List<ParamSpec> ps = linear.params();
        ParamSpec weight = ps.stream().filter(s -> s.name().equals("weight")).findFirst().orElseThrow();
        assertEquals(ParamSpec.Scope.PER_MODEL, weight.scope());
        assertEquals(true, weight.required());
        ParamSpec normalize = ps.stream().filter(s -> s.name().equals("normalize")).findFirst().orElseThrow();
        assertEquals(ParamSpec.Scope.GLOBAL, normalize.scope());
        assertEquals(Boolean.TRUE, normalize.defaultValue());
    }

    @Test
    void normalizedWeightedAverageOfThreeModels() {
        Random r = new Random(11);
        long[] shape = {5, 7};
        List<float[]> xs = List.of(gaussian(r, 35), gaussian(r, 35), gaussian(r, 35));
        double[] w = {0.2, 0.5, 1.3};
        float[] out = run(xs, w, true, shape, -1);
        assertClose(reference(xs, w, true), out, xs, "normalized linear");
    }

    @Test
    void normalizedAverageOfTwoIsTheMidpoint() {
        float[] a = {1, 2, 3, 4, -5, 6, 0.5f, 8, 9, 10, 11, 12, 13};
        float[] b = {3, 2, 1, 0, 5, -6, 0.5f, 0, 1, 2, 3, 4, 5};
        float[] out = run(List.of(a, b), new double[] {7, 7}, true, new long[] {13}, -1);
        float[] expected = {2, 2, 2, 2, 0, 0, 0.5f, 4, 5, 6, 7, 8, 9};
        assertArrayEquals(expected, out, 1e-6f);
    }

    @Test
    void unnormalizedIsThePlainWeightedSum() {
        Random r = new Random(12);
        long[] shape = {13};
        List<float[]> xs = List.of(gaussian(r, 13), gaussian(r, 13));
        double[] w = {0.7, 0.6};
        float[] out = run(xs, w, false, shape, -1);
        assertClose(reference(xs, w, false), out, xs, "unnormalized linear");
        // and it differs from the normalised result by the factor Σw = 1.3
        float[] norm = run(xs, w, true, shape, -1);
        for (int i = 0; i < 13; i++) {
            assertEquals(norm[i] * 1.3, out[i], 1e-5 * scaleOf(xs));
        }
    }

    @Test
    void negativeWeightsExtrapolate() {
        Random r = new Random(13);
        long[] shape = {5, 7};
        List<float[]> xs = List.of(gaussian(r, 35), gaussian(r, 35));
        double[] w = {1.5, -0.5};
        float[] out = run(xs, w, true, shape, -1);
        double[] x0 = d(xs.get(0));
        double[] x1 = d(xs.get(1));
        // 1.5·x0 − 0.5·x1 = x0 + 0.5·(x0 − x1)
        assertClose(add(x0, scale(sub(x0, x1), 0.5)), out, xs, "extrapolation");
        float[] raw = run(xs, new double[] {-2, 0.25}, false, shape, -1);
        assertClose(reference(xs, new double[] {-2, 0.25}, false), raw, xs, "negative weights, no normalize");
    }

    @Test
    void singleModelIsReturnedWhenNormalizedAndScaledOtherwise() {
        Random r = new Random(14);
        List<float[]> xs = List.of(gaussian(r, 13));
        float[] norm = run(xs, new double[] {0.3}, true, new long[] {13}, -1);
        assertClose(d(xs.get(0)), norm, xs, 1e-6, "single model, normalize");
        float[] raw = run(xs, new double[] {0.3}, false, new long[] {13}, -1);
        assertClose(scale(d(xs.get(0)), 0.3), raw, xs, 1e-6, "single model, no normalize");
    }

    @Test
    void baseModelIsAnOrdinaryInput() {
        Random r = new Random(15);
        long[] shape = {5, 7};
        List<float[]> xs = List.of(gaussian(r, 35), gaussian(r, 35), gaussian(r, 35));
        double[] w = {0.25, 0.25, 0.5};
        float[] noBase = run(xs, w, true, shape, -1);
        float[] withBase = run(xs, w, true, shape, 2);
        assertArrayEquals(noBase, withBase);
        assertClose(reference(xs, w, true), withBase, xs, "base as ordinary input");
    }

    @Test
    void zeroTensorsGiveZeros() {
        List<float[]> xs = List.of(new float[35], new float[35]);
        assertZeros(run(xs, new double[] {0.4, 0.6}, true, new long[] {5, 7}, -1), "zeros");
        assertZeros(run(xs, new double[] {0.4, 0.6}, false, new long[] {5, 7}, -1), "zeros");
    }

    @Test
    void largeTensorManyModels() {
        Random r = new Random(16);
        long[] shape = {40, 75};
        List<float[]> xs = List.of(gaussian(r, 3000), gaussian(r, 3000, 3), gaussian(r, 3000, 0.1),
                gaussian(r, 3000));
        double[] w = {0.1, 0.2, 0.3, 0.4};
        assertClose(reference(xs, w, true), run(xs, w, true, shape, -1), xs, "4 models, 3000 elements");
    }

    @Test
    void weightsSummingToZeroAreRejectedOnlyWhenNormalizing() {
        List<Map<String, Object>> w = weights(1.0, -1.0);
        ResolvedParams normalized = params(globals(linear, "normalize", true), w);
        assertThrows(BadInputException.class, () -> linear.checkParams(normalized, models(2, -1), "t"));
        ResolvedParams raw = params(globals(linear, "normalize", false), w);
        assertDoesNotThrow(() -> linear.checkParams(raw, models(2, -1), "t"));
        ResolvedParams ok = params(globals(linear, "normalize", true), weights(1.0, -0.5));
        assertDoesNotThrow(() -> linear.checkParams(ok, models(2, -1), "t"));
        // and the unnormalised merge then is the difference x0 − x1
        float[] a = {3, 4, 5};
        float[] b = {1, 1, 1};
        assertArrayEquals(new float[] {2, 3, 4}, merge(linear, raw, -1, new long[] {3}, List.of(a, b)));
    }

    @Test
    void checkModelsNeedsAtLeastOneModel() {
        assertBadModels(linear, 0, -1);
        assertDoesNotThrow(() -> linear.checkModels(models(1, -1)));
        assertDoesNotThrow(() -> linear.checkModels(models(3, 0)));
    }
}
