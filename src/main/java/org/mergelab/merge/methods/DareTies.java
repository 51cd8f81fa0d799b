package org.mergelab.merge.methods;

/**
 * DARE with TIES sign election: random drop, rescale, sign election, weighted sum. See {@link GeneralizedTaskArithmetic}.
 */
public final class DareTies extends GeneralizedTaskArithmetic {
    public DareTies() {
        super("dare_ties", new BernoulliDrop(), /* consensus */ true, /* normalize */ false, /* rescale */ true);
    }
}
