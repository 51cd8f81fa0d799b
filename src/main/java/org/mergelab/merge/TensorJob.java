package org.mergelab.merge;

/**
 * One output tensor as the engine presents it to a merge method: what it is, its resolved parameters, and a way to
 * run reduction passes over the inputs. Inputs are in config order (the models, then the base model when it was not
 * listed among them).
 */
public interface TensorJob {
    String tensorName();

    long[] shape();

    long numel();

    int inputCount();

    /** Index of the base model among the inputs, or -1. */
    int baseIndex();

    ResolvedParams params();

    /** Runs {@code reducer} over every chunk of the inputs; deterministic for any thread count. */
    <S> S reduce(ChunkReducer<S> reducer);
}
