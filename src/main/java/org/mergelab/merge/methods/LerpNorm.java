package org.mergelab.merge.methods;

/** ‖(1−t)·v0 + t·v1‖ from the Gram matrix, without a second pass over the data. */
final class LerpNorm {
    private LerpNorm() {}

    static double of(double[][] g, int v0, int v1, double t) {
        double s = 1 - t;
        double sq = s * s * g[v0][v0] + 2 * s * t * g[v0][v1] + t * t * g[v1][v1];
        return Math.sqrt(Math.max(0, sq));
    }
}
