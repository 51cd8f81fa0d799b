package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.ResolvedParams;

class NuslerpTest {
    private final Nuslerp nuslerp = new Nuslerp();

    // ---------------------------------------------------------------- independent float64 reference

    /** mergekit's per-vector nuslerp on one pair of vectors. */
    static double[] vectorSlerp(double t, double[] v0, double[] v1) {
        double[] u0 = scale(v0, 1 / Math.max(norm(v0), 1e-7));
        double[] u1 = scale(v1, 1 / Math.max(norm(v1), 1e-7));
        double cos = Math.max(-1, Math.min(1, dot(u0, u1)));
        double theta = Math.acos(cos);
        double sin = Math.sin(theta);
        if (Math.abs(sin) < 1e-8) {
            return lerp(v0, v1, t);
        }
        return scale(add(scale(v0, Math.sin((1 - t) * theta)), scale(v1, Math.sin(t * theta))), 1 / sin);
    }

    /**
     * The flat indices of each vector: the whole tensor (flatten), slices along the last axis (rows, the default), or
     * slices along the first axis ({@code nuslerp_row_wise: true}: after {@code transpose(0, -1)} the first axis is
     * the last one).
     */
    static List<int[]> vectors(long[] shape, boolean flatten, boolean rowWise) {
        int n = numel(shape);
        List<int[]> out = new ArrayList<>();
        if (flatten || shape.length <= 1) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) {
                all[i] = i;
            }
            out.add(all);
            return out;
        }
        if (!rowWise) {
            int len = (int) shape[shape.length - 1];
            for (int start = 0; start < n; start += len) {
                int[] v = new int[len];
                for (int j = 0; j < len; j++) {
                    v[j] = start + j;
                }
                out.add(v);
            }
        } else {
            int first = (int) shape[0];
            int inner = n / first;
            for (int p = 0; p < inner; p++) {
                int[] v = new int[first];
                for (int a = 0; a < first; a++) {
                    v[a] = a * inner + p;
                }
                out.add(v);
            }
        }
        return out;
    }

    static double[] nuslerpRef(double t, double[] v0, double[] v1, long[] shape, boolean flatten, boolean rowWise) {
        double[] res = new double[v0.length];
        for (int[] idx : vectors(shape, flatten, rowWise)) {
            double[] a = new double[idx.length];
            double[] b = new double[idx.length];
            for (int j = 0; j < idx.length; j++) {
                a[j] = v0[idx[j]];
                b[j] = v1[idx[j]];
            }
            double[] r = vectorSlerp(t, a, b);
            for (int j = 0; j < idx.length; j++) {
                res[idx[j]] = r[j];
            }
        }
        return res;
    }

    /** The task's top level: t from the weights, optional base (task vectors). */
    static double[] reference(double w1, double w2, float[] x1, float[] x2, float[] base, long[] shape,
            boolean flatten, boolean rowWise) {
        double t = Math.abs(w1 + w2) < 1e-6 ? 0.5 : w2 / (w1 + w2);
        if (base == null) {
            return nuslerpRef(t, d(x1), d(x2), shape, flatten, rowWise);
        }
        double[] b = d(base);
        return add(b, nuslerpRef(t, sub(d(x1), b), sub(d(x2), b), shape, flatten, rowWise));
    }

    private ResolvedParams p(boolean flatten, boolean rowWise, List<Map<String, Object>> w) {
        return params(globals(nuslerp, "nuslerp_flatten", flatten, "nuslerp_row_wise", rowWise), w);
    }

    private float[] run(double w1, double w2, float[] x1, float[] x2, long[] shape, boolean flatten,
            boolean rowWise) {
        return merge(nuslerp, p(flatten, rowWise, weights(w1, w2)), -1, shape, List.of(x1, x2));
    }

    private static void assertDiffers(float[] a, float[] b, double minDiff, String what) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        if (!(m > minDiff)) {
            fail(what + ": results should differ (max diff " + m + ")");
        }
    }

    // ---------------------------------------------------------------- tests

    @Test
    void declaresMergekitParameters() {
        assertEquals("nuslerp", nuslerp.name());
        assertEquals(MergeMethod.BaseRole.SPECIAL, nuslerp.baseRole());
        Map<String, Object> g = globals(nuslerp);
        assertEquals(Boolean.TRUE, g.get("nuslerp_flatten"));
        assertEquals(Boolean.FALSE, g.get("nuslerp_row_wise"));
        ParamSpec w = nuslerp.params().stream().filter(s -> s.name().equals("weight")).findFirst().orElseThrow();
        assertEquals(ParamSpec.Scope.PER_MODEL, w.scope());
        assertTrue(w.required());
    }

    @Test
    void tIsW2OverW1PlusW2() {
        Random r = new Random(51);
        long[] shape = {5, 7};
        float[] x1 = gaussian(r, 35);
        float[] x2 = gaussian(r, 35, 2);
        List<float[]> xs = List.of(x1, x2);
        float[] out = run(1, 3, x1, x2, shape, true, false);
        assertClose(nuslerpRef(0.75, d(x1), d(x2), shape, true, false), out, xs, "t = 3/4");
        // only the ratio matters
        assertArrayEquals(out, run(2, 6, x1, x2, shape, true, false), "weights (2, 6) = (1, 3)");
        // t = 0.75 differs from the t = 0.25 merge: the order of the models counts
        assertDiffers(out, run(3, 1, x1, x2, shape, true, false), 1e-3, "(1,3) vs (3,1)");
        // negative weights: t = −1/(2 − 1) = −1 extrapolates
        assertClose(nuslerpRef(-1, d(x1), d(x2), shape, true, false), run(2, -1, x1, x2, shape, true, false), xs,
                "t = -1");
    }

    @Test
    void weightsSummingToZeroGiveTOneHalf() {
        Random r = new Random(52);
        long[] shape = {13};
        float[] x1 = gaussian(r, 13);
        float[] x2 = gaussian(r, 13);
        float[] half = run(1, 1, x1, x2, shape, true, false);
        assertArrayEquals(half, run(1, -1, x1, x2, shape, true, false), "|w1+w2| = 0");
        assertArrayEquals(half, run(0.3, -0.3 + 5e-7, x1, x2, shape, true, false), "|w1+w2| < 1e-6");
        assertClose(nuslerpRef(0.5, d(x1), d(x2), shape, true, false), half, List.of(x1, x2), "t = 0.5");
    }

    @Test
    void endpointsFromWeights() {
        Random r = new Random(53);
        long[] shape = {5, 7};
        float[] x1 = gaussian(r, 35);
        float[] x2 = gaussian(r, 35);
        List<float[]> xs = List.of(x1, x2);
        for (boolean flatten : new boolean[] {true, false}) {
            assertClose(d(x1), run(1, 0, x1, x2, shape, flatten, false), xs, 1e-6, "t=0 flatten=" + flatten);
            assertClose(d(x2), run(0, 1, x1, x2, shape, flatten, false), xs, 1e-6, "t=1 flatten=" + flatten);
            assertClose(d(x1), run(1, 0, x1, x2, shape, flatten, true), xs, 1e-6, "t=0 columns");
        }
    }

    @Test
    void flattenedWithoutBaseMatchesSlerpWhereBothApply() {
        Random r = new Random(54);
        long[] shape = {5, 7};
        float[] x1 = gaussian(r, 35);
        float[] x2 = gaussian(r, 35);
        float[] out = run(0.6, 0.4, x1, x2, shape, true, false);
        assertClose(SlerpTest.reference(0.4, d(x1), d(x2)), out, List.of(x1, x2), "nuslerp(0.6, 0.4) = slerp(0.4)");
    }

    @Test
    void withBaseSlerpsTheTaskVectors() {
        Random r = new Random(55);
        long[] shape = {5, 7};
        float[] base = gaussian(r, 35);
        float[] x1 = new float[35];
        float[] x2 = new float[35];
        for (int i = 0; i < 35; i++) {
            x1[i] = base[i] + (float) (0.1 * r.nextGaussian());
            x2[i] = base[i] + (float) (0.3 * r.nextGaussian());
        }
        double[] expected = reference(1, 2, x1, x2, base, shape, true, false);
        List<float[]> xs = List.of(x1, x2, base);
        // the base may sit anywhere among the inputs; the other two keep their order
        for (int pos = 0; pos < 3; pos++) {
            List<float[]> inputs = new ArrayList<>(List.of(x1, x2));
            inputs.add(pos, base);
            List<Map<String, Object>> w = new ArrayList<>(weights(1, 2));
            w.add(pos, Map.of());
            float[] out = merge(nuslerp, p(true, false, w), pos, shape, inputs);
            assertClose(expected, out, xs, "base at " + pos);
        }
        // and it is not the plain (no-base) nuslerp of the models
        float[] noBase = run(1, 2, x1, x2, shape, true, false);
        float[] withBase = merge(nuslerp, p(true, false, weights(1, 2, Double.NaN)), 2, shape, xs);
        assertDiffers(noBase, withBase, 1e-3, "with vs without base");
    }

    @Test
    void withBaseRowWiseAndColumnWise() {
        Random r = new Random(56);
        long[] shape = {5, 7};
        float[] base = gaussian(r, 35);
        float[] x1 = gaussian(r, 35);
        float[] x2 = gaussian(r, 35);
        List<float[]> xs = List.of(base, x1, x2);
        List<Map<String, Object>> w = weights(Double.NaN, 0.7, 0.3);
        assertClose(reference(0.7, 0.3, x1, x2, base, shape, false, false),
                merge(nuslerp, p(false, false, w), 0, shape, xs), xs, "rows with base");
        assertClose(reference(0.7, 0.3, x1, x2, base, shape, false, true),
                merge(nuslerp, p(false, true, w), 0, shape, xs), xs, "columns with base");
    }

    @Test
    void rowsAreLastAxisSlicesAndRowWiseMeansColumns() {
        Random r = new Random(57);
        long[] shape = {5, 7};
        float[] x1 = gaussian(r, 35);
        float[] x2 = gaussian(r, 35);
        List<float[]> xs = List.of(x1, x2);
        float[] flat = run(0.5, 0.5, x1, x2, shape, true, false);
        float[] rows = run(0.5, 0.5, x1, x2, shape, false, false);
        float[] cols = run(0.5, 0.5, x1, x2, shape, false, true);
        assertClose(nuslerpRef(0.5, d(x1), d(x2), shape, false, false), rows, xs, "rows W[i,:]");
        assertClose(nuslerpRef(0.5, d(x1), d(x2), shape, false, true), cols, xs, "columns W[:,j]");
        assertDiffers(flat, rows, 1e-3, "flatten vs rows");
        assertDiffers(rows, cols, 1e-3, "rows vs columns");
        assertDiffers(flat, cols, 1e-3, "flatten vs columns");
        // row_wise has no effect when flattening
        assertArrayEquals(flat, run(0.5, 0.5, x1, x2, shape, true, true), "row_wise ignored with flatten");
    }

    @Test
    void rowAndColumnVectorsByHand() {
        // 2×2: rows are (x[0],x[1]) and (x[2],x[3]); columns are (x[0],x[2]) and (x[1],x[3])
        float[] x1 = {1, 0, 0, 2};
        float[] x2 = {0, 1, 3, 0};
        long[] shape = {2, 2};
        double h = Math.sqrt(0.5);
        // rows: each pair is orthogonal; row 0: unit vectors → (h, h); row 1: (0,2) and (3,0) at 90° → (3h, 2h)
        float[] rows = run(1, 1, x1, x2, shape, false, false);
        assertArrayEquals(new float[] {(float) h, (float) h, (float) (3 * h), (float) (2 * h)}, rows, 1e-6f);
        // columns: col 0 = (1,0) vs (0,3) → (h, 3h); col 1 = (0,2) vs (1,0) → (h, 2h) in (row0,row1) order
        float[] cols = run(1, 1, x1, x2, shape, false, true);
        assertArrayEquals(new float[] {(float) h, (float) h, (float) (3 * h), (float) (2 * h)}, cols, 1e-6f);
        // a case where they differ: x2 rows parallel to x1 rows, columns not
        float[] y1 = {1, 1, 1, -1};
        float[] y2 = {2, 2, -1, 1};
        float[] yr = run(1, 1, y1, y2, shape, false, false);
        float[] yc = run(1, 1, y1, y2, shape, false, true);
        // rows: row 0 parallel → LERP (1.5, 1.5); row 1 anti-parallel → LERP (0, 0)
        assertArrayEquals(new float[] {1.5f, 1.5f, 0, 0}, yr, 1e-6f);
        assertClose(nuslerpRef(0.5, d(y1), d(y2), shape, false, true), yc, List.of(y1, y2), "columns by reference");
        assertDiffers(yr, yc, 0.1, "rows vs columns by hand");
    }

    @Test
    void threeDimensionalTensors() {
        Random r = new Random(58);
        long[] shape = {3, 4, 5};
        float[] x1 = gaussian(r, 60);
        float[] x2 = gaussian(r, 60);
        List<float[]> xs = List.of(x1, x2);
        assertClose(nuslerpRef(0.3, d(x1), d(x2), shape, false, false), run(0.7, 0.3, x1, x2, shape, false, false),
                xs, "3-D rows (last axis)");
        assertClose(nuslerpRef(0.3, d(x1), d(x2), shape, false, true), run(0.7, 0.3, x1, x2, shape, false, true),
                xs, "3-D row_wise (first axis)");
    }

    @Test
    void oneDimensionalTensorIsOneVectorInEveryMode() {
        Random r = new Random(59);
        long[] shape = {13};
        float[] x1 = gaussian(r, 13);
        float[] x2 = gaussian(r, 13);
        float[] flat = run(0.4, 0.6, x1, x2, shape, true, false);
        assertClose(nuslerpRef(0.6, d(x1), d(x2), shape, true, false), flat, List.of(x1, x2), "1-D flatten");
        assertClose(d(flat), run(0.4, 0.6, x1, x2, shape, false, false), List.of(x1, x2), 1e-6, "1-D rows");
        assertClose(d(flat), run(0.4, 0.6, x1, x2, shape, false, true), List.of(x1, x2), 1e-6, "1-D columns");
    }

    @Test
    void colinearVectorsFallBackToLerpPerVector() {
        Random r = new Random(60);
        long[] shape = {5, 7};
        float[] x1 = gaussian(r, 35);
        float[] x2 = gaussian(r, 35);
        for (int j = 0; j < 7; j++) {
            x2[7 + j] = 2 * x1[7 + j]; // row 1 parallel
            x2[21 + j] = -x1[21 + j]; // row 3 anti-parallel
        }
        float[] out = run(0.5, 0.5, x1, x2, shape, false, false);
        assertClose(nuslerpRef(0.5, d(x1), d(x2), shape, false, false), out, List.of(x1, x2), "rows");
        for (int j = 0; j < 7; j++) {
            assertEquals(1.5 * x1[7 + j], out[7 + j], 1e-6, "parallel row is LERP");
            assertEquals(0, out[21 + j], 1e-6, "anti-parallel row is LERP");
        }
        // whole-tensor parallel inputs: LERP
        float[] y2 = new float[35];
        for (int i = 0; i < 35; i++) {
            y2[i] = 3 * x1[i];
        }
        assertClose(lerp(d(x1), d(y2), 0.25), run(3, 1, x1, y2, shape, true, false), List.of(x1, y2), 1e-6,
                "parallel tensors");
    }

    @Test
    void onlyTrulyColinearVectorsFallBack() {
        // unlike slerp's |cos| > 0.9995, nuslerp keeps the spherical formula down to |sin θ| < 1e-8
        Random r = new Random(63);
        double[][] pq = orthonormalPair(r, 500);
        float[] v0 = f(atAngle(pq, 0, 2));
        // near anti-parallel (sin θ = 0.005): SLERP keeps the norm where LERP would collapse to ~0.005
        float[] anti = f(atAngle(pq, Math.PI - 0.005, 2));
        float[] out = run(1, 1, v0, anti, new long[] {500}, true, false);
        assertRelEquals(2, norm(out), 1e-5, "norm of the near-antipodal midpoint");
        assertClose(nuslerpRef(0.5, d(v0), d(anti), new long[] {500}, true, false), out, List.of(v0, anti),
                "near-antipodal");
        // small angle (θ = 0.009, cos ≈ 0.99996 — slerp would LERP here): no norm dip
        float[] near = f(atAngle(pq, 0.009, 2));
        float[] mid = run(1, 1, v0, near, new long[] {500}, true, false);
        assertRelEquals(2, norm(mid), 1e-6, "norm of the small-angle midpoint");
        float[] viaSlerp = merge(new Slerp(), params(globals(new Slerp(), "t", 0.5), empty(2)), 0,
                new long[] {500}, List.of(v0, near));
        assertRelEquals(2 * Math.cos(0.0045), norm(viaSlerp), 1e-6, "slerp's LERP fallback dips");
    }

    @Test
    void zeroTensorsAndZeroRows() {
        long[] shape = {5, 7};
        float[] z = new float[35];
        assertZeros(run(0.5, 0.5, z, z, shape, true, false), "zeros flatten");
        assertZeros(run(0.5, 0.5, z, z, shape, false, false), "zeros rows");
        assertZeros(run(0.5, 0.5, z, z, shape, false, true), "zeros columns");
        Random r = new Random(61);
        float[] x1 = gaussian(r, 35);
        float[] x2 = gaussian(r, 35);
        java.util.Arrays.fill(x1, 14, 21, 0f); // row 2 of x1 is zero
        float[] out = run(0.5, 0.5, x1, x2, shape, false, false);
        assertClose(nuslerpRef(0.5, d(x1), d(x2), shape, false, false), out, List.of(x1, x2), "zero row");
        for (int j = 14; j < 21; j++) {
            assertEquals(Math.sin(Math.PI / 4) * x2[j], out[j], 1e-6, "zero row: sin(π/4)·x2");
        }
    }

    @Test
    void largeTensorAllModes() {
        Random r = new Random(62);
        long[] shape = {48, 64};
        float[] base = gaussian(r, 3072, 0.02);
        float[] x1 = new float[3072];
        float[] x2 = new float[3072];
        for (int i = 0; i < 3072; i++) {
            x1[i] = base[i] + (float) (r.nextGaussian() * 0.002);
            x2[i] = base[i] + (float) (r.nextGaussian() * 0.003);
        }
        List<float[]> xs = List.of(x1, x2, base);
        for (boolean flatten : new boolean[] {true, false}) {
            for (boolean rowWise : new boolean[] {false, true}) {
                float[] out = merge(nuslerp, p(flatten, rowWise, weights(0.35, 0.65, Double.NaN)), 2, shape, xs);
                assertClose(reference(0.35, 0.65, x1, x2, base, shape, flatten, rowWise), out, xs,
                        "flatten=" + flatten + " rowWise=" + rowWise);
            }
        }
    }

    @Test
    void checkModelsNeedsExactlyTwoBesidesTheBase() {
        assertDoesNotThrow(() -> nuslerp.checkModels(models(2, -1)));
        assertDoesNotThrow(() -> nuslerp.checkModels(models(3, 0)));
        assertDoesNotThrow(() -> nuslerp.checkModels(models(3, 2)));
        assertBadModels(nuslerp, 3, -1);
        assertBadModels(nuslerp, 1, -1);
        assertBadModels(nuslerp, 2, 0);
        assertBadModels(nuslerp, 4, 1);
    }
}
