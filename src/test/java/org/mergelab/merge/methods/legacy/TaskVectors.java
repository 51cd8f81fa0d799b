package org.mergelab.merge.methods.legacy;

import org.mergelab.merge.TensorJob;

/**
 * The task vectors of one tensor, {@code τ_m = x_m − b} for every input {@code m} other than the base, made one chunk
 * at a time in float32 (the values the sparsifiers rank and the mixing combines). Also the per-thread scratch arrays
 * the task-vector methods work in, so no method allocates chunk-sized arrays per chunk or copies a whole tensor.
 */
final class TaskVectors {
    /** Index of the base among the job's inputs. */
    final int base;
    /** {@code inputs[m]}: the job input that task vector {@code m} comes from (config order, base skipped). */
    final int[] inputs;

    TaskVectors(TensorJob job) {
        base = job.baseIndex();
        if (base < 0) {
            throw new IllegalStateException("task vectors need a base model (checkModels lets none through)");
        }
        int k = job.inputCount();
        inputs = new int[k - 1];
        for (int i = 0, m = 0; i < k; i++) {
            if (i != base) {
                inputs[m++] = i;
            }
        }
    }

    int count() {
        return inputs.length;
    }

    /** Task vector {@code m}'s chunk, computed into {@code into[0..n)}. */
    void compute(float[][] in, int m, int n, float[] into) {
        float[] x = in[inputs[m]];
        float[] b = in[base];
        for (int j = 0; j < n; j++) {
            into[j] = x[j] - b[j];
        }
    }

    /** Every task vector's chunk, in this thread's scratch (valid until the thread's next call). */
    float[][] compute(float[][] in, int n) {
        float[][] tau = floats(inputs.length, n);
        for (int m = 0; m < inputs.length; m++) {
            compute(in, m, n, tau[m]);
        }
        return tau;
    }

    /** The sort key of a magnitude: the bits of {@code |v|}, which order like the magnitudes (NaN above +inf). */
    static int magnitudeKey(float v) {
        return Float.floatToRawIntBits(v) & 0x7fffffff;
    }

    // ---------------------------------------------------------------- per-thread scratch

    private static final ThreadLocal<float[][]> FLOATS = new ThreadLocal<>();
    private static final ThreadLocal<long[]> LONGS = new ThreadLocal<>();
    private static final ThreadLocal<double[][]> DOUBLES = new ThreadLocal<>();

    /** {@code count} float arrays of at least {@code length} elements, owned by the calling thread. */
    static float[][] floats(int count, int length) {
        float[][] f = FLOATS.get();
        if (f == null || f.length < count || (count > 0 && f[0].length < length)) {
            f = new float[Math.max(count, f == null ? 0 : f.length)][Math.max(length, 1)];
            FLOATS.set(f);
        }
        return f;
    }

    /** A long array of at least {@code length} elements, owned by the calling thread. */
    static long[] longs(int length) {
        long[] l = LONGS.get();
        if (l == null || l.length < length) {
            l = new long[length];
            LONGS.set(l);
        }
        return l;
    }

    /** Double array {@code slot} of at least {@code length} elements, owned by the calling thread. */
    static double[] doubles(int slot, int length) {
        double[][] d = DOUBLES.get();
        if (d == null || d.length <= slot) {
            double[][] grown = new double[slot + 1][];
            if (d != null) {
                System.arraycopy(d, 0, grown, 0, d.length);
            }
            d = grown;
            DOUBLES.set(d);
        }
        if (d[slot] == null || d[slot].length < length) {
            d[slot] = new double[Math.max(length, 1)];
        }
        return d[slot];
    }
}
