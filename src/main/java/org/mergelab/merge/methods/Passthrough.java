package org.mergelab.merge.methods;

import java.util.List;

import org.mergelab.BadInputException;
import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.TensorJob;

/** One model per tensor, copied, optionally multiplied by a per-model {@code scale}. */
public final class Passthrough implements MergeMethod {
    @Override
    public String name() {
        return "passthrough";
    }

    @Override
    public List<ParamSpec> params() {
        return List.of(ParamSpec.perModel("scale", ParamSpec.Kind.NUMBER, 1.0));
    }

    @Override
    public BaseRole baseRole() {
        return BaseRole.ORDINARY;
    }

    @Override
    public void checkModels(ModelSet models) {
        if (models.count() != 1) {
            throw new BadInputException("passthrough takes exactly one model per tensor; got " + models.count() + " "
                    + models.names());
        }
    }

    @Override
    public ChunkKernel prepare(TensorJob job) {
        float scale = (float) job.params().number("scale", 0);
        return (offset, in, out, n) -> {
            float[] x = in[0];
            for (int j = 0; j < n; j++) {
                out[j] = x[j] * scale;
            }
        };
    }
}
