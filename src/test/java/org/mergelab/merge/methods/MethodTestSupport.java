package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.mergelab.BadInputException;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.MergeMethod.ModelSet;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.ResolvedParams;
import org.mergelab.merge.TensorMerger;

/**
 * Shared plumbing for the merge-method tests: seeded data, float64 vector helpers, parameter maps, and a merge runner
 * that checks the chunking/threading guarantees on every call.
 */
final class MethodTestSupport {
    /** The chunk size most tests report on; small and odd so that chunks straddle rows. */
    static final int CHUNK = 7;

    /** Default relative tolerance for float32 compute (relative to the largest magnitude in play). */
    static final double RTOL = 5e-6;

    private static ExecutorService pool;

    private MethodTestSupport() {}

    static synchronized ExecutorService pool() {
        if (pool == null) {
            pool = Executors.newFixedThreadPool(4, r -> {
                Thread t = new Thread(r, "method-test-pool");
                t.setDaemon(true);
                return t;
            });
        }
        return pool;
    }

    // ---------------------------------------------------------------- data

    /** Each of {@code values} stored as bf16 in native memory, as a stored tensor's bytes. */
    static java.lang.foreign.MemorySegment[] storedBf16(float[]... values) {
        java.lang.foreign.MemorySegment[] bf16 = new java.lang.foreign.MemorySegment[values.length];
        for (int i = 0; i < values.length; i++) {
            bf16[i] = java.lang.foreign.Arena.ofAuto().allocate(2L * values[i].length, 64);
            org.mergelab.io.FloatCodec.encode(org.mergelab.io.DType.BF16, values[i], values[i].length, bf16[i]);
        }
        return bf16;
    }

    static float[] gaussian(Random r, int n) {
        return gaussian(r, n, 1.0);
    }

