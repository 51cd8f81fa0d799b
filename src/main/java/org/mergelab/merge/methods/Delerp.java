package org.mergelab.merge.methods;

import java.util.List;

import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.Reductions;
import org.mergelab.merge.TensorJob;

/**
 * DeLERP (decomposed linear interpolation, the article in shared/seeds): direction of the LERP, magnitude
 * {@code max(‖v0‖, ‖v1‖)}. Edge cases as the article's code: both norms below eps give zeros; a LERP whose norm is at
 * most eps (the inputs cancel) is returned as it is. The whole tensor is one vector.
 */
public final class Delerp extends BaseToOther {
    @Override
    public String name() {
        return "delerp";
    }

    @Override
    public boolean usesReductions() {
        return true;
    }

    @Override
    List<ParamSpec> extraParams() {
        return List.of(ParamSpec.global("eps", ParamSpec.Kind.NUMBER, 1e-8));
    }

    @Override
    ChunkKernel prepare(TensorJob job, int v0, int v1, double t) {
        double eps = job.params().number("eps");
        double[][] g = Reductions.gram(job, -1);
        double n0 = Math.sqrt(g[v0][v0]);
        double n1 = Math.sqrt(g[v1][v1]);
        if (n0 < eps && n1 < eps) {
            return Combination.of(new double[2]);
        }
        return Combination.of(LerpDirection.withMagnitude(g, v0, v1, t, Math.max(n0, n1), eps));
    }
}
