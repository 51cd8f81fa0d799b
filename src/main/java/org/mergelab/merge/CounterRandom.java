package org.mergelab.merge;

import java.nio.charset.StandardCharsets;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Counter-based randomness for random merge methods (DARE, DELLA): a draw is a pure function of
 * (seed, tensor name, model index, element index), so output bytes are the same for any thread count, chunk size or
 * processing order. The mixer is SplitMix64's finaliser, applied twice over the combined key.
 */
public final class CounterRandom {
    private CounterRandom() {}

    /** The stream key of one model's task vector in one tensor; compute once per tensor and model. */
    public static long key(long seed, String tensorName, int model) {
        long h = 0xcbf29ce484222325L; // FNV-1a over the name's UTF-8 bytes
        for (byte b : tensorName.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix(mix(seed ^ 0x9E3779B97F4A7C15L) ^ h) + model * 0xD1B54A32D192ED03L;
    }

    /** Uniform in [0, 1) for element {@code element} of the stream {@code key}. */
    public static double uniform(long key, long element) {
        return (mix(key + element * 0x9E3779B97F4A7C15L) >>> 11) * 0x1.0p-53;
    }

    /**
     * The 53-bit integer behind {@link #uniform}{@code (key, element)} ({@code uniform = draw·2⁻⁵³}): kernels compare
     * it with {@code ⌈p·2⁵³⌉}, exactly as {@code uniform < p}.
     */
    public static long draw(long key, long element) {
        return mix(key + element * GOLDEN) >>> 11;
    }

    /**
     * Bernoulli keep/drop of a run of elements: zeroes {@code values[j]} unless
     * {@code uniform(key, first + j) < p}, for {@code j < n}. The same draws as {@link #uniform}, compared exactly
     * (as integers: {@code m·2⁻⁵³ < p ⇔ m < ⌈p·2⁵³⌉}), on Vector API lanes where available.
     */
    public static void retain(long key, long first, float[] values, int n, double p) {
        long limit = (long) Math.ceil(p * 0x1p53); // p ≥ 1 keeps all (m < 2^53), p ≤ 0 none
        long bounded = Math.clamp(limit, 0, 1L << 53); // the same decisions, and the lanes' difference cannot overflow
        int j = 0;
        if (VECTOR) {
            LongVector lane = LongVector.zero(L).addIndex(1);
            for (int upper = L.loopBound(n); j < upper; j += L.length()) {
                LongVector z = mixLanes(lane.add(first + j).mul(GOLDEN).add(key));
                // −1 where kept, narrowed to the floats' int lanes
                IntVector keep = (IntVector) keptLanes(z, bounded).convertShape(VectorOperators.L2I, FI, 0);
                FloatVector.fromArray(F, values, j).reinterpretAsInts().and(keep).reinterpretAsFloats()
                        .intoArray(values, j);
            }
        }
        for (; j < n; j++) {
            if (!(draw(key, first + j) < limit)) {
                values[j] = 0f;
            }
        }
    }

    /**
     * As {@link #retain(long, long, float[], int, double)} with a probability per element: zeroes
     * {@code values[from + j]} unless {@code uniform(key, first + j) < p[from + j]}, for {@code j < n}.
     */
    public static void retain(long key, long first, float[] values, double[] p, int from, int n) {
        int j = 0;
        if (VECTOR) {
            LongVector lane = LongVector.zero(L).addIndex(1);
            for (int upper = L.loopBound(n); j < upper; j += L.length()) {
                LongVector z = mixLanes(lane.add(first + j).mul(GOLDEN).add(key));
                // m < 2^53 converts exactly, and m·2^-53 is exact: the same double uniform() returns
                DoubleVector u = ((DoubleVector) z.lanewise(VectorOperators.LSHR, 11).convertShape(VectorOperators.L2D,
                        DL, 0)).mul(0x1.0p-53);
                VectorMask<Double> keep = u.compare(VectorOperators.LT, DoubleVector.fromArray(DL, p, from + j));
                // −0.0 where kept, whose sign bit spread over the lane is −1, narrowed to the floats' int lanes
                IntVector bits = (IntVector) DoubleVector.zero(DL).blend(-0.0, keep).reinterpretAsLongs()
                        .lanewise(VectorOperators.ASHR, 63).convertShape(VectorOperators.L2I, FI, 0);
                FloatVector.fromArray(F, values, from + j).reinterpretAsInts().and(bits).reinterpretAsFloats()
                        .intoArray(values, from + j);
            }
        }
        for (; j < n; j++) {
            if (!(uniform(key, first + j) < p[from + j])) {
                values[from + j] = 0f;
            }
        }
    }

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    /**
     * −1 in the lanes whose draw ({@code z >>> 11}, below 2<sup>53</sup>) is below {@code limit} (at most
     * 2<sup>53</sup>), else 0: the sign of their difference, which cannot overflow. Kernels (here and the methods')
     * use it as a bit mask instead of a {@code VectorMask} cast to another element type, which C2 sometimes compiled
     * into its Java fallback, an array allocated per mask (a 4 GB DARE-TIES merge: 33 s instead of 9.5, 103 GB of
     * garbage, 1.7 GB RSS, in 1 of 6 benchmark runs).
     */
    public static LongVector keptLanes(LongVector z, long limit) {
        return z.lanewise(VectorOperators.LSHR, 11).sub(limit).lanewise(VectorOperators.ASHR, 63);
    }

    /** {@link #mix} on every lane. */
    private static LongVector mixLanes(LongVector z) {
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xBF58476D1CE4E5B9L);
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(0x94D049BB133111EBL);
        return z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
    }
    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    /** Doubles with as many lanes as {@link #L}. */
    private static final VectorSpecies<Double> DL = VectorSpecies.of(double.class, L.vectorShape());
    /** Floats with as many lanes as {@link #L}. */
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class,
            VectorShape.forBitSize(Math.max(64, L.vectorBitSize() / 2)));
    /** The floats' bits. */
    private static final VectorSpecies<Integer> FI = F.withLanes(int.class);
    private static final boolean VECTOR = org.mergelab.io.FloatCodec.VECTOR && F.length() == L.length();

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
