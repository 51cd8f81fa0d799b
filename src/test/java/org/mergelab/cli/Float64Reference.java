package org.mergelab.cli;

import java.util.function.Function;

/**
 * Straightforward float64 implementations of the interpolation methods, written from the spec
 * (shared/reference/mergekit-semantics.md and the DeLERP article), independent of the production code.
 * Every method treats the whole tensor as one vector.
 */
final class Float64Reference {
    private Float64Reference() {}

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }

    static double[] comb(double a, double[] x, double b, double[] y) {
        double[] r = new double[x.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = a * x[i] + b * y[i];
        }
        return r;
    }

    static double[] scale(double s, double[] x) {
        return comb(s, x, 0, x);
    }

    static double[] sub(double[] x, double[] y) {
        return comb(1, x, -1, y);
    }

    static double[] add(double[] x, double[] y) {
        return comb(1, x, 1, y);
    }

    static double[] linear(double[][] xs, double[] w, boolean normalize) {
        double[] r = new double[xs[0].length];
        double sw = 0;
        for (int m = 0; m < xs.length; m++) {
            sw += w[m];
            for (int i = 0; i < r.length; i++) {
                r[i] += w[m] * xs[m][i];
            }
        }
        return normalize ? scale(1 / sw, r) : r;
    }

    static double[] slerp(double t, double[] v0, double[] v1) {
        double n0 = norm(v0);
        double n1 = norm(v1);
        double[] u0 = n0 > 1e-8 ? scale(1 / n0, v0) : v0;
        double[] u1 = n1 > 1e-8 ? scale(1 / n1, v1) : v1;
        double d = dot(u0, u1);
        if (Math.abs(d) > 0.9995) {
            return comb(1 - t, v0, t, v1);
        }
        double th = Math.acos(d);
        return comb(Math.sin(th - th * t) / Math.sin(th), v0, Math.sin(th * t) / Math.sin(th), v1);
    }

    static double[] nlerp(double t, double[] v0, double[] v1) {
        double[] m = comb(1 - t, v0, t, v1);
        double nm = norm(m);
        return nm <= 1e-8 ? m : scale(((1 - t) * norm(v0) + t * norm(v1)) / nm, m);
    }

    static double[] delerp(double t, double[] v0, double[] v1) {
        double n0 = norm(v0);
        double n1 = norm(v1);
        if (n0 < 1e-8 && n1 < 1e-8) {
            return new double[v0.length];
        }
        double[] m = comb(1 - t, v0, t, v1);
        double nm = norm(m);
        return nm > 1e-8 ? scale(Math.max(n0, n1) / nm, m) : m;
    }

    /** nuslerp with flatten, optional base (task vectors). */
    static double[] nuslerp(double w1, double w2, double[] x1, double[] x2, double[] base) {
        double t = Math.abs(w1 + w2) < 1e-6 ? 0.5 : w2 / (w1 + w2);
        double[] v0 = base == null ? x1 : sub(x1, base);
        double[] v1 = base == null ? x2 : sub(x2, base);
        double c = Math.max(-1, Math.min(1, dot(v0, v1) / (Math.max(norm(v0), 1e-7) * Math.max(norm(v1), 1e-7))));
        double th = Math.acos(c);
        double[] r = Math.abs(Math.sin(th)) < 1e-8 ? comb(1 - t, v0, t, v1)
                : comb(Math.sin((1 - t) * th) / Math.sin(th), v0, Math.sin(t * th) / Math.sin(th), v1);
        return base == null ? r : add(base, r);
    }

    static double[] multislerp(double[][] xs, double[] weights, double[] base) {
        int k = xs.length;
        double eps = 1e-8;
        double sw = 0;
        for (double w : weights) {
            sw += w;
        }
        double[] w = scale(1 / sw, weights);
        double[][] v = new double[k][];
        double[][] u = new double[k][];
        double[] n = new double[k];
        double[] m = new double[xs[0].length];
        for (int i = 0; i < k; i++) {
            v[i] = base == null ? xs[i] : sub(xs[i], base);
            n[i] = norm(v[i]);
            u[i] = scale(1 / (n[i] + eps), v[i]);
            m = comb(1, m, w[i], u[i]);
        }
        m = scale(1 / norm(m), m);
        double[] tan = new double[m.length];
        for (int i = 0; i < k; i++) {
            tan = comb(1, tan, w[i], comb(1, u[i], -dot(u[i], m), m));
        }
        double len = norm(tan) + eps;
        double[] r = comb(Math.cos(len), m, Math.sin(len) / len, tan);
        double s = 0;
        for (int i = 0; i < k; i++) {
            s += w[i] * n[i];
        }
        r = scale(s, r);
        return base == null ? r : add(base, r);
    }

    static double[] karcher(double[][] xs, int maxIter, double tol) {
        int k = xs.length;
        double[] n = new double[k];
        double meanNorm = 0;
        double[][] u = new double[k][];
        int kept = 0;
        for (int i = 0; i < k; i++) {
            n[i] = norm(xs[i]);
            meanNorm += n[i] / k;
            u[i] = n[i] > tol ? scale(1 / n[i], xs[i]) : null;
            kept += u[i] != null ? 1 : 0;
        }
        double[] mean = new double[xs[0].length];
        for (int i = 0; i < k; i++) {
            if (u[i] != null) {
                mean = comb(1, mean, 1.0 / kept, u[i]);
            }
        }
        double[] cur = scale(1 / norm(mean), mean);
        for (int it = 0; it < maxIter; it++) {
            double[] tan = new double[cur.length];
            for (int i = 0; i < k; i++) {
                if (u[i] == null) {
                    continue;
                }
                double c = Math.max(-1, Math.min(1, dot(cur, u[i])));
                double th = Math.acos(c);
                if (th < tol) {
                    continue;
                }
                tan = comb(1, tan, (1.0 / kept) * th / Math.sin(th), comb(1, u[i], -c, cur));
            }
            double tn = norm(tan);
            if (tn < tol) {
                break;
            }
            cur = comb(Math.cos(tn), cur, Math.sin(tn) / tn, tan);
            cur = scale(1 / norm(cur), cur);
        }
        return scale(meanNorm, cur);
    }

    static double[] nearswap(double t, double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < r.length; i++) {
            double w = Math.max(0, Math.min(1, t / Math.max(Math.abs(a[i] - b[i]), 1e-6)));
            r[i] = w * b[i] + (1 - w) * a[i];
        }
        return r;
    }

    static Function<double[][], double[]> passthrough(double scale) {
        return xs -> scale(scale, xs[0]);
    }
}
