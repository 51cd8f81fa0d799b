package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mergelab.merge.ParamSpec;

class PassthroughTest {
    private final Passthrough passthrough = new Passthrough();

    private float[] run(float[] x, Map<String, Object> perModel, long[] shape) {
        return merge(passthrough, params(globals(passthrough), List.of(perModel)), -1, shape, List.of(x));
    }

    @Test
    void declaresOptionalScale() {
        assertEquals("passthrough", passthrough.name());
        ParamSpec scale = passthrough.params().get(0);
        assertEquals("scale", scale.name());
        assertEquals(ParamSpec.Scope.PER_MODEL, scale.scope());
        assertEquals(1.0, ((Number) scale.defaultValue()).doubleValue());
    }

    @Test
    void copiesTheTensorBitForBit() {
        Random r = new Random(101);
        float[] x = gaussian(r, 35);
        x[3] = Float.MIN_VALUE;
        x[4] = -0.0f;
        x[5] = Float.MAX_VALUE;
        assertArrayEquals(x, run(x, Map.of("scale", 1.0), new long[] {5, 7}));
        float[] big = gaussian(r, 3000);
        assertArrayEquals(big, run(big, Map.of("scale", 1.0), new long[] {3000}));
    }

    @Test
    void multipliesByScale() {
        Random r = new Random(102);
        float[] x = gaussian(r, 13);
        for (double s : new double[] {0.5, -2, 0, 1e-3}) {
            float[] out = run(x, Map.of("scale", s), new long[] {13});
            for (int i = 0; i < 13; i++) {
                assertEquals((float) (x[i] * s), out[i], Math.abs(x[i] * s) * 1e-6 + 1e-30, "scale " + s);
            }
        }
    }

    @Test
    void zeroTensor() {
        assertZeros(run(new float[35], Map.of("scale", 3.0), new long[] {5, 7}), "zeros");
    }

    @Test
    void checkModelsNeedsExactlyOne() {
        assertBadModels(passthrough, 2, -1);
        assertBadModels(passthrough, 2, 0);
        assertBadModels(passthrough, 0, -1);
        assertDoesNotThrow(() -> passthrough.checkModels(models(1, -1)));
    }
}
