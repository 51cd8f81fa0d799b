package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mergelab.cli.Float64Reference;
import org.mergelab.merge.MergeMethod;

class ModelStockTest {
    private final MergeMethod stock = MethodRegistry.find("model_stock").orElseThrow();

    /** Models at {@code b + a_i·u_i} for unit directions with the given pairwise angle. */
    static List<float[]> fromOffsets(float[] b, double[]... offsets) {
        List<float[]> in = new ArrayList<>();
        for (double[] o : offsets) {
            float[] x = new float[b.length];
            for (int j = 0; j < b.length; j++) {
                x[j] = (float) (b[j] + o[j]);
            }
            in.add(x);
        }
        return in;
    }

    /** Two offsets at 60° (cos = 1/2): t = 2·½/(1 + ½) = 2/3, result b + (2/3)·(mean − b). */
    @Test
    void interpolationFactorForTwoModels() {
        Random r = new Random(1);
        int n = 400;
        double[][] pq = orthonormalPair(r, n);
        float[] b = gaussian(r, n, 0.1);
        double[] o1 = scale(pq[0], 0.3);
        double[] o2 = atAngle(pq, Math.PI / 3, 0.7);
        List<float[]> in = new ArrayList<>(fromOffsets(b, o1, o2));
        in.add(b);
        float[] out = merge(stock, params(globals(stock), empty(3)), 2, new long[] {n}, in);
        double t = 2.0 / 3;
        double[] expected = new double[n];
        for (int j = 0; j < n; j++) {
            double mean = ((double) in.get(0)[j] + in.get(1)[j]) / 2;
            expected[j] = t * mean + (1 - t) * b[j];
        }
        assertClose(expected, out, in, "t = 2/3");
    }

    /** Three models: cos θ is the mean of the three pairwise cosines, t = 3c/(1 + 2c). */
    @Test
    void interpolationFactorForThreeModels() {
        Random r = new Random(2);
        int n = 500;
        float[] b = gaussian(r, n, 0.1);
        List<float[]> in = new ArrayList<>();
        in.add(b);
        for (int i = 0; i < 3; i++) {
            in.add(gaussian(r, n, 0.1));
        }
        double[][] delta = new double[3][];
        for (int i = 0; i < 3; i++) {
            delta[i] = sub(d(in.get(i + 1)), d(b));
        }
        double c = (cosine(delta[0], delta[1]) + cosine(delta[0], delta[2]) + cosine(delta[1], delta[2])) / 3;
        double t = 3 * c / (1 + 2 * c);
        double[] expected = new double[n];
        for (int j = 0; j < n; j++) {
            double mean = (delta[0][j] + delta[1][j] + delta[2][j]) / 3 + b[j];
            expected[j] = t * mean + (1 - t) * b[j];
        }
        float[] out = merge(stock, params(globals(stock), empty(4)), 0, new long[] {n}, in);
        assertClose(expected, out, in, "t = 3c/(1+2c)");
        double[][] x = new double[4][];
        for (int i = 0; i < 4; i++) {
            x[i] = d(in.get(i));
        }
        assertClose(Float64Reference.modelStock(x, 0, false, new long[] {n}), out, in, "reference");
    }

    @Test
    void filterWiseWorksRowByRow() {
        Random r = new Random(3);
        long[] shape = {9, 31};
        int n = numel(shape);
        float[] b = gaussian(r, n, 0.1);
        List<float[]> in = new ArrayList<>();
        in.add(gaussian(r, n, 0.1));
        in.add(b);
        in.add(gaussian(r, n, 0.1));
        float[] near = new float[n];
        for (int j = 0; j < n; j++) {
            near[j] = in.get(0)[j] + (float) (0.01 * r.nextGaussian());
        }
        in.add(near);
        double[][] x = new double[4][];
        for (int i = 0; i < 4; i++) {
            x[i] = d(in.get(i));
        }
        float[] rows = merge(stock, params(globals(stock, "filter_wise", true), empty(4)), 1, shape, in);
        assertClose(Float64Reference.modelStock(x, 1, true, shape), rows, in, "filter_wise");
        float[] whole = merge(stock, params(globals(stock), empty(4)), 1, shape, in);
        assertClose(Float64Reference.modelStock(x, 1, false, shape), whole, in, "whole tensor");
    }

    /** Models equal to the base: cos = 0, t = 0, the base. */
    @Test
    void unchangedModelsGiveTheBase() {
        float[] b = {1, 2, 3, 4};
        float[] out = merge(stock, params(globals(stock), empty(3)), 0, new long[] {4}, List.of(b, b.clone(),
                b.clone()));
        assertArrayEquals(b, out);
    }
}
