package org.mergelab.merge.methods;

/**
 * The decomposed interpolations (NLERP, DeLERP): the direction of the LERP {@code m = (1−t)·v0 + t·v1} with a magnitude
 * chosen separately. Everything comes from the Gram matrix, so the output pass is one linear combination.
 */
final class LerpDirection {
    private LerpDirection() {}

    /**
     * Coefficients of {@code magnitude · m/‖m‖}, or of {@code m} itself when {@code ‖m‖ ≤ eps} (the inputs cancel).
     */
    static double[] withMagnitude(double[][] g, int v0, int v1, double t, double magnitude, double eps) {
        double s = 1 - t;
        double lerpNorm = Math.sqrt(Math.max(0, s * s * g[v0][v0] + 2 * s * t * g[v0][v1] + t * t * g[v1][v1]));
        double scale = lerpNorm <= eps ? 1 : magnitude / lerpNorm;
        double[] c = new double[2];
        c[v0] = s * scale;
        c[v1] = t * scale;
        return c;
    }
}
