package org.mergelab.merge.methods;

/**
 * DARE without sign election: random drop with keep probability {@code density}, rescaled, weighted sum. See {@link GeneralizedTaskArithmetic}.
 */
public final class DareLinear extends GeneralizedTaskArithmetic {
    public DareLinear() {
        super("dare_linear", new BernoulliDrop(), /* consensus */ false, /* normalize */ false, /* rescale */ true);
    }
}
