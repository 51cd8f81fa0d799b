package org.mergelab.zoo.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Two AdamW steps against the textbook update (PyTorch's AdamW) computed in float64. */
class AdamWTest {
    @Test
    void matchesTheReferenceUpdateWithClippingAndDecayOnMatricesOnly() {
        AdamW.Settings s = new AdamW.Settings(0.9, 0.95, 1e-8, 0.1, 1.0);
        double[] w = {0.5, -0.25, 1.0, 2.0};
        double[] n = {1.0, 1.0};
        double[][] gradW = {{3.0, -1.0, 0.5, 0.0}, {0.01, 0.02, -0.03, 0.04}};
        double[][] gradN = {{2.0, -2.0}, {0.0, 0.05}};
        double[] lr = {1e-2, 5e-3};

        Map<String, INDArray> params = new LinkedHashMap<>();
        params.put("w", Nd4j.createFromArray(toFloat(w)).reshape(2, 2));
        params.put("n", Nd4j.createFromArray(toFloat(n)));
        AdamW adamw = new AdamW(s, params);
        double[] mW = new double[4], vW = new double[4], mN = new double[2], vN = new double[2];
        for (int step = 0; step < 2; step++) {
            Map<String, INDArray> grads = Map.of("w", Nd4j.createFromArray(toFloat(gradW[step])).reshape(2, 2), "n",
                    Nd4j.createFromArray(toFloat(gradN[step])));
            double norm = Math.sqrt(sumSquares(gradW[step]) + sumSquares(gradN[step]));
            assertEquals(norm, adamw.update(params, grads, lr[step]), 1e-6);
            double clip = norm > 1 ? 1 / norm : 1;
            reference(w, gradW[step], clip, mW, vW, lr[step], step + 1, s, true);
            reference(n, gradN[step], clip, mN, vN, lr[step], step + 1, s, false);
        }
        float[] gotW = params.get("w").data().asFloat();
        float[] gotN = params.get("n").data().asFloat();
        for (int i = 0; i < 4; i++) {
            assertEquals(w[i], gotW[i], 1e-6, "w[" + i + "]");
        }
        for (int i = 0; i < 2; i++) {
            assertEquals(n[i], gotN[i], 1e-6, "norm weight [" + i + "] (not decayed)");
        }
    }

    private static void reference(double[] p, double[] g, double clip, double[] m, double[] v, double lr, int t,
            AdamW.Settings s, boolean decay) {
        for (int i = 0; i < p.length; i++) {
            double gi = g[i] * clip;
            m[i] = s.beta1() * m[i] + (1 - s.beta1()) * gi;
            v[i] = s.beta2() * v[i] + (1 - s.beta2()) * gi * gi;
            double mHat = m[i] / (1 - Math.pow(s.beta1(), t));
            double vHat = v[i] / (1 - Math.pow(s.beta2(), t));
            if (decay) {
                p[i] *= 1 - lr * s.weightDecay();
            }
            p[i] -= lr * mHat / (Math.sqrt(vHat) + s.epsilon());
        }
    }

    private static double sumSquares(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x * x;
        }
        return s;
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }
}
