package org.mergelab.cli;

import java.util.Arrays;
import java.util.Comparator;
import java.util.function.Function;

import org.mergelab.merge.CounterRandom;

/**
 * Straightforward float64 implementations of the interpolation methods, written from the spec
 * (shared/reference/mergekit-semantics.md and the DeLERP article), independent of the production code.
 * The interpolation methods treat the whole tensor as one vector. The task-vector methods (generalized task
 * arithmetic, model stock, sce) sort where production selects by histogram, and draw the random masks from the same
 * {@link CounterRandom} keys. Public so the merge-method unit tests use the same references.
 */
public final class Float64Reference {
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

    // ---------------------------------------------------------------- task-vector methods

    /**
     * One generalized task-arithmetic method: its sparsifier ({@code none}, {@code magnitude}, {@code random},
     * {@code magnitude_outliers}, {@code della}), sign consensus ({@code null}, {@code sum}, {@code count}),
     * {@code normalize}, {@code lambda} and rescale ({@code none}, {@code l1}, {@code inverse_density}).
     */
    public record Gta(String sparsifier, String consensus, boolean normalize, double lambda, String rescale) {}

    /**
     * Indices sorted by descending magnitude, the lower index first among equal magnitudes (MergeLab's order).
     */
    public static Integer[] byMagnitudeDescending(double[] tau) {
        Integer[] idx = new Integer[tau.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> -Math.abs(tau[i])).thenComparingInt(i -> i));
        return idx;
    }

    /** The elements of descending-magnitude rank {@code [from, to)}. */
    public static boolean[] rankRange(double[] tau, long from, long to) {
        Integer[] order = byMagnitudeDescending(tau);
        boolean[] keep = new boolean[tau.length];
        for (long r = Math.max(0, from); r < Math.min(to, tau.length); r++) {
            keep[order[(int) r]] = true;
        }
        return keep;
    }

    /** TIES trim: the floor(density·N) largest magnitudes. */
    public static boolean[] magnitudeMask(double[] tau, double density) {
        return rankRange(tau, 0, (long) Math.floor(density * tau.length));
    }

    /** Breadcrumbs: ascending positions [n_bot, N − n_top), written the way mergekit's docs describe it. */
    public static boolean[] breadcrumbsMask(double[] tau, double density, double gamma) {
        int n = tau.length;
        long target = (long) Math.floor(density * n);
        long top = (long) Math.floor(gamma * n);
        long bottom = n - target - top;
        if (bottom < 0) {
            top += bottom;
            bottom = 0;
        }
        Integer[] desc = byMagnitudeDescending(tau);
        boolean[] keep = new boolean[n];
        for (long pos = bottom; pos < n - top; pos++) { // ascending position p is descending rank n − 1 − p
            keep[desc[(int) (n - 1 - pos)]] = true;
        }
        return keep;
    }

    /** DARE: element i survives when its counter-based uniform draw is below density. */
    public static boolean[] bernoulliMask(long key, int n, double density) {
        boolean[] keep = new boolean[n];
        for (int i = 0; i < n; i++) {
            keep[i] = CounterRandom.uniform(key, i) < density;
        }
        return keep;
    }

    /**
     * DELLA keep probabilities: per row (the last dimension) rank r = 1..n by ascending magnitude (among equal
     * magnitudes the lower index ranks higher), p = (density − ε) + 2ε(r−1)/(n−1), or density when n = 1.
     */
    public static double[] dellaProbabilities(double[] tau, int rowLength, double density, double eps) {
        double[] p = new double[tau.length];
        for (int start = 0; start < tau.length; start += rowLength) {
            int s0 = start;
            Integer[] idx = new Integer[rowLength];
            for (int i = 0; i < rowLength; i++) {
                idx[i] = s0 + i;
            }
            Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> Math.abs(tau[i]))
                    .thenComparing(Comparator.<Integer>reverseOrder()));
            for (int r = 0; r < rowLength; r++) {
                p[idx[r]] = rowLength == 1 ? density : (density - eps) + 2 * eps * r / (rowLength - 1);
            }
        }
        return p;
    }

    /** The sparsified, rescaled task vector of input {@code input}. */
    public static double[] sparsify(Gta g, double[] tau, double density, double extra, long seed, String tensor,
            int input, long[] shape) {
        int n = tau.length;
        if (g.sparsifier().equals("none") || density >= 1) {
            return tau.clone();
        }
        if (g.sparsifier().equals("della") && density <= 0) {
            return new double[n];
        }
        long key = CounterRandom.key(seed, tensor, input);
        boolean[] keep;
        double[] inverse = new double[n];
        Arrays.fill(inverse, 1 / density);
        switch (g.sparsifier()) {
            case "magnitude" -> keep = magnitudeMask(tau, density);
            case "magnitude_outliers" -> keep = breadcrumbsMask(tau, density, extra);
            case "random" -> keep = bernoulliMask(key, n, density);
            case "della" -> {
                int row = shape.length >= 2 ? (int) shape[shape.length - 1] : n;
                double[] p = dellaProbabilities(tau, row, density, extra);
                keep = new boolean[n];
                for (int i = 0; i < n; i++) {
                    keep[i] = CounterRandom.uniform(key, i) < p[i];
                    inverse[i] = 1 / p[i];
                }
            }
            default -> throw new IllegalArgumentException(g.sparsifier());
        }
        double[] out = new double[n];
        double before = 0;
        double after = 0;
        for (int i = 0; i < n; i++) {
            out[i] = keep[i] ? tau[i] : 0;
            before += Math.abs(tau[i]);
            after += Math.abs(out[i]);
        }
        double l1 = before < 1e-7 || after < 1e-7 ? 1 : before / after;
        for (int i = 0; i < n; i++) {
            out[i] *= switch (g.rescale()) {
                case "none" -> 1;
                case "l1" -> l1;
                case "inverse_density" -> inverse[i];
                default -> throw new IllegalArgumentException(g.rescale());
            };
        }
        return out;
    }

    /**
     * Generalized task arithmetic (§1.6) over inputs {@code x} (base at {@code base}); {@code weight},
     * {@code density} and {@code extra} (gamma or epsilon) are indexed by input (the base's entries unused).
     */
    public static double[] gta(Gta g, double[][] x, int base, double[] weight, double[] density, double[] extra,
            long seed, String tensor, long[] shape) {
        int n = x[base].length;
        double[][] d = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            if (i != base) {
                d[i] = scale(weight[i], sparsify(g, sub(x[i], x[base]), density[i], extra[i], seed, tensor, i, shape));
            }
        }
        double[] out = new double[n];
        double wsum = 0;
        for (int i = 0; i < x.length; i++) {
            wsum += i == base ? 0 : weight[i];
        }
        for (int j = 0; j < n; j++) {
            double mixed = 0;
            double divisor;
            if (g.consensus() == null) {
                for (int i = 0; i < x.length; i++) {
                    mixed += i == base ? 0 : d[i][j];
                }
                divisor = Math.abs(wsum) < 1e-8 ? 1 : wsum;
            } else {
                double vote = 0;
                for (int i = 0; i < x.length; i++) {
                    if (i != base) {
                        vote += g.consensus().equals("sum") ? d[i][j] : Math.signum(d[i][j]);
                    }
                }
                double sign = vote >= 0 ? 1 : -1;
                divisor = 0;
                for (int i = 0; i < x.length; i++) {
                    if (i != base && Math.signum(d[i][j]) == sign) {
                        mixed += d[i][j];
                        divisor += weight[i];
                    }
                }
                divisor = divisor == 0 ? 1 : divisor;
            }
            if (g.normalize()) {
                mixed /= divisor;
            }
            out[j] = x[base][j] + g.lambda() * mixed;
        }
        return out;
    }

    /** Model Stock (§1.10): whole tensor, or each row with {@code filterWise}. */
    public static double[] modelStock(double[][] x, int base, boolean filterWise, long[] shape) {
        int n = x[base].length;
        int row = filterWise ? (shape.length >= 2 ? (int) shape[shape.length - 1] : n) : n;
        double[] out = new double[n];
        int models = x.length - 1;
        for (int start = 0; start < n; start += row) {
            double[][] delta = new double[x.length][];
            for (int i = 0; i < x.length; i++) {
                delta[i] = new double[row];
                for (int j = 0; j < row; j++) {
                    delta[i][j] = x[i][start + j] - x[base][start + j];
                }
            }
            double cos = 0;
            int pairs = 0;
            for (int a = 0; a < x.length; a++) {
                for (int b = a + 1; b < x.length; b++) {
                    if (a == base || b == base) {
                        continue;
                    }
                    double c = dot(delta[a], delta[b]) / Math.max(norm(delta[a]) * norm(delta[b]), 1e-6);
                    cos += Math.max(-1, Math.min(1, c));
                    pairs++;
                }
            }
            cos /= pairs;
            double t = models * cos / (1 + (models - 1) * cos);
            for (int j = 0; j < row; j++) {
                double mean = 0;
                for (int i = 0; i < x.length; i++) {
                    mean += i == base ? 0 : x[i][start + j] / models;
                }
                out[start + j] = t * mean + (1 - t) * x[base][start + j];
            }
        }
        return out;
    }

    /** SCE (§1.8). */
    public static double[] sce(double[][] x, int base, double selectTopk) {
        int n = x[base].length;
        int k = x.length - 1;
        double[][] tau = new double[k][];
        for (int i = 0, m = 0; i < x.length; i++) {
            if (i != base) {
                tau[m++] = sub(x[i], x[base]);
            }
        }
        if (selectTopk <= 0) {
            return x[base].clone();
        }
        if (selectTopk < 1) {
            double[] var = new double[n];
            int nonzero = 0;
            for (int j = 0; j < n; j++) {
                double mean = 0;
                for (double[] t : tau) {
                    mean += t[j] / k;
                }
                for (double[] t : tau) {
                    var[j] += (t[j] - mean) * (t[j] - mean) / k;
                }
                var[j] = (float) var[j]; // the variance is ranked in float32, like mergekit
                nonzero += var[j] != 0 ? 1 : 0;
            }
            boolean[] keep = rankRange(var, 0, (long) Math.floor(nonzero * selectTopk));
            for (double[] t : tau) {
                for (int j = 0; j < n; j++) {
                    t[j] = keep[j] ? t[j] : 0;
                }
            }
        }
        double[] c = new double[k];
        double total = 0;
        for (int m = 0; m < k; m++) {
            c[m] = dot(tau[m], tau[m]) / n;
            total += c[m];
        }
        for (int m = 0; m < k; m++) {
            c[m] = Math.abs(total) < 1e-6 ? 1.0 / k : c[m] / total;
        }
        double[] out = new double[n];
        for (int j = 0; j < n; j++) {
            double vote = 0;
            for (double[] t : tau) {
                vote += t[j];
            }
            double sign = vote >= 0 ? 1 : -1;
            double mixed = 0;
            double divisor = 0;
            for (int m = 0; m < k; m++) {
                if (Math.signum(tau[m][j]) == sign) {
                    mixed += c[m] * tau[m][j];
                    divisor += c[m];
                }
            }
            out[j] = x[base][j] + mixed / Math.max(divisor, 1e-6);
        }
        return out;
    }
}
