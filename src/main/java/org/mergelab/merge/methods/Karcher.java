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
 * mergekit's karcher: the Riemannian (Karcher) mean of the models' directions on the unit sphere with equal weights,
 * scaled by the mean norm. Iterates {@code u ← cos‖T‖·u + sin‖T‖·T/‖T‖} with
 * {@code T = Σ α_i (θ_i/sin θ_i)(u_i − cos θ_i·u)}. The iterate always lies in the span of the inputs, so it is kept
 * as coefficients and every inner product comes from the Gram matrix: one reduction pass, then one output pass.
 */
public final class Karcher implements MergeMethod {
    @Override
    public String name() {
        return "karcher";
    }

    @Override
    public boolean usesReductions() {
        return true;
    }

    @Override
    public List<ParamSpec> params() {
        return List.of(ParamSpec.global("max_iter", ParamSpec.Kind.INTEGER, 10),
                ParamSpec.global("tol", ParamSpec.Kind.NUMBER, 1e-5));
    }

    @Override
    public BaseRole baseRole() {
        return BaseRole.ORDINARY;
    }

    @Override
    public void checkModels(ModelSet models) {
        if (models.count() < 1) {
            throw new BadInputException("karcher needs at least one model");
        }
    }

    @Override
    public void checkParams(ResolvedParams p, ModelSet models, String tensorName) {
        if (p.integer("max_iter") < 0) {
            throw new BadInputException("karcher: max_iter must be >= 0, got " + p.integer("max_iter"));
        }
        if (!(p.number("tol") > 0)) {
            throw new BadInputException("karcher: tol must be > 0, got " + p.number("tol"));
        }
    }

    @Override
    public ChunkKernel prepare(TensorJob job) {
        int k = job.inputCount();
        int maxIter = job.params().integer("max_iter");
        double tol = job.params().number("tol");
        if (k == 1) {
            // mergekit returns a lone tensor before any norm test (even one whose norm is below tol)
            return Combination.of(new double[] {1});
        }
        double[][] g = Reductions.gram(job, -1);
        double[] norm = new double[k];
        double meanNorm = 0;
        int kept = 0;
        for (int i = 0; i < k; i++) {
            norm[i] = Math.sqrt(g[i][i]);
            meanNorm += norm[i] / k;
            if (norm[i] > tol) {
                kept++;
            }
        }
        if (kept == 0) {
            return Combination.of(new double[k]);
        }
        // Gram matrix of the unit vectors; models at (near) zero norm take no part in the direction
        double[][] u = new double[k][k];
        double[] alpha = new double[k];
        int first = -1;
        for (int i = 0; i < k; i++) {
            if (norm[i] > tol) {
                alpha[i] = 1.0 / kept;
                first = first < 0 ? i : first;
                for (int j = 0; j < k; j++) {
                    if (norm[j] > tol) {
                        u[i][j] = g[i][j] / (norm[i] * norm[j]);
                    }
                }
            }
        }
        double[] beta = alpha.clone();
        double len = Math.sqrt(Math.max(0, Multislerp.quad(u, beta, beta)));
        if (len < tol) {
            beta = new double[k];
            beta[first] = 1;
        } else {
            scale(beta, 1 / len);
        }
        for (int iter = 0; iter < maxIter; iter++) {
            double[] tangent = new double[k];
            double[] ub = multiply(u, beta);
            for (int i = 0; i < k; i++) {
                if (alpha[i] == 0) {
                    continue;
                }
                double c = Math.max(-1, Math.min(1, ub[i]));
                double theta = Math.acos(c);
                if (theta < tol) {
                    continue;
                }
                double a = alpha[i] * theta / Math.sin(theta);
                tangent[i] += a;
                for (int j = 0; j < k; j++) {
                    tangent[j] -= a * c * beta[j];
                }
            }
            double tnorm = Math.sqrt(Math.max(0, Multislerp.quad(u, tangent, tangent)));
            if (tnorm < tol) {
                break;
            }
            double cos = Math.cos(tnorm);
            double sin = Math.sin(tnorm);
            for (int j = 0; j < k; j++) {
                beta[j] = cos * beta[j] + sin * tangent[j] / tnorm;
            }
            double bnorm = Math.sqrt(Math.max(0, Multislerp.quad(u, beta, beta)));
            if (bnorm > 0) {
                scale(beta, 1 / bnorm);
            }
        }
        double[] c = new double[k];
        for (int i = 0; i < k; i++) {
            if (alpha[i] != 0) {
                c[i] = meanNorm * beta[i] / norm[i];
            }
        }
        return Combination.of(c);
    }

    private static double[] multiply(double[][] m, double[] x) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x.length; j++) {
                r[i] += m[i][j] * x[j];
            }
        }
        return r;
    }

    private static void scale(double[] x, double s) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= s;
        }
    }
}
