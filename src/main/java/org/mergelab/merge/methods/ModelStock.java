package org.mergelab.merge.methods;

import java.util.List;

import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.Reductions;
import org.mergelab.merge.TensorJob;
import org.mergelab.merge.VectorLayout;

/**
 * Model Stock (mergekit's {@code model_stock}): with offsets {@code δ_i = x_i − b} of the N non-base models,
 * {@code cos θ} = the mean over pairs {@code i < j} of {@code clamp(δ_i·δ_j / max(‖δ_i‖‖δ_j‖, 1e-6), −1, 1)},
 * {@code t = N·cos θ / (1 + (N−1)·cos θ)} (not clamped), and the result {@code t·mean_i(x_i) + (1−t)·b}. The whole
 * tensor is one vector, or each row with {@code filter_wise: true} (a 1-D tensor is one row). Per-model weights are
 * not used. MergeLab: where the denominator is exactly 0 (mergekit divides by zero), {@code t = 0} keeps the base.
 */
public final class ModelStock implements MergeMethod {
    @Override
    public String name() {
        return "model_stock";
    }

    @Override
    public boolean usesReductions() {
        return true;
    }

    @Override
    public List<ParamSpec> params() {
        return List.of(ParamSpec.global("filter_wise", ParamSpec.Kind.BOOLEAN, false));
    }

    @Override
    public VocabRule vocabRule() {
        return VocabRule.CROP_TO_SMALLEST; // mergekit's rectify_embed_sizes
    }

    @Override
    public BaseRole baseRole() {
        return BaseRole.SPECIAL;
    }

    @Override
    public void checkModels(ModelSet models) {
        GeneralizedTaskArithmetic.checkTaskVectorModels(name(), models, 2);
    }

    @Override
    public ChunkKernel prepare(TensorJob job) {
        TaskVectors tv = new TaskVectors(job);
        int k = job.inputCount();
        if (!job.params().flag("filter_wise")) {
            double[][] g = Reductions.gram(job, tv.base);
            return Combination.of(coefficients(k, tv, t(tv, (i, j) -> g[i][j])));
        }
        VectorLayout rows = VectorLayout.rows(job.shape());
        double[][] g = Reductions.vectorGram(job, rows, tv.base);
        double[][] coef = new double[g.length][];
        for (int r = 0; r < g.length; r++) {
            double[] gr = g[r];
            coef[r] = coefficients(k, tv, t(tv, (i, j) -> gr[i * k + j]));
        }
        return (offset, in, out, n) -> {
            for (int j = 0; j < n; j++) {
                double[] c = coef[(int) rows.vectorOf(offset + j)];
                double s = 0;
                for (int i = 0; i < k; i++) {
                    s += c[i] * in[i][j];
                }
                out[j] = (float) s;
            }
        };
    }

    private interface Gram {
        double at(int i, int j);
    }

    /** Model Stock's interpolation factor from the task vectors' Gram matrix (input indices). */
    private static double t(TaskVectors tv, Gram g) {
        int n = tv.count();
        double sum = 0;
        int pairs = 0;
        for (int a = 0; a < n; a++) {
            for (int b = a + 1; b < n; b++) {
                int i = tv.inputs[a];
                int j = tv.inputs[b];
                double norms = Math.sqrt(g.at(i, i)) * Math.sqrt(g.at(j, j));
                sum += Math.max(-1, Math.min(1, g.at(i, j) / Math.max(norms, 1e-6)));
                pairs++;
            }
        }
        double cos = sum / pairs;
        double denominator = 1 + (n - 1) * cos;
        return denominator == 0 ? 0 : n * cos / denominator;
    }

    /** {@code t/N} on every non-base input and {@code 1 − t} on the base. */
    private static double[] coefficients(int k, TaskVectors tv, double t) {
        double[] c = new double[k];
        for (int input : tv.inputs) {
            c[input] = t / tv.count();
        }
        c[tv.base] = 1 - t;
        return c;
    }
}
