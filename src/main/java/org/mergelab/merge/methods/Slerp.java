package org.mergelab.merge.methods;

import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.Reductions;
import org.mergelab.merge.TensorJob;

/**
 * Spherical interpolation from the base ({@code t = 0}) to the other model, mergekit's way: the whole tensor is one
 * vector; the angle comes from normalised copies, the Shoemake weights apply to the raw vectors; near-(anti)parallel
 * inputs ({@code |cos| > 0.9995}) fall back to the plain LERP.
 */
public final class Slerp extends BaseToOther {
    static final double DOT_THRESHOLD = 0.9995;
    static final double EPS = 1e-8;

    @Override
    public String name() {
        return "slerp";
    }

    @Override
    public boolean usesReductions() {
        return true;
    }

    @Override
    ChunkKernel prepare(TensorJob job, int v0, int v1, double t) {
        double[][] g = Reductions.gram(job, -1);
        double n0 = Math.sqrt(g[v0][v0]);
        double n1 = Math.sqrt(g[v1][v1]);
        // only vectors with a norm above eps are normalised (mergekit leaves near-zero ones as they are)
        double s0 = n0 > EPS ? n0 : 1;
        double s1 = n1 > EPS ? n1 : 1;
        double dot = g[v0][v1] / (s0 * s1);
        if (Math.abs(dot) > DOT_THRESHOLD) {
            return Combination.of(Combination.lerp(2, v0, v1, t));
        }
        double theta0 = Math.acos(dot);
        double sin0 = Math.sin(theta0);
        double thetaT = theta0 * t;
        double[] c = new double[2];
        c[v0] = Math.sin(theta0 - thetaT) / sin0;
        c[v1] = Math.sin(thetaT) / sin0;
        return Combination.of(c);
    }
}
