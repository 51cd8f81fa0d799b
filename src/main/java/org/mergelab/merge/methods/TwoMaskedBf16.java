package org.mergelab.merge.methods;

import java.lang.foreign.MemorySegment;

import org.mergelab.merge.TensorJob;
import org.mergelab.merge.methods.TaskVectorKernels.Lanes;

/**
 * Two task vectors masked by plain key comparisons straight from three stored bf16 inputs, one L1-sized block at a
 * time ({@link TaskVectorKernels#rankMaskTwoBf16}): the output passes of TIES ({@link ConsensusMix}) and breadcrumbs
 * ({@link MaskedSum}) read the blocks back instead of a decoded chunk ({@link #run}).
 *
 * @param blocks the base ({@code [0]}) and the two masked task vectors ({@code [1]}, {@code [2]}), this thread's
 *     scratch, valid for the block last masked
 */
record TwoMaskedBf16(MemorySegment[] bf16, long offset, int b, int x0, int x1, int[] above, int[] atMost,
        float[][] blocks) {
    /** What an output pass does with one masked block: elements {@code [from, to)} of the chunk. */
    @FunctionalInterface
    interface BlockPass {
        void run(float[] base, float[][] tau, int from, int to);
    }

    /**
     * Runs an output pass over the chunk of {@code n} elements at {@code offset} from stored bf16: masks it block by
     * block, hands each block to {@code pass}, sets the inputs' entries of {@code largest} to their largest magnitude
     * bits and, when {@code counted}, tells {@code job} how many non-zero task-vector entries the masks zeroed. Returns
     * false, having done nothing, when the chunk must be decoded instead: not two task vectors over three bf16
     * inputs, a mask that is more than key comparisons here, or lanes not compiled yet (probed then).
     */
    static boolean run(TensorJob job, boolean counted, TaskVectors tv, Sparsifier.Mask mask, MemorySegment[] bf16,
            long offset, int n, int[] largest, BlockPass pass) {
        TwoMaskedBf16 two = of(tv, mask, bf16, offset, n);
        if (two == null) {
            return false;
        }
        java.util.Arrays.fill(largest, 0, 3, 0);
        float[][] tau = {two.blocks[1], two.blocks[2]};
        long zeroed = 0;
        for (int from = 0; from < n; from += TaskVectorKernels.BLOCK) {
            int to = Math.min(n, from + TaskVectorKernels.BLOCK);
            zeroed += two.mask(from, to, largest);
            pass.run(two.blocks[0], tau, from, to);
        }
        if (counted) {
            job.countPruned(zeroed, 2L * n);
        }
        return true;
    }

    /** The masking of the chunk, or null when {@link #run} must decline it. */
    private static TwoMaskedBf16 of(TaskVectors tv, Sparsifier.Mask mask, MemorySegment[] bf16, long offset, int n) {
        if (!TaskVectorKernels.VECTOR || tv.count() != 2 || bf16.length != 3 || mask.hasFactors()) {
            return null;
        }
        int[] above = new int[2];
        int[] atMost = new int[2];
        if (!mask.keyBounds(offset, above, atMost)) {
            return null;
        }
        TwoMaskedBf16 two = new TwoMaskedBf16(bf16, offset, tv.base, tv.inputs[0], tv.inputs[1], above, atMost,
                TaskVectors.floats(3, n));
        return Lanes.RANK_MASK_TWO_BF16.runsOrProbes(n, () -> two.mask(0, TaskVectorKernels.PROBE, new int[3]))
                ? two : null;
    }

    /**
     * Masks elements {@code [from, to)} of the chunk into {@link #blocks}; raises the inputs' entries of
     * {@code largest} to their largest magnitude bits; returns how many non-zero task-vector entries it zeroed.
     */
    private int mask(int from, int to, int[] largest) {
        return TaskVectorKernels.rankMaskTwoBf16(bf16[b], bf16[x0], bf16[x1], offset, from, to, above[0], atMost[0],
                above[1], atMost[1], blocks[0], blocks[1], blocks[2], largest, b, x0, x1);
    }
}
