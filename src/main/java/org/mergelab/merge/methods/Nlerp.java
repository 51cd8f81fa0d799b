package org.mergelab.merge.methods;

import java.util.List;

import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.Reductions;
import org.mergelab.merge.TensorJob;

/**
 * MergeLab's NLERP: the direction of the LERP, with the interpolated magnitude {@code (1−t)·‖v0‖ + t·‖v1‖} (no norm
 * dip). Falls back to the plain LERP when the LERP's norm is at most 1e-8. The whole tensor is one vector.
 */
public final class Nlerp implements MergeMethod {
    static final double EPS = 1e-8;

    @Override
    public String name() {
        return "nlerp";
    }

    @Override
    public List<ParamSpec> params() {
        return List.of(ParamSpec.global("t", ParamSpec.Kind.NUMBER, null));
    }

    @Override
    public BaseRole baseRole() {
        return BaseRole.SPECIAL;
    }

    @Override
    public void checkModels(ModelSet models) {
        TwoModelCheck.baseAndOne(name(), models);
    }

    @Override
    public ChunkKernel prepare(TensorJob job) {
        int v0 = job.baseIndex();
        int v1 = Combination.other(v0);
        double t = job.params().number("t");
        double[][] g = Reductions.gram(job, -1);
        double lerpNorm = LerpNorm.of(g, v0, v1, t);
        double[] lerp = Combination.lerp(2, v0, v1, t);
        if (lerpNorm <= EPS) {
            return Combination.of(lerp);
        }
        double magnitude = (1 - t) * Math.sqrt(g[v0][v0]) + t * Math.sqrt(g[v1][v1]);
        double scale = magnitude / lerpNorm;
        return Combination.of(new double[] {lerp[0] * scale, lerp[1] * scale});
    }
}
