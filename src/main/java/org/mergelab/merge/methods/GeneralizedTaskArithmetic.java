package org.mergelab.merge.methods;

import java.util.ArrayList;
import java.util.List;

import org.mergelab.BadInputException;
import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.ResolvedParams;
import org.mergelab.merge.TensorJob;

/**
 * mergekit's generalized task arithmetic, the one pipeline behind task_arithmetic, ties, dare_linear, dare_ties,
 * breadcrumbs, breadcrumbs_ties, della and della_linear; each is this class with a sparsifier, a consensus switch and
 * its defaults. Per tensor:
 * <ol>
 * <li>task vectors {@code τ_i = x_i − b} (float32) for every model but the base;</li>
 * <li>each sparsified with its own {@code density} (and {@code gamma}/{@code epsilon}), rescaled when
 *     {@code rescale} ({@code rescale_mode}: {@code l1}, mergekit's per-tensor L1 match, or
 *     {@code inverse_density}, the papers' {@code 1/p});</li>
 * <li>contributions {@code D_i = w_i·τ̂_i};</li>
 * <li>without consensus {@code M = Σ D_i}, {@code S = Σ w_i} (1 when {@code |S| < 1e-8}); with consensus the elected
 *     sign per element ({@link SignConsensus}: {@code sum} or {@code count}) masks out disagreeing and zero
 *     contributions, {@code M = Σ m_i D_i}, {@code S = Σ m_i w_i} (1 where 0);</li>
 * <li>{@code M/S} when {@code normalize}, times {@code lambda}; the output is {@code b + M}.</li>
 * </ol>
 * Mixing runs in float64 per element. {@code int8_mask} is accepted for mergekit configs and has no numeric effect.
 * Negative weights (task negation) work; with {@code normalize: true} they can shrink the divisor, so use
 * {@code normalize: false} as mergekit advises.
 */
abstract class GeneralizedTaskArithmetic implements MergeMethod {
    private final String name;
    private final Sparsifier sparsifier;
    private final boolean consensus;
    private final boolean normalize;
    private final boolean rescale;

    /**
     * @param sparsifier null for none (task_arithmetic)
     * @param consensus whether the TIES sign election masks the mix
     */
    GeneralizedTaskArithmetic(String name, Sparsifier sparsifier, boolean consensus, boolean normalize,
            boolean rescale) {
        this.name = name;
        this.sparsifier = sparsifier;
        this.consensus = consensus;
        this.normalize = normalize;
        this.rescale = rescale;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final List<ParamSpec> params() {
        List<ParamSpec> p = new ArrayList<>();
        p.add(ParamSpec.perModel("weight", ParamSpec.Kind.NUMBER, null));
        if (sparsifier != null) {
            p.add(ParamSpec.perModel("density", ParamSpec.Kind.NUMBER, 1.0));
            p.addAll(sparsifier.extraParams());
        }
        p.add(ParamSpec.global("normalize", ParamSpec.Kind.BOOLEAN, normalize));
        p.add(ParamSpec.global("lambda", ParamSpec.Kind.NUMBER, 1.0));
        p.add(ParamSpec.global("int8_mask", ParamSpec.Kind.BOOLEAN, false));
        if (sparsifier != null) {
            p.add(ParamSpec.global("rescale", ParamSpec.Kind.BOOLEAN, rescale));
            p.add(ParamSpec.choice("rescale_mode", "l1", "inverse_density"));
        }
        if (consensus) {
            p.add(ParamSpec.choice("consensus", "sum", "count"));
        }
        return List.copyOf(p);
    }

    @Override
    public final BaseRole baseRole() {
        return BaseRole.SPECIAL;
    }

    @Override
    public final VocabRule vocabRule() {
        return VocabRule.CROP_TO_BASE; // mergekit's task-vector rule: larger vocabularies are cut to the base's
    }

    @Override
    public final void checkModels(ModelSet models) {
        checkTaskVectorModels(name, models, 1);
    }

    /** The model-set rule every task-vector method shares: a base, and at least {@code min} other models. */
    static void checkTaskVectorModels(String method, ModelSet models, int min) {
        if (!models.hasBase()) {
            throw new BadInputException(method + " needs base_model: it merges task vectors, the differences of each"
                    + " model from the base");
        }
        if (models.nonBaseCount() < min) {
            throw new BadInputException(method + " needs " + (min == 1 ? "at least one model" : "at least " + min
                    + " models") + " besides base_model; got " + models.nonBaseCount());
        }
    }

    @Override
    public final void checkParams(ResolvedParams p, ModelSet models, String tensorName) {
        if (sparsifier == null) {
            return;
        }
        for (int i = 0; i < models.count(); i++) {
            if (i != models.baseIndex()) {
                sparsifier.check(name, p, i, models.names().get(i), tensorName);
            }
        }
    }

    @Override
    public final ChunkKernel prepare(TensorJob job) {
        ResolvedParams p = job.params();
        TaskVectors tv = new TaskVectors(job);
        int k = tv.count();
        double[] w = new double[k];
        for (int m = 0; m < k; m++) {
            w[m] = p.number("weight", tv.inputs[m]);
        }
        Sparsifier.Mask mask = sparsifier == null ? Sparsifier.Mask.NONE
                : sparsifier.prepare(job, tv, Sparsifier.Rescale.of(p));
        double lambda = p.number("lambda");
        boolean norm = p.flag("normalize");
        int base = tv.base;
        boolean counted = sparsifier != null;
        // contribution coefficients D_m = c_m·τ̂_m: the weight times the sparsifier's rescale factor
        double[] c = new double[k];
        for (int m = 0; m < k; m++) {
            c[m] = w[m] * mask.scale(m);
        }
        if (!consensus) {
            double s = 0;
            for (double x : w) {
                s += x;
            }
            if (Math.abs(s) < 1e-8) {
                s = 1;
            }
            double outer = lambda / (norm ? s : 1);
            if (sparsifier == null && k <= 2) {
                // task arithmetic of one or two models in one pass per element: the same operations in the same
                // order as MaskedSum's general loop, without writing τ and the sums to arrays and reading them back
                return new TaskSum(base, tv.inputs[0], c[0], k == 2 ? tv.inputs[1] : -1, k == 2 ? c[1] : 0, outer);
            }
            return new MaskedSum(job, tv, mask, c, outer, counted);
        }
        SignConsensus.Divide divide = norm ? SignConsensus.Divide.ZERO_AS_ONE : SignConsensus.Divide.NO;
        return new ConsensusMix(job, tv, mask, SignConsensus.of(p.choice("consensus")), c, w, divide, lambda, counted);
    }
}
