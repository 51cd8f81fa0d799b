package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mergelab.cli.Float64Reference;
import org.mergelab.merge.MergeMethod;

class SceTest {
    private final MergeMethod sce = MethodRegistry.find("sce").orElseThrow();

    static double[][] d(List<float[]> in) {
        double[][] x = new double[in.size()][];
        for (int i = 0; i < x.length; i++) {
            x[i] = MethodTestSupport.d(in.get(i));
        }
        return x;
    }

    /**
     * Ten elements with three models that agree everywhere except in how much they spread: the variance at element
     * j grows with j, with two pairs of equal variances and one zero. select_topk 0.5 of 9 non-zero variances keeps
     * floor(4.5) = 4: the largest variance (9), then 8, then the tied pair at 7 (both), and nothing else.
     */
    @Test
    void selectionKeepsTheLargestVariances() {
        float[] spread = {3, 1, 2, 0, 7, 5, 7, 9, 8, 5};
        float[] b = new float[10];
        float[] x1 = new float[10];
        float[] x2 = new float[10];
        float[] x3 = new float[10];
        for (int j = 0; j < 10; j++) {
            b[j] = 0.5f;
            x1[j] = b[j] + 1 + spread[j] / 8;
            x2[j] = b[j] + 1;
            x3[j] = b[j] + 1 - spread[j] / 8;
        }
        List<float[]> in = List.of(b, x1, x2, x3);
        float[] out = merge(sce, params(globals(sce, "select_topk", 0.5), empty(4)), 0, new long[] {10}, in);
        boolean[] selected = {false, false, false, false, true, false, true, true, true, false};
        double[] ref = Float64Reference.sce(d(in), 0, 0.5);
        assertCloseAbs(ref, out, 1e-6, "reference");
        for (int j = 0; j < 10; j++) {
            assertEquals(!selected[j], out[j] == b[j], "element " + j + " selected: " + selected[j]);
        }
        // with select_topk 1 every element is merged; with 0 none
        float[] all = merge(sce, params(globals(sce), empty(4)), 0, new long[] {10}, in);
        assertCloseAbs(Float64Reference.sce(d(in), 0, 1), all, 1e-6, "select_topk 1");
        for (int j = 0; j < 10; j++) {
            assertEquals(j == 3, all[j] == b[j] + 1, "element " + j + " differs from b + 1 unless the spread is 0");
        }
        assertArrayEquals(b, merge(sce, params(globals(sce, "select_topk", 0.0), empty(4)), 0, new long[] {10}, in));
    }

    /** Ties in variance resolve by flat index: of four equal variances and k = 2, the first two. */
    @Test
    void equalVariancesResolveByIndex() {
        float[] b = new float[4];
        float[] x1 = {1, 1, 1, 1};
        float[] x2 = {-1, -1, -1, -1};
        float[] x3 = {0.5f, 0.5f, 0.5f, 0.5f};
        float[] out = merge(sce, params(globals(sce, "select_topk", 0.5), empty(4)), 0, new long[] {4},
                List.of(b, x1, x2, x3));
        assertEquals(0f, out[2]);
        assertEquals(0f, out[3]);
        assertEquals(out[0], out[1]);
        // c = mean of the selected τ² over all 4 elements: 1/2, 1/2, 1/8 → 4/9, 4/9, 1/9; the vote 1 − 1 + 0.5 elects +,
        // so x1 and x3 mix: (4/9·1 + 1/9·0.5)/(5/9) = 0.9
        assertEquals(0.9, out[0], 1e-6);
    }

    @Test
    void matchesFloat64Reference() {
        Random r = new Random(4);
        long[] shape = {20, 30};
        int n = numel(shape);
        for (double topk : new double[] {1.0, 0.7, 0.25, 0.01}) {
            float[] b = gaussian(r, n, 0.5);
            List<float[]> in = new ArrayList<>();
            in.add(gaussian(r, n, 0.1));
            in.add(b);
            for (int i = 0; i < 2; i++) {
                float[] x = new float[n];
                for (int j = 0; j < n; j++) {
                    x[j] = b[j] + (float) (r.nextGaussian() * 0.3);
                }
                in.add(x);
            }
            float[] out = merge(sce, params(globals(sce, "select_topk", topk), empty(4)), 1, shape, in);
            assertClose(Float64Reference.sce(d(in), 1, topk), out, in, "select_topk " + topk);
        }
    }

    /** Mean squares summing below 1e-6 fall back to equal coefficients (mergekit). */
    @Test
    void tinyTaskVectorsUseEqualCoefficients() {
        float[] b = {0, 0};
        float[] x1 = {1e-4f, 1e-4f};
        float[] x2 = {3e-4f, 3e-4f};
        float[] out = merge(sce, params(globals(sce), empty(3)), 0, new long[] {2}, List.of(b, x1, x2));
        assertEquals(2e-4, out[0], 1e-10, "uniform 1/2 each");
        float[] big = merge(sce, params(globals(sce), empty(3)), 0, new long[] {2},
                List.of(b, new float[] {1, 1}, new float[] {3, 3}));
        assertEquals((1 * 1 + 9 * 3) / 10.0, big[0], 1e-6, "coefficients 1/10 and 9/10");
    }
}
