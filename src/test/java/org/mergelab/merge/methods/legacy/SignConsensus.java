package org.mergelab.merge.methods.legacy;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * TIES sign election and disjoint mixing of one element's contributions {@code D_i} (mergekit's {@code get_mask}):
 * the elected sign is {@code +} when the vote is {@code ≥ 0}; contributions whose sign differs from it, and zero
 * contributions (pruned or equal to the base), are left out of both the sum and the divisor.
 */
enum SignConsensus {
    /** Vote {@code Σ_i D_i} (mergekit's default: weighted deltas, so weights sway the vote). */
    SUM,
    /** Vote {@code Σ_i sign(D_i)} (one vote per model). */
    COUNT;

    static SignConsensus of(String name) {
        return "count".equals(name) ? COUNT : SUM;
    }

    /** How the mixed sum is divided by the summed divisor coefficients of the agreeing contributions. */
    enum Divide {
        /** Not divided ({@code normalize: false}). */
        NO,
        /** Divided, a divisor of exactly 0 taken as 1 (the TIES family). */
        ZERO_AS_ONE,
        /** Divided by {@code max(divisor, 1e-6)} (sce). */
        AT_LEAST_1E6
    }

    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats with as many lanes as {@link #D}, widened to it by {@code F2D}. */
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class,
            VectorShape.forBitSize(Math.max(64, D.vectorBitSize() / 2)));
    private static final boolean VECTOR = org.mergelab.io.FloatCodec.VECTOR && F.length() == D.length();

    /**
     * Mixes one chunk: per element, contributions {@code V_m = a_m·f_m·τ_m} ({@code f_m} per-element factors, 1
     * where {@code factors[m]} is null) elect a sign; of the agreeing (non-zero, same-sign) ones,
     * {@code M = Σ g_m·V_m} and {@code S = Σ h_m}; the output is {@code b + λ·M/S} ({@code divide} says how).
     * Float64 throughout, without branches on the (random) votes: Vector API lanes, then a scalar tail doing the
     * same operations in the same order (so the bits do not depend on where a chunk ends).
     */
    void mix(float[][] tau, double[][] factors, int k, double[] a, double[] g, double[] h, Divide divide,
            double lambda, float[] b, float[] out, int n) {
        int j = 0;
        if (VECTOR) {
            DoubleVector zero = DoubleVector.zero(D);
            DoubleVector one = DoubleVector.broadcast(D, 1);
            for (int upper = D.loopBound(n); j < upper; j += D.length()) {
                DoubleVector vote = zero;
                for (int m = 0; m < k; m++) {
                    DoubleVector v = contribution(tau[m], factors[m], a[m], j);
                    vote = this == SUM ? vote.add(v)
                            : vote.add(1, v.compare(VectorOperators.GT, 0)).sub(1, v.compare(VectorOperators.LT, 0));
                }
                DoubleVector sign = one.blend(-1, vote.compare(VectorOperators.LT, 0)); // a zero vote elects +
                DoubleVector mixed = zero;
                DoubleVector divisor = zero;
                for (int m = 0; m < k; m++) {
                    DoubleVector v = contribution(tau[m], factors[m], a[m], j);
                    VectorMask<Double> agrees = v.mul(sign).compare(VectorOperators.GT, 0); // zero never agrees
                    mixed = mixed.add(v.mul(g[m]), agrees);
                    divisor = divisor.add(h[m], agrees);
                }
                DoubleVector result = switch (divide) {
                    case NO -> mixed.mul(lambda);
                    case ZERO_AS_ONE -> mixed.div(divisor.blend(1, divisor.compare(VectorOperators.EQ, 0)))
                            .mul(lambda);
                    case AT_LEAST_1E6 -> mixed.div(divisor.max(1e-6)).mul(lambda);
                };
                DoubleVector base = (DoubleVector) FloatVector.fromArray(F, b, j).convertShape(VectorOperators.F2D,
                        D, 0);
                ((FloatVector) base.add(result).convertShape(VectorOperators.D2F, F, 0)).intoArray(out, j);
            }
        }
        for (; j < n; j++) {
            double vote = 0;
            for (int m = 0; m < k; m++) {
                double v = contributionAt(tau[m], factors[m], a[m], j);
                vote += this == SUM ? v : (v > 0 ? 1 : 0) - (v < 0 ? 1 : 0);
            }
            double sign = vote < 0 ? -1 : 1;
            double mixed = 0;
            double divisor = 0;
            for (int m = 0; m < k; m++) {
                double v = contributionAt(tau[m], factors[m], a[m], j);
                if (v * sign > 0) {
                    mixed += v * g[m];
                    divisor += h[m];
                }
            }
            double result = switch (divide) {
                case NO -> mixed * lambda;
                case ZERO_AS_ONE -> mixed / (divisor == 0 ? 1 : divisor) * lambda;
                case AT_LEAST_1E6 -> mixed / Math.max(divisor, 1e-6) * lambda;
            };
            out[j] = (float) (b[j] + result);
        }
    }

    private static DoubleVector contribution(float[] tau, double[] f, double a, int j) {
        DoubleVector t = (DoubleVector) FloatVector.fromArray(F, tau, j).convertShape(VectorOperators.F2D, D, 0);
        return f == null ? t.mul(a) : DoubleVector.fromArray(D, f, j).mul(a).mul(t);
    }

    private static double contributionAt(float[] tau, double[] f, double a, int j) {
        return f == null ? tau[j] * a : (f[j] * a) * tau[j];
    }
}
