package org.mergelab.merge.methods;

import java.util.List;

import org.mergelab.BadInputException;
import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.Reductions;
import org.mergelab.merge.ResolvedParams;
import org.mergelab.merge.TensorJob;

/**
 * mergekit's multislerp: a weighted spherical mean of several models (of their task vectors when there is a base).
 * Units {@code u_i = v_i/(‖v_i‖+eps)}, mean direction {@code m = Σ w_i u_i} normalised, tangent projection
 * {@code T = Σ w_i (u_i − (u_i·m) m)}, exponential map {@code r = m cos L + T sin L / L} with {@code L = ‖T‖ + eps},
 * scaled by {@code Σ w_i ‖v_i‖}. Every quantity is a combination of the inputs, so the Gram matrix is all it needs.
 */
public final class Multislerp implements MergeMethod {
    @Override
    public String name() {
        return "multislerp";
    }

    @Override
    public boolean usesReductions() {
        return true;
    }

    @Override
    public List<ParamSpec> params() {
        return List.of(ParamSpec.perModel("weight", ParamSpec.Kind.NUMBER, null),
                ParamSpec.global("normalize_weights", ParamSpec.Kind.BOOLEAN, true),
                ParamSpec.global("eps", ParamSpec.Kind.NUMBER, 1e-8));
    }

    @Override
    public BaseRole baseRole() {
        return BaseRole.SPECIAL;
    }

    @Override
    public void checkModels(ModelSet models) {
        if (models.nonBaseCount() < 1) {
            throw new BadInputException("multislerp needs at least one model besides the base");
        }
    }

    @Override
    public void checkParams(ResolvedParams p, ModelSet models, String tensorName) {
        if (!p.flag("normalize_weights") || models.nonBaseCount() == 1) {
            return; // a lone model is returned as it is, so its weight never divides anything
        }
        double sum = 0;
        for (int i = 0; i < models.count(); i++) {
            if (i != models.baseIndex()) {
                sum += p.number("weight", i);
            }
        }
        if (sum == 0) {
            throw new BadInputException("multislerp: the weights for tensor '" + tensorName
                    + "' sum to 0, so normalize_weights would divide by zero");
        }
    }

    @Override
    public ChunkKernel prepare(TensorJob job) {
        int k = job.inputCount();
        int base = job.baseIndex();
        int[] idx = new int[base >= 0 ? k - 1 : k];
        for (int i = 0, e = 0; i < k; i++) {
            if (i != base) {
                idx[e++] = i;
            }
        }
        int m = idx.length;
        if (m == 1) {
            // mergekit returns a lone model unchanged (with or without a base, whatever its weight)
            double[] c = new double[k];
            c[idx[0]] = 1;
            return Combination.of(c);
        }
        ResolvedParams p = job.params();
        double eps = p.number("eps");
        double[] w = new double[m];
        double wsum = 0;
        for (int a = 0; a < m; a++) {
            w[a] = p.number("weight", idx[a]);
            wsum += w[a];
        }
        if (p.flag("normalize_weights")) {
            for (int a = 0; a < m; a++) {
                w[a] /= wsum;
            }
        }
        double[][] g = Reductions.gram(job, base);
        double[] n = new double[m];
        double[][] u = new double[m][m]; // Gram matrix of the unit vectors
        for (int a = 0; a < m; a++) {
            n[a] = Math.sqrt(g[idx[a]][idx[a]]);
        }
        for (int a = 0; a < m; a++) {
            for (int b = 0; b < m; b++) {
                u[a][b] = g[idx[a]][idx[b]] / ((n[a] + eps) * (n[b] + eps));
            }
        }
        double[] onUnits; // result direction as coefficients on the unit vectors
        double mNorm = Math.sqrt(Math.max(0, quad(u, w, w)));
        boolean allZero = true;
        for (int a = 0; a < m; a++) {
            allZero &= n[a] == 0;
        }
        if (allZero) {
            // MergeLab decision: every model left this tensor at the base (e.g. a frozen layer), so the merge does
            // too; mergekit raises "antipodal" here, which stops real merges on frozen layers.
            double[] c = new double[k];
            if (base >= 0) {
                c[base] = 1;
            }
            return Combination.of(c);
        }
        if (mNorm < eps) {
            if (m != 2) {
                throw new BadInputException("multislerp: the models' directions cancel out for tensor '"
                        + job.tensorName() + "' (antipodal inputs); merge fewer models or change the weights");
            }
            double[] c = new double[k];
            c[idx[0]] = w[0];
            c[idx[1]] = w[1];
            if (base >= 0) {
                c[base] = 1 - w[0] - w[1];
            }
            return Combination.of(c);
        }
        double[] mu = new double[m];
        for (int a = 0; a < m; a++) {
            mu[a] = w[a] / mNorm;
        }
        double wp = 0; // Σ w_i (u_i · m̂)
        for (int a = 0; a < m; a++) {
            double ua = 0;
            for (int b = 0; b < m; b++) {
                ua += u[a][b] * mu[b];
            }
            wp += w[a] * ua;
        }
        double[] tangent = new double[m];
        for (int a = 0; a < m; a++) {
            tangent[a] = w[a] - wp * mu[a];
        }
        double len = Math.sqrt(Math.max(0, quad(u, tangent, tangent))) + eps;
        onUnits = new double[m];
        for (int a = 0; a < m; a++) {
            onUnits[a] = mu[a] * Math.cos(len) + tangent[a] * Math.sin(len) / len;
        }
        double scale = 0;
        for (int a = 0; a < m; a++) {
            scale += w[a] * n[a];
        }
        double[] c = new double[k];
        double sum = 0;
        for (int a = 0; a < m; a++) {
            c[idx[a]] = scale * onUnits[a] / (n[a] + eps);
            sum += c[idx[a]];
        }
        if (base >= 0) {
            c[base] = 1 - sum;
        }
        return Combination.of(c);
    }

    static double quad(double[][] g, double[] x, double[] y) {
        double s = 0;
        for (int a = 0; a < x.length; a++) {
            for (int b = 0; b < y.length; b++) {
                s += x[a] * g[a][b] * y[b];
            }
        }
        return s;
    }
}
