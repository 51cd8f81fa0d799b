package org.mergelab.merge;

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

    /** Folds {@code next} (the following chunks) into {@code into}. */
    void combine(S into, S next);
}
