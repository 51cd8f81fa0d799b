package org.mergelab.report;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A score with its standard error (null when unknown) and the item counts behind it (one per task for a composite).
 * Confidence intervals use the normal approximation, as lm-eval's stderr-based intervals do.
 */
public record Estimate(double value, Double stderr, List<Integer> ns) {
    /** The two-sided 95% normal quantile. */
    public static final double Z95 = 1.959963984540054;

    /** Half-width of the 95% confidence interval, or null without a standard error. */
    public Double ci95() {
        return stderr == null ? null : Z95 * stderr;
    }

    /** "200", or "200+150" for a composite of two tasks. */
    public String nText() {
        return ns.stream().map(String::valueOf).collect(Collectors.joining("+"));
    }

    /**
     * The mean of independent estimates (different tasks' items): se = √(Σ seᵢ²) / k, null if any is unknown.
     */
    public static Estimate mean(List<Estimate> parts) {
        double sum = 0;
        double var = 0;
        boolean known = true;
        List<Integer> ns = new java.util.ArrayList<>();
        for (Estimate e : parts) {
            sum += e.value;
            if (e.stderr == null) {
                known = false;
            } else {
                var += e.stderr * e.stderr;
            }
            ns.addAll(e.ns);
        }
        int k = parts.size();
        return new Estimate(sum / k, known ? Math.sqrt(var) / k : null, List.copyOf(ns));
    }
}
