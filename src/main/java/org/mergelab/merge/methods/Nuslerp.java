package org.mergelab.merge.methods;

import java.util.List;

import org.mergelab.BadInputException;
import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.Reductions;
import org.mergelab.merge.TensorJob;
import org.mergelab.merge.VectorLayout;

/**
 * mergekit's nuslerp: SLERP between two models with {@code t = w2/(w1+w2)} from their weights; with a base model, of
 * their task vectors ({@code b + slerp(x1−b, x2−b)}). The whole tensor is one vector ({@code nuslerp_flatten}), or
 * each row {@code W[i,:]}, or each column {@code W[:,j]} with {@code nuslerp_row_wise: true} (the code's behaviour,
 * which the mergekit docs describe the other way round). Where {@code |sin θ| < 1e-8} a vector falls back to LERP.
 */
public final class Nuslerp implements MergeMethod {
    @Override
    public String name() {
        return "nuslerp";
    }

    @Override
    public boolean usesReductions() {
        return true;
    }

    @Override
    public List<ParamSpec> params() {
        return List.of(ParamSpec.perModel("weight", ParamSpec.Kind.NUMBER, null),
                ParamSpec.global("nuslerp_flatten", ParamSpec.Kind.BOOLEAN, true),
                ParamSpec.global("nuslerp_row_wise", ParamSpec.Kind.BOOLEAN, false));
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
        if (models.nonBaseCount() != 2) {
            throw new BadInputException("nuslerp merges exactly two models (plus an optional, distinct base_model); got "
                    + models.nonBaseCount() + " besides the base");
        }
    }

    @Override
    public ChunkKernel prepare(TensorJob job) {
        int k = job.inputCount();
        int base = job.baseIndex();
        int[] ends = new int[2];
        for (int i = 0, e = 0; i < k; i++) {
            if (i != base) {
                ends[e++] = i;
            }
        }
        double w1 = job.params().number("weight", ends[0]);
        double w2 = job.params().number("weight", ends[1]);
        double t = Math.abs(w1 + w2) < 1e-6 ? 0.5 : w2 / (w1 + w2);
        if (job.params().flag("nuslerp_flatten")) {
            double[][] g = Reductions.gram(job, base);
            double[] ab = weights(g[ends[0]][ends[0]], g[ends[1]][ends[1]], g[ends[0]][ends[1]], t);
            return Combination.of(onInputs(k, base, ends, ab[0], ab[1]));
        }
        long[] shape = job.shape();
        VectorLayout layout = job.params().flag("nuslerp_row_wise") ? VectorLayout.columns(shape)
                : VectorLayout.rows(shape);
        double[][] g = Reductions.vectorGram(job, layout, base);
        int vectors = g.length;
        double[][] coef = new double[vectors][];
        for (int v = 0; v < vectors; v++) {
            double[] gv = g[v];
            double[] ab = weights(gv[ends[0] * k + ends[0]], gv[ends[1] * k + ends[1]], gv[ends[0] * k + ends[1]], t);
            coef[v] = onInputs(k, base, ends, ab[0], ab[1]);
        }
        // accumulated in float64: near-colinear vectors just above the LERP threshold get coefficients ~1/sin θ, which
        // a float32 sum would turn into cancellation noise
        return (offset, in, out, n) -> {
            for (int j = 0; j < n; j++) {
                double[] c = coef[(int) layout.vectorOf(offset + j)];
                double s = 0;
                for (int i = 0; i < k; i++) {
                    s += c[i] * in[i][j];
                }
                out[j] = (float) s;
            }
        };
    }

    /** Weights (a, b) of {@code a·v0 + b·v1} for one vector pair given ‖v0‖², ‖v1‖², v0·v1. */
    static double[] weights(double g00, double g11, double g01, double t) {
        double n0 = Math.max(Math.sqrt(g00), 1e-7);
        double n1 = Math.max(Math.sqrt(g11), 1e-7);
        double cos = Math.max(-1, Math.min(1, g01 / (n0 * n1)));
        double theta = Math.acos(cos);
        double sin = Math.sin(theta);
        if (Math.abs(sin) < 1e-8) {
            return new double[] {1 - t, t};
        }
        return new double[] {Math.sin((1 - t) * theta) / sin, Math.sin(t * theta) / sin};
    }

    /** Coefficients on the raw inputs: with a base, {@code b + a(x1−b) + c(x2−b)}. */
    private static double[] onInputs(int k, int base, int[] ends, double a, double b) {
        double[] c = new double[k];
        c[ends[0]] = a;
        c[ends[1]] = b;
        if (base >= 0) {
            c[base] = 1 - a - b;
        }
        return c;
    }
}
