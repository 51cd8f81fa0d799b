package org.mergelab.merge.methods;

/**
 * TIES: magnitude trim to {@code density}, sign election, disjoint (weighted) mean. See {@link GeneralizedTaskArithmetic}.
 */
public final class Ties extends GeneralizedTaskArithmetic {
    public Ties() {
        super("ties", new MagnitudeTrim(), /* consensus */ true, /* normalize */ true, /* rescale */ false);
    }
}
