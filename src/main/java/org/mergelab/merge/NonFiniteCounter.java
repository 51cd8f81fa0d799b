package org.mergelab.merge;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

import org.mergelab.io.DType;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Counts the NaN and infinite values of one tensor's merge: in each input chunk as the output pass decoded it, and in
 * each merged chunk as it will be written. The chunks are already in cache, so no data is read twice; counts are sums,
 * so they do not depend on the thread count or the chunking. Thread-safe.
 */
final class NonFiniteCounter {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final boolean VECTOR = org.mergelab.io.FloatCodec.VECTOR;

    private final int inputs;
    private final float outputOverflow;
    // per input, then the output at index `inputs`
    private final AtomicLongArray nan;
    private final AtomicLongArray inf;

    /** @param output the dtype the merged tensor is written in */
    NonFiniteCounter(int inputs, DType output) {
        this.inputs = inputs;
        this.outputOverflow = overflowAt(output);
        this.nan = new AtomicLongArray(inputs + 1);
        this.inf = new AtomicLongArray(inputs + 1);
    }

    /**
     * The smallest float32 magnitude that becomes infinite when written as {@code type} (round to nearest, ties to
     * even: the halfway point above the largest finite value rounds up, its last mantissa bit being odd).
     */
    static float overflowAt(DType type) {
        return switch (type) {
            case BF16 -> Float.intBitsToFloat(0x7F7F8000); // halfway between 0x7F7F (3.3895e38) and Inf
            case F16 -> 65520f; // halfway between 65504 and 65536
            default -> Float.POSITIVE_INFINITY;
        };
    }

    void countInputs(float[][] in, int n) {
        for (int i = 0; i < inputs; i++) {
            add(i, count(in[i], n, Float.POSITIVE_INFINITY));
        }
    }

    void countOutput(float[] out, int n) {
        add(inputs, count(out, n, outputOverflow));
    }

    private void add(int slot, NonFinite c) {
        if (c.any()) {
            nan.addAndGet(slot, c.nan());
            inf.addAndGet(slot, c.inf());
        }
    }

    List<NonFinite> inputs() {
        List<NonFinite> list = new ArrayList<>(inputs);
        for (int i = 0; i < inputs; i++) {
            list.add(slot(i));
        }
        return list;
    }

    NonFinite output() {
        return slot(inputs);
    }

    private NonFinite slot(int i) {
        long a = nan.get(i);
        long b = inf.get(i);
        return a == 0 && b == 0 ? NonFinite.NONE : new NonFinite(a, b);
    }

    /**
     * NaN and "infinite" values among {@code x[0..n)}, where any magnitude of at least {@code overflow} counts as
     * infinite. One vector pass counts both together; only a chunk that has some is scanned again to tell them apart.
     */
    static NonFinite count(float[] x, int n, float overflow) {
        long bad = VECTOR ? notBelowVector(x, n, overflow) : notBelowScalar(x, 0, n, overflow);
        if (bad == 0) {
            return NonFinite.NONE;
        }
        long nan = 0;
        for (int i = 0; i < n; i++) {
            nan += Float.isNaN(x[i]) ? 1 : 0;
        }
        return new NonFinite(nan, bad - nan);
    }

    /** How many of {@code x[0..n)} are not below {@code limit} in magnitude (NaN never is). */
    static long notBelowVector(float[] x, int n, float limit) {
        long bad = 0;
        int i = 0;
        for (int upper = n - F.length() + 1; i < upper; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            bad += F.length() - v.abs().compare(VectorOperators.LT, limit).trueCount();
        }
        return bad + notBelowScalar(x, i, n, limit);
    }

    static long notBelowScalar(float[] x, int from, int to, float limit) {
        long bad = 0;
        for (int i = from; i < to; i++) {
            bad += Math.abs(x[i]) < limit ? 0 : 1;
        }
        return bad;
    }

    private static volatile boolean warm;

    /** Gets the vector count compiled before a large merge needs it (see {@link org.mergelab.io.FloatCodec#warmUp()}). */
    static void warmUp() {
        if (warm || !VECTOR) {
            return;
        }
        warm = true;
        float[] x = new float[256];
        long bad = 0;
        for (int rep = 0; rep < 12_000; rep++) {
            bad += notBelowVector(x, x.length, Float.POSITIVE_INFINITY);
        }
        if (bad != 0) {
            throw new AssertionError();
        }
    }
}
