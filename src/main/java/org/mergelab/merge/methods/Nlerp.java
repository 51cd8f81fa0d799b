package org.mergelab.merge.methods;

import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.Reductions;
import org.mergelab.merge.TensorJob;

/**
 * MergeLab's NLERP: the direction of the LERP, with the interpolated magnitude {@code (1−t)·‖v0‖ + t·‖v1‖} (no norm
 * dip). Falls back to the plain LERP when the LERP's norm is at most 1e-8. The whole tensor is one vector.
 */
public final class Nlerp extends BaseToOther {
    static final double EPS = 1e-8;

    @Override
    public String name() {
        return "nlerp";
    }

    @Override
    public boolean usesReductions() {
        return true;
    }

    @Override
    ChunkKernel prepare(TensorJob job, int v0, int v1, double t) {
        double[][] g = Reductions.gram(job, -1);
        double magnitude = (1 - t) * Math.sqrt(g[v0][v0]) + t * Math.sqrt(g[v1][v1]);
        return Combination.of(LerpDirection.withMagnitude(g, v0, v1, t, magnitude, EPS));
    }
}
