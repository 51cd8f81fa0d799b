package org.mergelab.merge.methods.legacy;

import org.mergelab.merge.MergeMethod;

/**
 * The task-arithmetic family exactly as it was before the fused kernels (commit c252c90): a frozen copy kept for the
 * differential tests, which require the new code to give the same bits and the same pruned counts.
 */
public final class Legacy {
    private Legacy() {}

    /** The frozen method called {@code name} (task_arithmetic, ties, dare_*, breadcrumbs*, della*). */
    public static MergeMethod of(String name) {
        return switch (name) {
            case "task_arithmetic" -> new Gta(name, null, false, false, false);
            case "ties" -> new Gta(name, new MagnitudeTrim(), true, true, false);
            case "dare_linear" -> new Gta(name, new BernoulliDrop(), false, false, true);
            case "dare_ties" -> new Gta(name, new BernoulliDrop(), true, false, true);
            case "breadcrumbs" -> new Gta(name, new MagnitudeOutliers(), false, false, false);
            case "breadcrumbs_ties" -> new Gta(name, new MagnitudeOutliers(), true, false, false);
            case "della" -> new Gta(name, new DellaMagPrune(), true, true, true);
            case "della_linear" -> new Gta(name, new DellaMagPrune(), false, false, true);
            default -> throw new IllegalArgumentException("no legacy method " + name);
        };
    }

    /** Tests lower the kept-list cap to exercise the tie-counting pass. */
    public static void retainedMax(long max) {
        TopKSelection.retainedMax = max;
    }

    public static long retainedMax() {
        return TopKSelection.retainedMax;
    }

    private static final class Gta extends GeneralizedTaskArithmetic {
        Gta(String name, Sparsifier s, boolean consensus, boolean normalize, boolean rescale) {
            super(name, s, consensus, normalize, rescale);
        }
    }
}
