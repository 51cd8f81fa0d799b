package org.mergelab.merge.methods;

/**
 * DELLA: rank-dependent random drop (MagPrune), rescale, sign election, disjoint mean. See {@link GeneralizedTaskArithmetic}.
 */
public final class Della extends GeneralizedTaskArithmetic {
    public Della() {
        super("della", new DellaMagPrune(), /* consensus */ true, /* normalize */ true, /* rescale */ true);
    }
}
