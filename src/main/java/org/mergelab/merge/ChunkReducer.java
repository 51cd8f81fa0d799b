package org.mergelab.merge;

import java.lang.foreign.MemorySegment;

/**
 * A whole-tensor quantity (norms, dot products, histograms) computed as a pass over chunks. States are made per chunk
 * and combined in chunk order, so the result does not depend on the thread count.
 */
public interface ChunkReducer<S> {
    /**
     * A state for the chunk of {@code length} elements at {@code offset}. The total is made first as
     * {@code newState(0, numel)} (length capped at {@code Integer.MAX_VALUE}) and every chunk is combined into it.
     */
    S newState(long offset, int length);

    /** Adds one chunk; same arguments as {@link ChunkKernel#apply}. */
    void accumulate(S state, long offset, float[][] in, int length);

    /**
     * Adds one chunk read straight from the inputs' stored bf16 elements ({@code bf16[i]} is input i's whole tensor;
     * the chunk is its elements {@code [offset, offset + length)}), when every input is stored as bf16 and read
     * unchanged. Returns false, having added nothing, to get the chunk decoded and passed to {@link #accumulate}.
     */
    default boolean accumulateBf16(S state, long offset, MemorySegment[] bf16, int length) {
        return false;
    }

    /** Folds {@code next} (the following chunks) into {@code into}. */
    void combine(S into, S next);
}
