package org.mergelab.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.WarmUpTrigger;

import org.junit.jupiter.api.Test;

class ReductionsTest {
    @Test
    void vectorDotMatchesScalarDotAndExactSum() {
        Random r = new Random(7);
        for (int n : new int[] {0, 1, 15, 16, 17, 255, 1000, 4099}) {
            float[] a = new float[n];
            float[] b = new float[n];
            double exact = 0;
            for (int i = 0; i < n; i++) {
                a[i] = (float) r.nextGaussian();
                b[i] = (float) (r.nextGaussian() * 1e-3);
                exact += (double) a[i] * b[i];
            }
            int from = Math.min(3, n);
            double expectedTail = exact;
            for (int i = 0; i < from; i++) {
                expectedTail -= (double) a[i] * b[i];
            }
            double tol = 1e-12 * (1 + Math.abs(exact)) * Math.max(1, n);
            assertEquals(exact, Reductions.dotScalar(a, b, 0, n), tol, "scalar n=" + n);
            assertEquals(exact, Reductions.dotVector(a, b, 0, n), tol, "vector n=" + n);
            assertEquals(expectedTail, Reductions.dotVector(a, b, from, n), tol, "vector from=" + from);
        }
    }

    /**
     * The Gram of two stored bf16 tensors read straight from memory equals, bit for bit, the one of their decoded
     * chunks, at chunk offsets and lengths that leave tails; on native and mapped memory, with zeros, subnormals,
     * infinities and NaN among the values.
     */
    @Test
    void bf16PairGramIsTheDecodedPairGram() {
        org.junit.jupiter.api.Assumptions.assumeTrue(FloatCodec.VECTOR, "no Vector API shape for bf16 here");
        Random r = new Random(5);
        int total = 70_000;
        float[] special = {0f, -0f, Float.MIN_VALUE, 1e-39f, Float.POSITIVE_INFINITY, Float.NaN, 3e38f, -2.5f};
        float[][] values = new float[2][total];
        MemorySegment[] bf16 = new MemorySegment[2];
        for (int m = 0; m < 2; m++) {
            for (int i = 0; i < total; i++) {
                values[m][i] = r.nextInt(500) == 0 ? special[r.nextInt(special.length)]
                        : (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
            }
            bf16[m] = Arena.ofAuto().allocate(2L * total, 64);
            FloatCodec.encode(DType.BF16, values[m], total, bf16[m]);
        }
        MemorySegment zeros = WarmUpTrigger.mappedZeros(2L * total);
        for (int[] slice : new int[][] {{0, total}, {0, 16}, {5, 15}, {17, 4099}, {1000, 65_537}, {69_990, 10}}) {
            long offset = slice[0];
            int n = slice[1];
            float[] a = new float[n];
            float[] b = new float[n];
            FloatCodec.decode(DType.BF16, bf16[0], offset, a, n);
            FloatCodec.decode(DType.BF16, bf16[1], offset, b, n);
            double[] expected = {1, 2, 3, 4};
            double[] fused = expected.clone();
            Reductions.pairGramVector(a, b, n, expected);
            Reductions.pairGramBf16(bf16[0], bf16[1], offset, n, fused);
            for (int e = 0; e < 4; e++) {
                assertEquals(Double.doubleToRawLongBits(expected[e]) , Double.doubleToRawLongBits(fused[e]),
                        "offset " + offset + " n " + n + " entry " + e + ": " + expected[e] + " vs " + fused[e]);
            }
            if (zeros != null) {
                double[] g = new double[4];
                Reductions.pairGramBf16(zeros, bf16[1], offset, n, g);
                float[] z = new float[n];
                double[] want = new double[4];
                Reductions.pairGramVector(z, b, n, want);
                assertArrayEquals(want, g, "mapped zeros, offset " + offset);
            }
        }
    }

    /**
     * The warm-up for merges that read stored bf16 only gets their Gram kernel compiled: afterwards a Gram pass over
     * stored bf16 inputs gives the bits of the one over the same values decoded (as the scalar stand-in does before).
     */
    @Test
    void theStoredBf16WarmUpCompilesTheGramPassOverStoredBf16() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(FloatCodec.VECTOR, "no Vector API shape for bf16 here");
        Reductions.warmUpBf16();
        assertTrue(Reductions.warmForStoredBf16());
        Random r = new Random(8);
        int n = 300_001;
        java.util.List<float[]> in = new java.util.ArrayList<>();
        for (int m = 0; m < 2; m++) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = FloatCodec.bf16ToFloat(FloatCodec.floatToBf16((float) r.nextGaussian()));
            }
            in.add(x);
        }
        long[] shape = {n};
        var params = new ResolvedParams(java.util.Map.of(), java.util.List.of(java.util.Map.of(), java.util.Map.of()));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            double[][] stored = Reductions.gram(JobRunner.jobBf16(params, 0, shape, in, 65_536, pool, 2, 1, "g"), -1);
            double[][] decoded = Reductions.gram(JobRunner.job(params, 0, shape, in, 65_536, pool, 2, 1, "g"), -1);
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(decoded[i], stored[i]);
            }
            assertTrue(stored[0][1] != 0);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The scalar stand-in used before the vector loop is compiled gives the vector loop's bits exactly: odd lengths,
     * tails, offsets, and values from subnormal to overflowing products, infinities and NaN.
     */
    @Test
    void laneByLaneScalarDotIsBitIdenticalToTheVectorDot() {
        Random r = new Random(11);
        float[] special = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-39f, Float.MAX_VALUE, -Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1e30f, -3e-20f};
        for (int n : new int[] {0, 1, 7, 15, 16, 17, 31, 33, 255, 1000, 4099, 65_537}) {
            for (int variant = 0; variant < 3; variant++) {
                float[] a = new float[n];
                float[] b = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
                    b[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
                    if (variant == 1 && r.nextInt(50) == 0) {
                        a[i] = special[r.nextInt(special.length - 3)]; // no inf or NaN: a finite sum
                    }
                    if (variant == 2 && r.nextInt(200) == 0) {
                        b[i] = special[r.nextInt(special.length)];
                    }
                }
                for (int from : new int[] {0, Math.min(3, n), Math.min(17, n)}) {
                    double vector = Reductions.dotVector(a, b, from, n);
                    double lanes = Reductions.dotLanes(a, b, from, n);
                    if (Double.isNaN(vector)) {
                        assertTrue(Double.isNaN(lanes), "n=" + n + " from=" + from);
                    } else {
                        assertEquals(Double.doubleToRawLongBits(vector), Double.doubleToRawLongBits(lanes),
                                "n=" + n + " from=" + from + " variant=" + variant + ": " + vector + " vs " + lanes);
                    }
                }
            }
        }
    }

    @Test
    void pairGramGivesTheBitsOfThreeDots() {
        Random r = new Random(12);
        for (int n : new int[] {0, 1, 15, 16, 17, 100, 4099, 65_537}) {
            float[] a = new float[n];
            float[] b = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (float) (r.nextGaussian() * 1e3);
                b[i] = i % 97 == 5 ? Float.MIN_VALUE : (float) r.nextGaussian();
            }
            double[] g = {1.5, 2.5, 99, 3.5};
            Reductions.pairGram(a, b, n, g);
            assertEquals(1.5 + Reductions.dotVector(a, a, 0, n), g[0], 0, "a·a n=" + n);
            assertEquals(2.5 + Reductions.dotVector(a, b, 0, n), g[1], 0, "a·b n=" + n);
            assertEquals(99, g[2], 0, "lower triangle untouched");
            assertEquals(3.5 + Reductions.dotVector(b, b, 0, n), g[3], 0, "b·b n=" + n);
            double[] fused = {1.5, 2.5, 99, 3.5};
            Reductions.pairGramVector(a, b, n, fused); // the compiled path, whether or not pairGram uses it yet
            assertArrayEquals(g, fused, 0, "vector pair Gram n=" + n);
        }
    }

    @Test
    void differencesReuseScratchAndZeroTheOrigin() {
        float[][] in = {{1, 2, 3}, {4, 6, 8}, {0, 0, 1}};
        float[][] d = Reductions.differences(in, 0, 3);
        assertArrayEquals(new float[] {0, 0, 0}, java.util.Arrays.copyOf(d[0], 3));
        assertArrayEquals(new float[] {3, 4, 5}, java.util.Arrays.copyOf(d[1], 3));
        assertArrayEquals(new float[] {-1, -2, -2}, java.util.Arrays.copyOf(d[2], 3));
        float[][] again = Reductions.differences(new float[][] {{1, 1}, {5, 5}}, 1, 2);
        assertSame(d, again, "a second chunk on this thread reuses the rows");
        assertArrayEquals(new float[] {-4, -4}, java.util.Arrays.copyOf(again[0], 2));
        assertArrayEquals(new float[] {0, 0}, java.util.Arrays.copyOf(again[1], 2));
    }

    @Test
    void dotAccumulatesInDoublePrecision() {
        // 1e6 products of 1.0001f·1.0001f: a float accumulator is off by ~1e-4 relative or more, double ones by
        // ~1e-12 (rounding in each of the lanes' sums: 2.5e-12 with AVX2's 8 accumulators, below 1e-12 with
        // AVX-512's 16, measured), so 1e-9 tells them apart on any vector width
        int n = 1_000_000;
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1.0001f);
        double exact = (double) 1.0001f * 1.0001f * n;
        assertEquals(exact, Reductions.dot(a, a, 0, n), exact * 1e-9);
    }
}
