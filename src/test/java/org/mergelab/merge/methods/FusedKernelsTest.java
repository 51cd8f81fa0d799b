package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.ResolvedParams;

/**
 * The one-pass kernels (linear-style combinations of one or two terms, task arithmetic without a sparsifier) give the
 * bits of the term-by-term reference on every kind of float: odd lengths, signed zeros, subnormals, infinities, NaN.
 */
class FusedKernelsTest {
    private static final float[] SPECIAL = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1.2e-38f, Float.MAX_VALUE,
            -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 3e38f, -7e-45f};

    private static float[] awkward(Random r, int n) {
        float[] x = new float[n];
        for (int j = 0; j < n; j++) {
            x[j] = r.nextInt(4) == 0 ? SPECIAL[r.nextInt(SPECIAL.length)] : (float) (r.nextGaussian() * 3);
        }
        return x;
    }

    private static void assertSameBits(float[] expected, float[] actual, String what) {
        for (int j = 0; j < expected.length; j++) {
            int e = Float.floatToRawIntBits(expected[j]);
            int a = Float.floatToRawIntBits(actual[j]);
            if (e != a && !(Float.isNaN(expected[j]) && Float.isNaN(actual[j]))) {
                assertEquals(Integer.toHexString(e), Integer.toHexString(a), what + " at " + j);
            }
        }
    }

    @Test
    void combinationsOfOneOrTwoTermsMatchTheTermByTermSum() {
        Random r = new Random(5);
        double[][] coefficients = {{0.5, 0.5}, {0.25, 0.75}, {0, 1}, {1, 0}, {-0.5, 1.5}, {0.3, 0, 0.7},
                {0, 0, 1}, {1e-30, 2}, {0, 0}, {0.2, 0.3, 0.5}};
        for (int n : new int[] {0, 1, 7, 16, 17, 1000, 4099}) {
            for (double[] c : coefficients) {
                float[][] in = new float[c.length][];
                for (int i = 0; i < c.length; i++) {
                    in[i] = awkward(r, n);
                }
                float[] fast = new float[n];
                float[] reference = new float[n];
                java.util.Arrays.fill(fast, 42f);
                Combination.of(c).apply(0, in, fast, n);
                float[] cf = new float[c.length];
                for (int i = 0; i < c.length; i++) {
                    cf[i] = (float) c[i];
                }
                Combination.accumulate(cf, in, reference, n);
                assertSameBits(reference, fast, "c=" + java.util.Arrays.toString(c) + " n=" + n);
            }
        }
    }

    /**
     * Task arithmetic's one-pass kernel against the general pipeline it bypasses: dare_linear with density 1 drops
     * nothing and rescales by 1, so it mixes the same contributions through the per-model scratch arrays.
     */
    @Test
    void denseTaskArithmeticMatchesTheGeneralPipeline() {
        Random r = new Random(6);
        for (int models : new int[] {1, 2, 3}) {
            for (int n : new int[] {1, 17, 4099}) {
                List<float[]> inputs = new ArrayList<>();
                for (int i = 0; i <= models; i++) {
                    inputs.add(awkward(r, n));
                }
                int base = models; // last
                List<Map<String, Object>> perModel = new ArrayList<>();
                for (int i = 0; i < models; i++) {
                    perModel.add(map("weight", 0.3 + 0.4 * i, "density", 1.0));
                }
                perModel.add(Map.of());
                for (boolean normalize : new boolean[] {false, true}) {
                    ResolvedParams p = params(map("normalize", normalize, "lambda", 0.9, "int8_mask", false,
                            "rescale", true, "rescale_mode", "l1"), perModel);
                    float[] dense = mergeOnce(new TaskArithmetic(), p, base, new long[] {n}, inputs, 5, null, 1);
                    float[] general = mergeOnce(new DareLinear(), p, base, new long[] {n}, inputs, 5, null, 1);
                    assertSameBits(general, dense, models + " models, n=" + n + ", normalize=" + normalize);
                }
            }
        }
    }

    @Test
    void kernelsAreChunkKernels() {
        ChunkKernel k = Combination.of(new double[] {0.5, 0.5});
        float[] out = new float[2];
        k.apply(0, new float[][] {{1, -0f}, {3, -0f}}, out, 2);
        assertEquals(2f, out[0]);
        assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(out[1]), "(0 + -0) + -0 is +0");
    }
}
