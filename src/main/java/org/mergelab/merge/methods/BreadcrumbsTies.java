package org.mergelab.merge.methods;

/**
 * Model Breadcrumbs with TIES sign election. See {@link GeneralizedTaskArithmetic}.
 */
public final class BreadcrumbsTies extends GeneralizedTaskArithmetic {
    public BreadcrumbsTies() {
        super("breadcrumbs_ties", new MagnitudeOutliers(), /* consensus */ true, /* normalize */ false, /* rescale */ false);
    }
}
