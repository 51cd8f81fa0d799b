package org.mergelab.merge;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;

/**
 * Counts the NaN and infinite values of one tensor's merge: in each input chunk as the output pass decoded it, and in
 * each merged chunk as it will be written. Decoding and encoding report each chunk's largest magnitude as they convert
 * it ({@link FloatCodec#decode}), so a clean chunk costs one comparison here and only a chunk holding something is
 * counted element by element; counts are sums, so they do not depend on the thread count or the chunking. Thread-safe.
 */
final class NonFiniteCounter {

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

    /** @param largest each input chunk's largest magnitude bits, as {@link TensorSource#read} returned them */
    void countInputs(float[][] in, int[] largest, int n) {
        for (int i = 0; i < inputs; i++) {
            add(i, count(in[i], largest[i], n, Float.POSITIVE_INFINITY));
        }
    }

    /** Whether any input chunk with these largest magnitude bits holds a NaN or an infinity. */
    static boolean anyInputNonFinite(int[] largest, int inputs) {
        int inf = Float.floatToRawIntBits(Float.POSITIVE_INFINITY);
        for (int i = 0; i < inputs; i++) {
            if (largest[i] >= inf) {
                return true;
            }
        }
        return false;
    }

    /** @param largest the output chunk's largest magnitude bits, as {@link TensorSink#write} returned them */
    void countOutput(float[] out, int largest, int n) {
        add(inputs, count(out, largest, n, outputOverflow));
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
     * infinite; {@code largest} is the chunk's largest magnitude bits, so a chunk below {@code overflow} is not read.
     */
    static NonFinite count(float[] x, int largest, int n, float overflow) {
        if (largest < Float.floatToRawIntBits(overflow)) {
            return NonFinite.NONE;
        }
        long nan = 0;
        long inf = 0;
        for (int i = 0; i < n; i++) {
            nan += Float.isNaN(x[i]) ? 1 : 0;
            inf += Math.abs(x[i]) >= overflow ? 1 : 0;
        }
        return new NonFinite(nan, inf);
    }
}
