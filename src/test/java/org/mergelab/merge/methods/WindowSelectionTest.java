package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.mergelab.merge.JobRunner;
import org.mergelab.merge.ResolvedParams;
import org.mergelab.merge.TensorJob;

/**
 * The one-pass selection against the two passes: when it answers, the same cuts (threshold, equal keys taken, and
 * which keys each chunk selects); when the first chunk misleads it or its windows overflow, no answer (the caller
 * then runs the two passes).
 */
class WindowSelectionTest {
    /** One stream: the magnitude keys of input 1 minus input 0. */
    private static class Magnitude implements TopKSelection.Keys {
        @Override
        public int streams() {
            return 1;
        }

        @Override
        public void keys(long offset, float[][] in, int n, int[][] out) {
            TaskVectorKernels.keys(in[1], in[0], out[0], n);
        }
    }

    static final TopKSelection.Keys MAGNITUDE = new Magnitude();

    static TensorJob job(List<float[]> in, long[] shape, int chunk, int threads) {
        return JobRunner.job(new ResolvedParams(Map.of(), List.of(Map.of(), Map.of())), 0, shape, in, chunk,
                threads == 1 ? null : MethodTestSupport.pool(), threads, 42, "w");
    }

    /** bf16 fine-tune data; with {@code skewed}, the first {@code skew} elements barely move. */
    static List<float[]> data(Random r, int n, int skew) {
        float[] b = new float[n];
        float[] x = new float[n];
        for (int j = 0; j < n; j++) {
            b[j] = LegacyDifferentialTest.bf16(r.nextGaussian() * 0.02);
            double delta = j < skew ? 1e-6 : r.nextInt(5) == 0 ? 0 : 1e-3;
            x[j] = LegacyDifferentialTest.bf16(b[j] + r.nextGaussian() * delta);
        }
        return new java.util.ArrayList<>(List.of(b, x));
    }

