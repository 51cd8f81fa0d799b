package org.mergelab.merge.methods;

import java.util.List;

import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.TensorJob;

/**
 * mergekit's nearswap: takes the other model's value where it is near the base's. Elementwise,
 * {@code w = clamp(t / max(|a − b|, 1e-6), 0, 1)}, result {@code w·b + (1−w)·a} with {@code a} the base.
 */
public final class Nearswap implements MergeMethod {
    @Override
    public String name() {
        return "nearswap";
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
        int a = job.baseIndex();
        int b = Combination.other(a);
        float t = (float) job.params().number("t");
        return (offset, in, out, n) -> {
            float[] x = in[a];
            float[] y = in[b];
            for (int j = 0; j < n; j++) {
                float w = t / Math.max(Math.abs(x[j] - y[j]), 1e-6f);
                w = Math.max(0f, Math.min(1f, w));
                out[j] = w * y[j] + (1 - w) * x[j];
            }
        };
    }
}
