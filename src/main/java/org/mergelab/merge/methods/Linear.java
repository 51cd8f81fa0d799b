package org.mergelab.merge.methods;

import java.util.List;

import org.mergelab.BadInputException;
import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.ResolvedParams;
import org.mergelab.merge.TensorJob;

/** Weighted average {@code Σ w_i x_i / Σ w_i} (or the plain weighted sum with {@code normalize: false}). */
public final class Linear implements MergeMethod {
    @Override
    public String name() {
        return "linear";
    }

    @Override
    public List<ParamSpec> params() {
        return List.of(ParamSpec.perModel("weight", ParamSpec.Kind.NUMBER, null),
                ParamSpec.global("normalize", ParamSpec.Kind.BOOLEAN, true));
    }

    @Override
    public VocabRule vocabRule() {
        return VocabRule.CROP_TO_SMALLEST; // mergekit's rectify_embed_sizes
    }

    @Override
    public BaseRole baseRole() {
        return BaseRole.ORDINARY;
    }

    @Override
    public void checkModels(ModelSet models) {
        if (models.count() < 1) {
            throw new BadInputException("linear needs at least one model");
        }
    }

    @Override
    public void checkParams(ResolvedParams p, ModelSet models, String tensorName) {
        if (p.flag("normalize") && weightSum(p, models.count()) == 0) {
            throw new BadInputException("linear: the weights for tensor '" + tensorName
                    + "' sum to 0, so normalize: true would divide by zero; set normalize: false or change a weight");
        }
    }

    @Override
    public ChunkKernel prepare(TensorJob job) {
        ResolvedParams p = job.params();
        int k = job.inputCount();
        double divisor = p.flag("normalize") ? weightSum(p, k) : 1;
        double[] c = new double[k];
        for (int i = 0; i < k; i++) {
            c[i] = p.number("weight", i) / divisor;
        }
        return Combination.of(c);
    }

    private static double weightSum(ResolvedParams p, int k) {
        double s = 0;
        for (int i = 0; i < k; i++) {
            s += p.number("weight", i);
        }
        return s;
    }
}
