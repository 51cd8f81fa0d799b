package org.mergelab.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;

/** The non-finite count: vector and scalar paths agree with a plain loop; overflow thresholds match the encoders. */
class NonFiniteCounterTest {
    /** The reference: a value counts as "infinite" when its magnitude is at least {@code overflow}. */
    static NonFinite plain(float[] x, int n, float overflow) {
        long nan = 0;
        long inf = 0;
        for (int i = 0; i < n; i++) {
            nan += Float.isNaN(x[i]) ? 1 : 0;
            inf += !Float.isNaN(x[i]) && Math.abs(x[i]) >= overflow ? 1 : 0;
        }
        return new NonFinite(nan, inf);
    }

    @Test
    void countsEveryKindAtEveryPositionIncludingTheScalarTail() {
        SplittableRandom r = new SplittableRandom(7);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.intBitsToFloat(0xFFC00001), 70_000f, -65520f, 65519f, Float.MAX_VALUE};
        for (int n : new int[] {0, 1, 7, 15, 16, 17, 63, 64, 65, 1000, 4099}) {
            for (int trial = 0; trial < 20; trial++) {
                float[] x = ToyModels.random(trial * 31L + n, n + 3, 2); // longer than n: values past n never count
                int planted = n == 0 ? 0 : r.nextInt(Math.min(n, 12) + 1);
                for (int p = 0; p < planted; p++) {
                    x[r.nextInt(n)] = special[r.nextInt(special.length)];
                }
                x[n] = Float.NaN;
                int largest = FloatCodec.largestMagnitudeBits(x, 0, n);
                for (float overflow : new float[] {Float.POSITIVE_INFINITY, 65520f, 1.5f}) {
                    NonFinite expected = plain(x, n, overflow);
                    assertEquals(expected, NonFiniteCounter.count(x, largest, n, overflow), "n=" + n + " trial " + trial);
                }
                float max = 0;
                for (int i = 0; i < n; i++) {
                    max = Float.isNaN(x[i]) || Float.isNaN(max) ? Float.NaN : Math.max(max, Math.abs(x[i]));
                }
                if (!Float.isNaN(max)) {
                    assertEquals(max, Float.intBitsToFloat(largest), "n=" + n);
                } else {
                    assertTrue(Float.isNaN(Float.intBitsToFloat(largest)), "n=" + n);
                }
            }
        }
    }

    @Test
    void overflowThresholdIsWhereTheEncoderStartsWritingInfinity() {
        for (DType t : new DType[] {DType.BF16, DType.F16}) {
            float at = NonFiniteCounter.overflowAt(t);
            for (float sign : new float[] {1, -1}) {
                assertTrue(Float.isInfinite(FloatCodec.roundTo(t, sign * at)), t + " at " + at);
                assertFalse(Float.isInfinite(FloatCodec.roundTo(t, sign * Math.nextDown(at))), t + " below " + at);
            }
        }
        assertEquals(Float.POSITIVE_INFINITY, NonFiniteCounter.overflowAt(DType.F32));
        assertEquals(Float.POSITIVE_INFINITY, NonFiniteCounter.overflowAt(DType.F64));
    }

    @Test
    void countsAddUpAcrossThreadsPerInputAndOutput() throws InterruptedException {
        NonFiniteCounter c = new NonFiniteCounter(2, DType.F16);
        float[] a = {Float.NaN, 1, Float.POSITIVE_INFINITY};
        float[] b = {0, 0, 0};
        float[] out = {70_000f, Float.NaN, 3};
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int rep = 0; rep < 1000; rep++) {
                    c.countInputs(new float[][] {a, b}, new int[] {FloatCodec.largestMagnitudeBits(a, 0, 3),
                        FloatCodec.largestMagnitudeBits(b, 0, 3)}, 3);
                    c.countOutput(out, FloatCodec.largestMagnitudeBits(out, 0, 3), 3);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(java.util.List.of(new NonFinite(4000, 4000), NonFinite.NONE), c.inputs());
        assertEquals(new NonFinite(4000, 4000), c.output(), "70000 is Inf as float16");
    }
}
