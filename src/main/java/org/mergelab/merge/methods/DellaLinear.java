package org.mergelab.merge.methods;

/**
 * DELLA without sign election: MagPrune, rescale, weighted sum. See {@link GeneralizedTaskArithmetic}.
 */
public final class DellaLinear extends GeneralizedTaskArithmetic {
    public DellaLinear() {
        super("della_linear", new DellaMagPrune(), /* consensus */ false, /* normalize */ false, /* rescale */ true);
    }
}
