package org.mergelab.merge.methods;

import java.lang.foreign.MemorySegment;

import org.mergelab.merge.methods.TaskVectorKernels.Lanes;

/**
 * Two task vectors masked by plain key comparisons straight from three stored bf16 inputs, one L1-sized block at a
 * time ({@link TaskVectorKernels#rankMaskTwoBf16}): the output passes of TIES ({@link ConsensusMix}) and breadcrumbs
 * ({@link MaskedSum}) read the blocks back instead of a decoded chunk.
 *
 * @param blocks the base ({@code [0]}) and the two masked task vectors ({@code [1]}, {@code [2]}), this thread's
 *     scratch, valid for the block last masked
 */
record TwoMaskedBf16(MemorySegment[] bf16, long offset, int b, int x0, int x1, int[] above, int[] atMost,
        float[][] blocks) {
    /**
     * The masking of the chunk of {@code n} elements at {@code offset}, or null when it must be decoded instead: not
     * two task vectors over three bf16 inputs, a mask that is more than key comparisons here, or lanes not compiled
     * yet (probed then).
     */
    static TwoMaskedBf16 of(TaskVectors tv, Sparsifier.Mask mask, MemorySegment[] bf16, long offset, int n) {
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

    /** What an output pass does with one masked block: elements {@code [from, to)} of the chunk, in {@code blocks}. */
    @FunctionalInterface
    interface BlockPass {
        void run(float[][] blocks, int from, int to);
    }

    /**
     * Masks the chunk's {@code n} elements block by block, handing each block to {@code pass}; sets the inputs' entries
     * of {@code largest} to their largest magnitude bits; returns how many non-zero task-vector entries it zeroed.
     */
    long forEachBlock(int n, int[] largest, BlockPass pass) {
        java.util.Arrays.fill(largest, 0, 3, 0);
        long zeroed = 0;
        for (int from = 0; from < n; from += TaskVectorKernels.BLOCK) {
            int to = Math.min(n, from + TaskVectorKernels.BLOCK);
            zeroed += mask(from, to, largest);
            pass.run(blocks, from, to);
        }
        return zeroed;
    }

    /**
     * Masks elements {@code [from, to)} of the chunk into {@link #blocks}; raises the inputs' entries of
     * {@code largest} to their largest magnitude bits; returns how many non-zero task-vector entries it zeroed.
     */
    int mask(int from, int to, int[] largest) {
        return TaskVectorKernels.rankMaskTwoBf16(bf16[b], bf16[x0], bf16[x1], offset, from, to, above[0], atMost[0],
                above[1], atMost[1], blocks[0], blocks[1], blocks[2], largest, b, x0, x1);
    }
}
