package org.mergelab.merge;

/**
 * One output tensor as the engine presents it to a merge method: what it is, its resolved parameters, and a way to
 * run reduction passes over the inputs. Inputs are in config order (the models, then the base model when it was not
 * listed among them).
 *
 * <p>Chunks hold whole rows (slices along the last dimension; a 1-D tensor is one row) whenever a row has at most
 * {@value ChunkedJob#MAX_ROW} elements, so row-wise methods see every row in one piece, in both reductions and the
 * output pass. Reductions and the output pass cut the tensor into the same chunks, so a method may keep per-chunk
 * results of a reduction (by chunk offset) and use them in its kernel (the magnitude trim's tie counts do).
 */
public interface TensorJob {
    String tensorName();

    long[] shape();

    long numel();

    int inputCount();

    /** Index of the base model among the inputs, or -1. */
    int baseIndex();

    ResolvedParams params();

    /** The merge's seed ({@code --seed}), for {@link CounterRandom}. */
    long seed();

    /**
     * Sparsifying methods report how many task-vector entries they zeroed out of how many they considered (any
     * thread, any number of calls); the totals become the tensor's pruned fraction in the norm statistics.
     */
    default void countPruned(long zeroed, long considered) {}

    /** Runs {@code reducer} over every chunk of the inputs; deterministic for any thread count. */
    <S> S reduce(ChunkReducer<S> reducer);
}
