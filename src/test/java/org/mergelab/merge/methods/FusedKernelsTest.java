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

    /**
     * The one-pass kernels read straight from stored bf16 (two-term combinations; task arithmetic of two models) give
     * the bits of the same kernels on the decoded chunks, and the largest magnitudes decoding reports; cold lanes and
     * inputs beyond the kernel's terms leave the chunk to decoding.
     */
    @Test
    void kernelsFromStoredBf16MatchTheDecodedChunk() {
        org.junit.jupiter.api.Assumptions.assumeTrue(TaskVectorKernels.VECTOR, "no Vector API shape here");
        Random r = new Random(9);
        int total = 5000;
        java.lang.foreign.MemorySegment[] bf16 = storedBf16(awkward(r, total), awkward(r, total), awkward(r, total));
        var two = new java.lang.foreign.MemorySegment[] {bf16[0], bf16[1]};
        List<ChunkKernel> pairs = new ArrayList<>();
        for (double[] c : new double[][] {{0.5, 0.5}, {0.25, 0.75}, {-0.5, 1.5}, {1e-30, 2}, {3, 0.1}}) {
            pairs.add(Combination.of(c));
        }
        List<ChunkKernel> triples = List.of(new TaskSum(2, 0, 0.5, 1, 0.5, 1), new TaskSum(0, 2, 0.3, 1, -0.7, 0.9),
                new TaskSum(1, 0, 1e-3, 2, 2.5, 1 / 1.1));
        try {
            TaskVectorKernels.useLanes(true);
            for (ChunkKernel k : pairs) {
                assertFromStoredBf16(k, two);
            }
            for (ChunkKernel k : triples) {
                assertFromStoredBf16(k, bf16);
            }
            assertEquals(false, Combination.of(new double[] {0.5, 0, 0.5}).applyBf16(0, bf16, new float[8], 8,
                    new int[3]), "a third input's largest magnitude would go unreported");
            assertEquals(false, new TaskSum(1, 0, 1, -1, 0, 1).applyBf16(0, two, new float[8], 8, new int[2]),
                    "one model: decoded");
            TaskVectorKernels.useLanes(false);
            assertEquals(false, pairs.get(0).applyBf16(0, two, new float[4099], 4099, new int[2]), "cold lanes");
            assertEquals(false, triples.get(0).applyBf16(0, bf16, new float[4099], 4099, new int[3]), "cold lanes");
        } finally {
            TaskVectorKernels.resetLanes();
        }
    }

    private static void assertFromStoredBf16(ChunkKernel k, java.lang.foreign.MemorySegment[] bf16) {
        int inputs = bf16.length;
        for (int[] slice : new int[][] {{0, 0}, {0, 1}, {3, 16}, {17, 17}, {5, 4099}, {0, 5000}}) {
            long offset = slice[0];
            int n = slice[1];
            float[][] in = new float[inputs][n];
            int[] decoded = new int[inputs];
            for (int i = 0; i < inputs; i++) {
                decoded[i] = org.mergelab.io.FloatCodec.decode(org.mergelab.io.DType.BF16, bf16[i], offset, in[i], n);
            }
            float[] expected = new float[n];
            k.apply(offset, in, expected, n);
            float[] fused = new float[n];
            int[] largest = new int[inputs];
            String what = k + " offset " + offset + " n=" + n;
            assertEquals(true, k.applyBf16(offset, bf16, fused, n, largest), what);
            assertSameBits(expected, fused, what);
            org.junit.jupiter.api.Assertions.assertArrayEquals(decoded, largest, what + ": largest magnitudes");
        }
    }

    /** The key bounds of both task vectors: all kept, a top cut, a breadcrumbs band. */
    private static final int CUT = Float.floatToRawIntBits(1.5f);
    private static final int[][][] BOUNDS = {{{-1, -1}, {Integer.MAX_VALUE, Integer.MAX_VALUE}}, {{CUT, -1},
            {Integer.MAX_VALUE, Integer.MAX_VALUE}}, {{Float.floatToRawIntBits(0.5f), CUT}, {CUT, Integer.MAX_VALUE}}};

    /**
     * Three stored bf16 inputs of every kind of float, the base at {@code base}; input {@code zeros} equals it at every
     * 7th element (task-vector zeros, which never agree).
     */
    private static java.lang.foreign.MemorySegment[] threeInputs(long seed, int total, int base, int zeros) {
        Random r = new Random(seed);
        float[][] x = {awkward(r, total), awkward(r, total), awkward(r, total)};
        for (int j = 0; j < total; j += 7) {
            x[zeros][j] = x[base][j];
        }
        return storedBf16(x[0], x[1], x[2]);
    }

    /** The output pass {@code kernel} makes declines a chunk to walk, and any chunk with its lanes cold. */
    private static void assertDeclines(java.util.function.Function<Sparsifier.Mask, ChunkKernel> kernel,
            java.lang.foreign.MemorySegment[] bf16) {
        ChunkKernel walks = kernel.apply(new KeyMask(new int[] {CUT, CUT}, new int[] {Integer.MAX_VALUE,
                Integer.MAX_VALUE}, false));
        assertEquals(false, walks.applyBf16(0, bf16, new float[64], 64, new int[3]), "a chunk to walk: decoded");
        TaskVectorKernels.useLanes(false);
        ChunkKernel cold = kernel.apply(new KeyMask(BOUNDS[1][0], BOUNDS[1][1], true));
        assertEquals(false, cold.applyBf16(0, bf16, new float[4099], 4099, new int[3]), "cold lanes");
    }

    /**
     * TIES's output pass over stored bf16 (two task vectors, each masked by a key comparison, then voted and mixed)
     * gives the decoded pass's bits and pruned counts, for every bound kind (all kept, a top cut, a breadcrumbs band)
     * and both votes; a mask that needs more than a key comparison, or cold lanes, get the chunk decoded.
     */
    @Test
    void consensusFromStoredBf16MatchesTheDecodedChunk() {
        org.junit.jupiter.api.Assumptions.assumeTrue(TaskVectorKernels.VECTOR, "no Vector API shape here");
        int total = 5000;
        // the base in the middle, as config order
        java.lang.foreign.MemorySegment[] bf16 = threeInputs(11, total, 1, 0);
        TensorJob job = new TensorJob(2, 1);
        try {
            TaskVectorKernels.useLanes(true);
            for (int[][] b : BOUNDS) {
                for (SignConsensus vote : SignConsensus.values()) {
                    ConsensusMix k = new ConsensusMix(job, new TaskVectors(job), new KeyMask(b[0], b[1], true), vote,
                            new double[] {0.7, 0.4}, new double[] {0.7, 0.4}, SignConsensus.Divide.ZERO_AS_ONE, 1.1,
                            true);
                    assertFromStoredBf16(k, bf16);
                    assertEquals(b == BOUNDS[0], prunedAlike(k, job, bf16, total) == 0,
                            "the cuts prune, keeping all does not");
                }
            }
            assertDeclines(mask -> new ConsensusMix(job, new TaskVectors(job), mask, SignConsensus.SUM,
                    new double[] {1, 1}, new double[] {1, 1}, SignConsensus.Divide.NO, 1, true), bf16);
        } finally {
            TaskVectorKernels.resetLanes();
        }
    }

    /**
     * Breadcrumbs' output pass over stored bf16 (two task vectors masked by key comparisons, summed without sign
     * election) gives the decoded pass's bits and pruned counts; a chunk to walk, or cold lanes, get it decoded.
     */
    @Test
    void maskedSumFromStoredBf16MatchesTheDecodedChunk() {
        org.junit.jupiter.api.Assumptions.assumeTrue(TaskVectorKernels.VECTOR, "no Vector API shape here");
        int total = 5000;
        java.lang.foreign.MemorySegment[] bf16 = threeInputs(13, total, 0, 2);
        TensorJob job = new TensorJob(2, 0);
        try {
            TaskVectorKernels.useLanes(true);
            for (int[][] b : BOUNDS) {
                for (double outer : new double[] {1, 0.45}) {
                    // both negative: two dropped entries sum to −0 unless the sum starts at +0
                    double[] c = outer == 1 ? new double[] {0.7, -1.3} : new double[] {-0.7, -1.3};
                    MaskedSum k = new MaskedSum(job, new TaskVectors(job), new KeyMask(b[0], b[1], true), c, outer,
                            true);
                    assertFromStoredBf16(k, bf16);
                    assertEquals(b == BOUNDS[0], prunedAlike(k, job, bf16, total) == 0,
                            "the cuts prune, keeping all does not");
                }
            }
            assertDeclines(mask -> new MaskedSum(job, new TaskVectors(job), mask, new double[] {1, 1}, 1, true), bf16);
        } finally {
            TaskVectorKernels.resetLanes();
        }
    }

    /** What {@code k} pruned of the whole decoded tensor, checked equal to what its pass over stored bf16 prunes. */
    private static long prunedAlike(ChunkKernel k, TensorJob job, java.lang.foreign.MemorySegment[] bf16, int total) {
        float[][] in = new float[bf16.length][total];
        for (int i = 0; i < bf16.length; i++) {
            org.mergelab.io.FloatCodec.decode(org.mergelab.io.DType.BF16, bf16[i], 0, in[i], total);
        }
        job.pruned = 0;
        k.apply(0, in, new float[total], total);
        long decoded = job.pruned;
        job.pruned = 0;
        assertEquals(true, k.applyBf16(0, bf16, new float[total], total, new int[bf16.length]), "from stored bf16");
        assertEquals(decoded, job.pruned, "pruned entries counted alike");
        return decoded;
    }

    /** A magnitude-rank mask with fixed bounds per task vector; {@code plain} false: a chunk to walk. */
    private record KeyMask(int[] above, int[] atMost, boolean plain) implements Sparsifier.Mask {
        @Override
        public int sparsify(TaskVectors tv, int m, long offset, float[][] in, int from, int to, float[] into) {
            return TaskVectorKernels.rankMask(in[tv.inputs[m]], in[tv.base], into, from, to, above[m], atMost[m]);
        }

        @Override
        public int block(long offset, int n) {
            return TaskVectorKernels.BLOCK;
        }

        @Override
        public double scale(int m) {
            return 1;
        }

        @Override
        public boolean keyBounds(long offset, int[] a, int[] b) {
            System.arraycopy(above, 0, a, 0, 2);
            System.arraycopy(atMost, 0, b, 0, 2);
            return plain;
        }
    }

    /** Three inputs, the base at {@code base}; counts what the kernels prune. */
    private static final class TensorJob implements org.mergelab.merge.TensorJob {
        private final int inputs;
        private final int base;
        long pruned;

        TensorJob(int inputs, int base) {
            this.inputs = inputs + 1;
            this.base = base;
        }

        @Override
        public String tensorName() {
            return "t";
        }

        @Override
        public long[] shape() {
            return new long[] {5000};
        }

        @Override
        public long numel() {
            return 5000;
        }

        @Override
        public int inputCount() {
            return inputs;
        }

        @Override
        public int baseIndex() {
            return base;
        }

        @Override
        public ResolvedParams params() {
            throw new UnsupportedOperationException();
        }

        @Override
        public long seed() {
            return 0;
        }

        @Override
        public synchronized void countPruned(long zeroed, long considered) {
            pruned += zeroed;
        }

        @Override
        public <S> S reduce(org.mergelab.merge.ChunkReducer<S> reducer) {
            throw new UnsupportedOperationException();
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
