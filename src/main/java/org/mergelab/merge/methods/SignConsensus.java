package org.mergelab.merge.methods;

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
     * Float64 throughout: Vector API lanes (once they are compiled, see {@link TaskVectorKernels}), then a scalar tail
     * doing the same operations in the same order, so the bits depend neither on where a chunk ends nor on which code
     * ran.
     */
    void mix(float[][] tau, double[][] factors, int k, double[] a, double[] g, double[] h, Divide divide,
            double lambda, float[] b, float[] out, int n) {
        mix(tau, factors, k, a, g, h, divide, lambda, b, out, 0, n);
    }

    /** {@link #mix} over elements {@code [from, to)} of the arrays. */
    void mix(float[][] tau, double[][] factors, int k, double[] a, double[] g, double[] h, Divide divide,
            double lambda, float[] b, float[] out, int from, int to) {
        boolean two = k == 2 && factors[0] == null && factors[1] == null;
        TaskVectorKernels.Lanes l = two ? TaskVectorKernels.Lanes.MIX_TWO : TaskVectorKernels.Lanes.MIX;
        int j = from;
        while (VECTOR && j < to) {
            boolean warm = l.warm();
            if (!warm && !l.probe(to - j)) {
                break;
            }
            int end = warm ? j + D.loopBound(to - j) : j + TaskVectorKernels.PROBE;
            long t0 = warm ? 0 : System.nanoTime();
            if (two) {
                mixTwoLanes(tau[0], tau[1], a[0], a[1], g[0], g[1], h[0], h[1], divide, lambda, b, out, j, end);
            } else {
                mixLanes(tau, factors, k, a, g, h, divide, lambda, b, out, j, end);
            }
            if (warm) {
                j = end;
                break;
            }
            l.probed(System.nanoTime() - t0, TaskVectorKernels.PROBE);
            int blockEnd = Math.min(to, j + TaskVectorKernels.BLOCK);
            scalar(two, tau, factors, k, a, g, h, divide, lambda, b, out, end, blockEnd);
            j = blockEnd;
        }
        scalar(two, tau, factors, k, a, g, h, divide, lambda, b, out, j, to);
    }

    private void scalar(boolean two, float[][] tau, double[][] factors, int k, double[] a, double[] g, double[] h,
            Divide divide, double lambda, float[] b, float[] out, int from, int to) {
        if (two) {
            mixTwoScalar(tau[0], tau[1], a[0], a[1], g[0], g[1], h[0], h[1], divide, lambda, b, out, from, to);
        } else {
            mixScalar(tau, factors, k, a, g, h, divide, lambda, b, out, from, to);
        }
    }

    /** {@link #mixScalar} for two task vectors without per-element factors: the same operations, unrolled. */
    void mixTwoScalar(float[] tau0, float[] tau1, double a0, double a1, double g0, double g1, double h0, double h1,
            Divide divide, double lambda, float[] b, float[] out, int from, int to) {
        boolean sum = this == SUM;
        for (int j = from; j < to; j++) {
            double v0 = tau0[j] * a0;
            double v1 = tau1[j] * a1;
            long b0 = Double.doubleToRawLongBits(v0);
            long b1 = Double.doubleToRawLongBits(v1);
            long neg = sum ? negative(Double.doubleToRawLongBits(0 + v0 + v1)) : (signum(b0) + signum(b1)) >>> 63;
            long agree0 = nonzeroNumber(b0) & ~((b0 >>> 63) ^ neg);
            long agree1 = nonzeroNumber(b1) & ~((b1 >>> 63) ^ neg);
            double mixed = 0 + Double.longBitsToDouble(Double.doubleToRawLongBits(v0 * g0) & -agree0)
                    + Double.longBitsToDouble(Double.doubleToRawLongBits(v1 * g1) & -agree1);
            double divisor = 0 + Double.longBitsToDouble(Double.doubleToRawLongBits(h0) & -agree0)
                    + Double.longBitsToDouble(Double.doubleToRawLongBits(h1) & -agree1);
            double result = switch (divide) {
                case NO -> mixed * lambda;
                case ZERO_AS_ONE -> mixed / oneIfZero(divisor) * lambda;
                case AT_LEAST_1E6 -> mixed / Math.max(divisor, 1e-6) * lambda;
            };
            out[j] = (float) (b[j] + result);
        }
    }

    /** {@link #mix} on Vector API lanes, for {@code to − from} a multiple of the lane count. */
    void mixLanes(float[][] tau, double[][] factors, int k, double[] a, double[] g, double[] h, Divide divide,
            double lambda, float[] b, float[] out, int from, int to) {
        DoubleVector zero = DoubleVector.zero(D);
        DoubleVector one = DoubleVector.broadcast(D, 1);
        for (int j = from; j < to; j += D.length()) {
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

    /**
     * {@link #mixLanes} for two task vectors without per-element factors (the common merge): the same results, each
     * contribution computed once, and without operations that cannot change a bit: products by a {@code g} or
     * {@code λ} of 1, the vote's leading {@code 0 +} (it only turns a −0 sum into +0, and neither is below 0), and the
     * division when every divisor it can meet is a power of two (equal divisor weights such as 0.5 or 1:
     * {@code x / 2^e} and {@code x · 2^−e} round the same exact value), which becomes a product by the reciprocal.
     */
    void mixTwoLanes(float[] tau0, float[] tau1, double a0, double a1, double g0, double g1, double h0,
            double h1, Divide divide, double lambda, float[] b, float[] out, int from, int to) {
        DoubleVector zero = DoubleVector.zero(D);
        DoubleVector one = DoubleVector.broadcast(D, 1);
        boolean unitG = g0 == 1 && g1 == 1;
        // equal powers of two (distinct ones never sum to one): one agreeing divides by h, both by 2h
        boolean reciprocal = divide == Divide.ZERO_AS_ONE && h0 == h1 && positivePowerOfTwo(h0)
                && positivePowerOfTwo(0 + h0 + h1);
        DoubleVector oneAgrees = DoubleVector.broadcast(D, 1 / h0);
        double bothAgree = 1 / (0 + h0 + h1);
        for (int j = from; j < to; j += D.length()) {
            DoubleVector v0 = contribution(tau0, null, a0, j);
            DoubleVector v1 = contribution(tau1, null, a1, j);
            DoubleVector vote = this == SUM ? v0.add(v1)
                    : zero.add(1, v0.compare(VectorOperators.GT, 0)).sub(1, v0.compare(VectorOperators.LT, 0))
                            .add(1, v1.compare(VectorOperators.GT, 0)).sub(1, v1.compare(VectorOperators.LT, 0));
            DoubleVector sign = one.blend(-1, vote.compare(VectorOperators.LT, 0)); // a zero vote elects +
            VectorMask<Double> agrees0 = v0.mul(sign).compare(VectorOperators.GT, 0); // zero never agrees
            VectorMask<Double> agrees1 = v1.mul(sign).compare(VectorOperators.GT, 0);
            DoubleVector mixed = unitG ? zero.add(v0, agrees0).add(v1, agrees1)
                    : zero.add(v0.mul(g0), agrees0).add(v1.mul(g1), agrees1);
            DoubleVector result;
            if (reciprocal) {
                // none agreeing leaves mixed +0, which the positive reciprocal keeps +0
                result = mixed.mul(oneAgrees.blend(bothAgree, agrees0.and(agrees1)));
            } else {
                DoubleVector divisor = zero.add(h0, agrees0).add(h1, agrees1);
                result = switch (divide) {
                    case NO -> mixed;
                    case ZERO_AS_ONE -> mixed.div(divisor.blend(1, divisor.compare(VectorOperators.EQ, 0)));
                    case AT_LEAST_1E6 -> mixed.div(divisor.max(1e-6));
                };
            }
            if (lambda != 1) {
                result = result.mul(lambda);
            }
            DoubleVector base = (DoubleVector) FloatVector.fromArray(F, b, j).convertShape(VectorOperators.F2D,
                    D, 0);
            ((FloatVector) base.add(result).convertShape(VectorOperators.D2F, F, 0)).intoArray(out, j);
        }
    }

    /** Whether {@code d} is 2^e with {@code 1/d} a normal double too (then dividing by it is multiplying by that). */
    static boolean positivePowerOfTwo(double d) {
        int e = Math.getExponent(d);
        return e > Double.MIN_EXPONENT && e < Double.MAX_EXPONENT && d == Math.scalb(1.0, e);
    }

    /**
     * {@link #mix} for elements {@code [from, n)} in scalar code: the same operations in the same order, without a
     * branch on the data (votes and agreement are random: branches on them mispredicted so often that this loop ran
     * at ~30 ns per element). A left-out contribution adds {@code +0} instead of being skipped, which is the same:
     * the sums start at {@code +0} and so are never {@code −0}, the one value {@code +0} would change.
     */
    void mixScalar(float[][] tau, double[][] factors, int k, double[] a, double[] g, double[] h, Divide divide,
            double lambda, float[] b, float[] out, int from, int n) {
        boolean sum = this == SUM;
        for (int j = from; j < n; j++) {
            double vote = 0;
            long count = 0;
            for (int m = 0; m < k; m++) {
                double v = contributionAt(tau[m], factors[m], a[m], j);
                vote += v;
                long bits = Double.doubleToRawLongBits(v);
                count += signum(bits);
            }
            // the vote elects − when it is < 0 (not NaN); COUNT's vote is the count of signs, an exact integer
            long neg = sum ? negative(Double.doubleToRawLongBits(vote)) : count >>> 63;
            double mixed = 0;
            double divisor = 0;
            for (int m = 0; m < k; m++) {
                double v = contributionAt(tau[m], factors[m], a[m], j);
                long bits = Double.doubleToRawLongBits(v);
                // agrees: not zero, not NaN, and its sign is the elected one (v·sign > 0)
                long agree = nonzeroNumber(bits) & ~((bits >>> 63) ^ neg);
                mixed += Double.longBitsToDouble(Double.doubleToRawLongBits(v * g[m]) & -agree);
                divisor += Double.longBitsToDouble(Double.doubleToRawLongBits(h[m]) & -agree);
            }
            double result = switch (divide) {
                case NO -> mixed * lambda;
                case ZERO_AS_ONE -> mixed / oneIfZero(divisor) * lambda;
                case AT_LEAST_1E6 -> mixed / Math.max(divisor, 1e-6) * lambda;
            };
            out[j] = (float) (b[j] + result);
        }
    }

    private static final long MAGNITUDE = 0x7fffffffffffffffL;
    private static final long INFINITY = 0x7ff0000000000000L;
    private static final long ONE = Double.doubleToRawLongBits(1.0);

    /** 1 when the double with these bits is neither zero nor NaN, else 0. */
    static long nonzeroNumber(long bits) {
        long mag = bits & MAGNITUDE;
        return ((-mag) >>> 63) & ((mag - INFINITY - 1) >>> 63);
    }

    /** 1 when the double with these bits is {@code < 0}, else 0. */
    static long negative(long bits) {
        return (bits >>> 63) & nonzeroNumber(bits);
    }

    /** +1, −1 or 0: the sign of the double with these bits ({@code (v > 0) − (v < 0)}; 0 for zeros and NaN). */
    static long signum(long bits) {
        return nonzeroNumber(bits) * (1 - 2 * (bits >>> 63));
    }

    /** {@code d == 0 ? 1 : d} without a branch. */
    static double oneIfZero(double d) {
        long bits = Double.doubleToRawLongBits(d);
        long zero = ((bits & MAGNITUDE) - 1) >>> 63; // ±0
        return Double.longBitsToDouble((bits & (zero - 1)) | (ONE & -zero));
    }

    private static DoubleVector contribution(float[] tau, double[] f, double a, int j) {
        DoubleVector t = (DoubleVector) FloatVector.fromArray(F, tau, j).convertShape(VectorOperators.F2D, D, 0);
        return f == null ? t.mul(a) : DoubleVector.fromArray(D, f, j).mul(a).mul(t);
    }

    private static double contributionAt(float[] tau, double[] f, double a, int j) {
        return f == null ? tau[j] * a : (f[j] * a) * tau[j];
    }
}