    static float[] gaussian(Random r, int n, double std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * std);
        }
        return x;
    }

    static int numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return Math.toIntExact(n);
    }

    /** Two orthonormal float64 directions (Gram-Schmidt on Gaussian draws). */
    static double[][] orthonormalPair(Random r, int n) {
        double[] p = d(gaussian(r, n));
        p = scale(p, 1 / norm(p));
        double[] q = d(gaussian(r, n));
        q = sub(q, scale(p, dot(p, q)));
        q = scale(q, 1 / norm(q));
        return new double[][] {p, q};
    }

    /** {@code a·(cos θ·p + sin θ·q)}: a vector at angle θ from p in the (p, q) plane. */
    static double[] atAngle(double[][] pq, double theta, double a) {
        return scale(add(scale(pq[0], Math.cos(theta)), scale(pq[1], Math.sin(theta))), a);
    }

    // ---------------------------------------------------------------- float64 vector helpers

    static double[] d(float[] x) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = x[i];
        }
        return r;
    }

    static float[] f(double[] x) {
        float[] r = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = (float) x[i];
        }
        return r;
    }

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

    static double norm(float[] a) {
        return norm(d(a));
    }

    static double[] scale(double[] a, double s) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] * s;
        }
        return r;
    }

    static double[] add(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] + b[i];
        }
        return r;
    }

    static double[] sub(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] - b[i];
        }
        return r;
    }

    /** {@code (1−t)·a + t·b}. */
    static double[] lerp(double[] a, double[] b, double t) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = (1 - t) * a[i] + t * b[i];
        }
        return r;
    }

    static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static double cosine(double[] a, double[] b) {
        return dot(a, b) / (norm(a) * norm(b));
    }

    // ---------------------------------------------------------------- parameters

    /** A mutable map from alternating keys and values. */
    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    /** The method's global defaults, overridden by {@code kv}; fails if a required global is left unset. */
    static Map<String, Object> globals(MergeMethod m, Object... kv) {
        Map<String, Object> g = new HashMap<>();
        for (ParamSpec s : m.params()) {
            if (s.scope() == ParamSpec.Scope.GLOBAL && s.defaultValue() != null) {
                g.put(s.name(), s.defaultValue());
            }
        }
        g.putAll(map(kv));
        for (ParamSpec s : m.params()) {
            if (s.scope() == ParamSpec.Scope.GLOBAL && !g.containsKey(s.name())) {
                fail("test forgot required global '" + s.name() + "' of " + m.name());
            }
        }
        return g;
    }

    /** One {@code {weight: w}} map per input; {@code NaN} stands for "no weight" (e.g. the base). */
    static List<Map<String, Object>> weights(double... w) {
        List<Map<String, Object>> l = new ArrayList<>();
        for (double x : w) {
            l.add(Double.isNaN(x) ? Map.of() : Map.of("weight", x));
        }
        return l;
    }

    static List<Map<String, Object>> empty(int n) {
        List<Map<String, Object>> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(Map.of());
        }
        return l;
    }

    static ResolvedParams params(Map<String, Object> globals, List<Map<String, Object>> perModel) {
        return new ResolvedParams(globals, perModel);
    }

    static ModelSet models(int count, int base) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            names.add("model" + i);
        }
        return new ModelSet(names, base);
    }

    static void assertBadModels(MergeMethod m, int count, int base) {
        assertThrows(BadInputException.class, () -> m.checkModels(models(count, base)),
                m.name() + " should reject " + count + " models with base index " + base);
    }

    // ---------------------------------------------------------------- running

    static float[] mergeOnce(MergeMethod m, ResolvedParams p, int base, long[] shape, List<float[]> inputs, int chunk,
            ExecutorService pool, int threads) {
        return TensorMerger.merge(m, p, base, shape, inputs, chunk, pool, threads);
    }

    /**
     * Merges with chunk {@link #CHUNK} on the calling thread and returns that result, after checking that a 4-thread
     * pool gives the same bits for the same chunk size, and that chunk sizes 1 and 65536 agree within float
     * tolerance.
     */
    static float[] merge(MergeMethod m, ResolvedParams p, int base, long[] shape, List<float[]> inputs) {
        for (float[] x : inputs) {
            assertEquals(numel(shape), x.length, "test input length vs shape");
        }
        List<float[]> copies = new ArrayList<>();
        for (float[] x : inputs) {
            copies.add(x.clone());
        }
        float[] serial = mergeOnce(m, p, base, shape, inputs, CHUNK, null, 1);
        float[] threaded = mergeOnce(m, p, base, shape, inputs, CHUNK, pool(), 4);
        assertArrayEquals(serial, threaded, m.name() + ": threaded result differs from serial for the same chunk size");
        double tol = 1e-5 * Math.max(maxAbs(serial), scaleOf(inputs));
        for (int chunk : new int[] {1, 1 << 16}) {
            float[] other = mergeOnce(m, p, base, shape, inputs, chunk, null, 1);
            assertCloseAbs(d(serial), other, tol, m.name() + ": chunk " + chunk + " vs chunk " + CHUNK);
        }
        for (int i = 0; i < inputs.size(); i++) {
            assertArrayEquals(copies.get(i), inputs.get(i), "merge must not modify input " + i);
        }
        return serial;
    }

    static double scaleOf(List<float[]> inputs) {
        double s = 0;
        for (float[] x : inputs) {
            s = Math.max(s, maxAbs(x));
        }
        return s;
    }

    // ---------------------------------------------------------------- assertions

    static void assertCloseAbs(double[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            if (!(Math.abs(e - a) <= tol)) {
                fail(what + ": element " + i + " expected " + e + " but was " + a + " (|diff| " + Math.abs(e - a)
                        + " > tol " + tol + ")");
            }
        }
    }

    /** Elementwise within {@code rtol} times the largest magnitude among expected values and inputs. */
    static void assertClose(double[] expected, float[] actual, List<float[]> inputs, double rtol, String what) {
        double tol = rtol * Math.max(maxAbs(expected), scaleOf(inputs));
        assertCloseAbs(expected, actual, tol, what);
    }

    static void assertClose(double[] expected, float[] actual, List<float[]> inputs, String what) {
        assertClose(expected, actual, inputs, RTOL, what);
    }

    static void assertZeros(float[] actual, String what) {
        for (int i = 0; i < actual.length; i++) {
            if (actual[i] != 0f) {
                fail(what + ": element " + i + " expected 0 but was " + actual[i]);
            }
        }
    }

    static void assertRelEquals(double expected, double actual, double rtol, String what) {
        double tol = rtol * Math.max(Math.abs(expected), Double.MIN_NORMAL);
        if (!(Math.abs(expected - actual) <= tol)) {
            fail(what + ": expected " + expected + " but was " + actual + " (rel. diff "
                    + Math.abs(expected - actual) / Math.abs(expected) + " > " + rtol + ")");
        }
    }
}
