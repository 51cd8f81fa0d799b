package org.mergelab.eval;

/**
 * Standard errors as lm-eval computes them, in closed form:
 * <ul>
 * <li>a mean of per-item scores: sample standard deviation (n − 1) / √n;</li>
 * <li>a corpus-weighted ratio r = Σy / Σx (perplexities, bits per byte), by the delta method for ratio estimators:
 * se(r) = √(Σ(yᵢ − r·xᵢ)² / (n(n − 1))) / x̄, and se(exp r) = exp(r)·se(r). lm-eval bootstraps these instead; for the
 * n of a task the two agree to the first digit or two, and this one is deterministic.</li>
 * </ul>
 * Null when n &lt; 2.
 */
final class Stats {
    private Stats() {}

    static double mean(double[] xs) {
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return s / xs.length;
    }

    static Double meanStderr(double[] xs) {
        int n = xs.length;
        if (n < 2) {
            return null;
        }
        double m = mean(xs);
        double ss = 0;
        for (double x : xs) {
            ss += (x - m) * (x - m);
        }
        return Math.sqrt(ss / (n - 1) / n);
    }

    static double ratio(double[] y, double[] x) {
        double sy = 0;
        double sx = 0;
        for (int i = 0; i < y.length; i++) {
            sy += y[i];
            sx += x[i];
        }
        return sy / sx;
    }

    static Double ratioStderr(double[] y, double[] x) {
        int n = y.length;
        if (n < 2) {
            return null;
        }
        double r = ratio(y, x);
        double ss = 0;
        double sx = 0;
        for (int i = 0; i < n; i++) {
            double d = y[i] - r * x[i];
            ss += d * d;
            sx += x[i];
        }
        return Math.sqrt(ss / ((double) n * (n - 1))) / (sx / n);
    }
}
