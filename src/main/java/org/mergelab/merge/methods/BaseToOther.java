package org.mergelab.merge.methods;

import java.util.ArrayList;
import java.util.List;

import org.mergelab.BadInputException;
import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.TensorJob;

/**
 * What slerp, nlerp, delerp and nearswap share: exactly two models, the base at {@code t = 0} and the other at
 * {@code t = 1}, and a required global {@code t} (gradients and filters allowed, like any parameter).
 */
abstract class BaseToOther implements MergeMethod {
    @Override
    public final List<ParamSpec> params() {
        List<ParamSpec> p = new ArrayList<>();
        p.add(ParamSpec.global("t", ParamSpec.Kind.NUMBER, null));
        p.addAll(extraParams());
        return List.copyOf(p);
    }

    /** Parameters besides {@code t}. */
    List<ParamSpec> extraParams() {
        return List.of();
    }

    /** Crop to the common vocabulary as mergekit's slerp does (and the DeLERP forks); nearswap refuses. */
    @Override
    public VocabRule vocabRule() {
        return VocabRule.CROP_TO_SMALLEST;
    }

    @Override
    public final BaseRole baseRole() {
        return BaseRole.SPECIAL;
    }

    @Override
    public final void checkModels(ModelSet models) {
        if (!models.hasBase()) {
            throw new BadInputException(name() + " needs base_model: it is the t = 0 end of the interpolation");
        }
        if (models.count() != 2) {
            throw new BadInputException(name() + " merges exactly two models (base_model at t = 0 and one other at"
                    + " t = 1); got " + models.count() + " " + models.names());
        }
    }

    @Override
    public final ChunkKernel prepare(TensorJob job) {
        int v0 = job.baseIndex();
        return prepare(job, v0, v0 == 0 ? 1 : 0, job.params().number("t"));
    }

    /** The kernel for inputs {@code v0} (base) and {@code v1} at position {@code t}. */
    abstract ChunkKernel prepare(TensorJob job, int v0, int v1, double t);
}
