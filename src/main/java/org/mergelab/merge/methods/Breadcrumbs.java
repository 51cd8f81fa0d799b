package org.mergelab.merge.methods;

/**
 * Model Breadcrumbs: drop the largest {@code gamma} and the smallest magnitudes, weighted sum. See {@link GeneralizedTaskArithmetic}.
 */
public final class Breadcrumbs extends GeneralizedTaskArithmetic {
    public Breadcrumbs() {
        super("breadcrumbs", new MagnitudeOutliers(), /* consensus */ false, /* normalize */ false, /* rescale */ false);
    }
}