    static void assertSameCuts(TopKSelection.Cut[] want, TopKSelection.Cut[] got, long[] offsets, String what) {
        for (int c = 0; c < want.length; c++) {
            assertEquals(want[c].threshold, got[c].threshold, what + " cut " + c + " threshold");
            assertEquals(want[c].need, got[c].need, what + " cut " + c + " need");
            assertEquals(want[c].equal, got[c].equal, what + " cut " + c + " equal");
            assertEquals(want[c].all(), got[c].all(), what);
            assertEquals(want[c].none(), got[c].none(), what);
            for (long offset : offsets) {
                assertEquals(want[c].above(offset), got[c].above(offset), what + " cut " + c + " chunk " + offset);
                if (want[c].above(offset) == TopKSelection.Cut.WALK) {
                    assertEquals(want[c].equalBefore(offset), got[c].equalBefore(offset), what);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void sameCutsAsTheTwoPasses(int threads) {
        Random r = new Random(threads);
        long[] shape = {200, 1000};
        int n = 200_000;
        List<float[]> in = data(r, n, 0);
        long[][] ks = {{0, n / 2, n / 3, 1, n - 1, n, 0, 2 * n}};
        for (int chunk : new int[] {4000, 25_000, 1 << 18}) {
            TopKSelection.Cut[] want = TopKSelection.histogram(job(in, shape, chunk, threads), MAGNITUDE, false)
                    .select(ks, false)[0];
            TopKSelection.Cut[][] got = WindowSelection.select(job(in, shape, chunk, threads), MAGNITUDE, ks);
            assertNotNull(got, "chunk " + chunk + ": the first chunk is like the rest");
            assertSameCuts(want, got[0], JobRunner.chunkOffsets(shape, chunk), "chunk " + chunk);
        }
    }

    /** {@link #MAGNITUDE}'s keys from stored bf16: whole arrays, or made inside the window scan. */
    static final TopKSelection.Keys MAGNITUDE_BF16 = new Magnitude() {
        @Override
        public boolean keysBf16(long offset, java.lang.foreign.MemorySegment[] bf16, int n, int[][] out) {
            TaskVectorKernels.keysBf16(bf16[1], bf16[0], offset, out[0], n);
            return true;
        }

        @Override
        public java.lang.foreign.MemorySegment[] differenceBf16(int s, java.lang.foreign.MemorySegment[] bf16) {
            return new java.lang.foreign.MemorySegment[] {bf16[1], bf16[0]};
        }
    };

    /**
     * Over stored bf16 inputs, the windows scanned straight from memory (keys made in the loop, odd chunk lengths,
     * every kind of window) give the two passes' cuts; and the same with the scan's lanes cold (keys stored first).
     */
    @Test
    void keysScannedFromStoredBf16GiveTheSameCuts() {
        Random r = new Random(10);
        long[] shape = {201, 999};
        int n = 201 * 999;
        List<float[]> in = data(r, n, 0);
        in.get(1)[5] = Float.NaN; // NaN's key is above every window
        in.get(1)[6] = Float.POSITIVE_INFINITY;
        // many cuts, breadcrumbs' two, and two where one is trivial
        long[][][] cutSets = {{{0, n / 2, n / 3, 1, n - 1, n, 7, 2 * n}}, {{n / 2, n / 3}}, {{n, n / 10}}};
        try {
            for (boolean lanes : new boolean[] {true, false}) {
                TaskVectorKernels.useLanes(lanes);
                for (long[][] ks : cutSets) {
                    for (int chunk : new int[] {4000, 25_000}) {
                        String what = "lanes " + lanes + " cuts " + java.util.Arrays.toString(ks[0]) + " chunk "
                                + chunk;
                        TopKSelection.Cut[] want = TopKSelection.histogram(job(in, shape, chunk, 2), MAGNITUDE,
                                false).select(ks, false)[0];
                        TopKSelection.Cut[][] got = WindowSelection.select(JobRunner.jobBf16(new ResolvedParams(
                                Map.of(), List.of(Map.of(), Map.of())), 0, shape, in, chunk, MethodTestSupport.pool(),
                                2, 42, "w"), MAGNITUDE_BF16, ks);
                        assertNotNull(got, what);
                        assertSameCuts(want, got[0], JobRunner.chunkOffsets(shape, chunk), what);
                    }
                }
            }
        } finally {
            TaskVectorKernels.resetLanes();
        }
    }

    @Test
    void theWindowScanCountsAndListsAsTheKeyArraysDo() {
        org.junit.jupiter.api.Assumptions.assumeTrue(TaskVectorKernels.VECTOR, "no Vector API shape here");
        Random r = new Random(11);
        int n = 5003;
        List<float[]> in = data(r, n, 0);
        java.lang.foreign.MemorySegment[] bf16 = MethodTestSupport.storedBf16(in.get(0), in.get(1));
        int[] keys = new int[n];
        TaskVectorKernels.keysBf16(bf16[1], bf16[0], 3, keys, n - 3);
        int[] sorted = java.util.Arrays.copyOf(keys, n - 3);
        java.util.Arrays.sort(sorted);
        for (int[] w : new int[][] {{sorted[100], sorted[4000]}, {0, sorted[10]}, {sorted[n - 4], Integer.MAX_VALUE},
                {sorted[2000], sorted[2000]}}) {
            int[] want = new int[n + TaskVectorKernels.I.length()];
            int wantCount = WindowSelection.inside(keys, n - 3, w[0], w[1], want);
            int[] got = new int[n + TaskVectorKernels.I.length()];
            long counts = WindowSelection.windowBf16(bf16[1], bf16[0], 3, n - 3, w[0], w[1], got);
            assertEquals(WindowSelection.countAbove(keys, n - 3, w[1]), counts >>> 32, "above " + w[1]);
            assertEquals(wantCount, (int) counts, "inside");
            org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOf(want, wantCount),
                    java.util.Arrays.copyOf(got, (int) counts));
        }
    }

    /** Two windows scanned in one loop (breadcrumbs' two cuts) count and list what two scans of one window do. */
    @Test
    void theTwoWindowScanIsTwoOneWindowScans() {
        org.junit.jupiter.api.Assumptions.assumeTrue(TaskVectorKernels.VECTOR, "no Vector API shape here");
        Random r = new Random(12);
        int n = 5003;
        List<float[]> in = data(r, n, 0);
        java.lang.foreign.MemorySegment[] bf16 = MethodTestSupport.storedBf16(in.get(0), in.get(1));
        int[] keys = new int[n];
        TaskVectorKernels.keysBf16(bf16[1], bf16[0], 0, keys, n);
        int[] sorted = keys.clone();
        java.util.Arrays.sort(sorted);
        int[][] windows = {{sorted[100], sorted[400]}, {sorted[4000], sorted[4900]}, {0, sorted[10]},
            {sorted[n - 4], Integer.MAX_VALUE}, {sorted[2000], sorted[2000]}, {sorted[300], sorted[4500]}};
        for (int[] w0 : windows) {
            for (int[] w1 : windows) {
                for (int offset : new int[] {0, 3}) {
                    int len = n - offset - r.nextInt(20);
                    int[] found0 = new int[n + TaskVectorKernels.I.length()];
                    int[] found1 = new int[n + TaskVectorKernels.I.length()];
                    long[] counts = new long[2];
                    WindowSelection.twoWindowsBf16(bf16[1], bf16[0], offset, len, w0[0], w0[1], found0, w1[0], w1[1],
                            found1, counts);
                    int[][] w = {w0, w1};
                    int[][] found = {found0, found1};
                    for (int i = 0; i < 2; i++) {
                        int[] want = new int[n + TaskVectorKernels.I.length()];
                        long one = WindowSelection.windowBf16(bf16[1], bf16[0], offset, len, w[i][0], w[i][1], want);
                        String what = "window " + i + " " + java.util.Arrays.toString(w[i]) + " offset " + offset;
                        assertEquals(one, counts[i], what);
                        org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOf(want, (int) one),
                                java.util.Arrays.copyOf(found[i], (int) counts[i]), what);
                    }
                }
            }
        }
    }

    /** Few magnitudes: the threshold's ties are split across many chunks. */
    @Test
    void tiesSplitAcrossChunks() {
        Random r = new Random(7);
        int n = 300_000;
        float[] b = new float[n];
        float[] x = new float[n];
        for (int j = 0; j < n; j++) {
            x[j] = (r.nextInt(5) / 64f) * (r.nextBoolean() ? 1 : -1);
        }
        long[] shape = {300, 1000};
        long[][] ks = {{(long) (0.4321 * n), (long) (0.05 * n)}};
        for (int chunk : new int[] {1000, 7000}) {
            TopKSelection.Cut[] want = TopKSelection.histogram(job(List.of(b, x), shape, chunk, 2), MAGNITUDE, false)
                    .select(ks, false)[0];
            TopKSelection.Cut[][] got = WindowSelection.select(job(List.of(b, x), shape, chunk, 2), MAGNITUDE, ks);
            assertNotNull(got);
            assertSameCuts(want, got[0], JobRunner.chunkOffsets(shape, chunk), "chunk " + chunk);
        }
    }

    @Test
    void aMisleadingFirstChunkGivesNoAnswer() {
        Random r = new Random(8);
        int n = 100_000;
        List<float[]> in = data(r, n, 20_000); // the first fifth barely moves
        long[] shape = {100, 1000};
        assertNull(WindowSelection.select(job(in, shape, 5000, 1), MAGNITUDE, new long[][] {{n / 2}}));
    }

    @Test
    void overfullWindowsGiveNoAnswer() {
        Random r = new Random(9);
        int n = 100_000;
        List<float[]> in = data(r, n, 0);
        long[] shape = {100, 1000};
        long saved = WindowSelection.retainedMax;
        WindowSelection.retainedMax = 1000;
        try {
            assertNull(WindowSelection.select(job(in, shape, 5000, 2), MAGNITUDE, new long[][] {{n / 2}}));
        } finally {
            WindowSelection.retainedMax = saved;
        }
    }
}
