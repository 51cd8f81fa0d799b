package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.mergelab.io.FloatCodec;
import org.mergelab.merge.JobRunner;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ResolvedParams;
import org.mergelab.merge.methods.legacy.Legacy;

/**
 * The task-arithmetic family against a frozen copy of its code from before the fused kernels
 * ({@link Legacy}): for the same inputs, parameters and seed, the same output bits and the same pruned fraction, over
 * random parameter sets (weights of both signs, densities including 1, lambda, normalize, both rescale modes, both
 * votes), data with many exact ties (bf16-rounded task vectors, a few magnitudes), continuous data over many binades,
 * special values (zeros, signed zeros, NaN, infinities, subnormals), 1 to 4 models, chunk sizes that cut rows, and 1
 * or 3 threads. NaN outputs must be NaN, not the same NaN: the old code's payloads vary between its compiled vector
 * lanes and its scalar code.
 */
class LegacyDifferentialTest {
    static final List<String> METHODS = List.of("task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs",
            "breadcrumbs_ties", "della", "della_linear");

    static float bf16(double v) {
        return FloatCodec.roundTo(org.mergelab.io.DType.BF16, (float) v);
    }

    /** Input data of one of several kinds; the base is input {@code base}. */
    static List<float[]> data(Random r, int kind, int models, int n, int base) {
        float[] b = new float[n];
        for (int j = 0; j < n; j++) {
            b[j] = bf16(r.nextGaussian() * 0.02);
        }
        List<float[]> in = new ArrayList<>();
        for (int m = 0; m < models; m++) {
            float[] x = new float[n];
            double scale = 0.001 * (m + 1);
            for (int j = 0; j < n; j++) {
                x[j] = switch (kind) {
                    // a fine-tune stored as bf16: task vectors with few significant bits, many exact ties
                    case 0 -> bf16(b[j] + r.nextGaussian() * scale);
                    // a few magnitudes only, some zeros
                    case 1 -> b[j] + (r.nextInt(6) / 64f) * (r.nextBoolean() ? 1 : -1);
                    // continuous magnitudes over many binades (both halves of the float bits vary)
                    case 2 -> b[j] + (float) (Math.exp(r.nextGaussian() * 3) * 1e-3 * (r.nextBoolean() ? 1 : -1));
                    // mostly equal to the base (sparse fine-tune)
                    case 3 -> r.nextInt(10) == 0 ? b[j] + (float) (r.nextGaussian() * scale) : b[j];
                    // a first eighth unlike the rest (it misleads the one-pass selection's windows)
                    default -> bf16(b[j] + r.nextGaussian() * (j < n / 8 ? scale * 1e-3 : scale));
                };
            }
            in.add(x);
        }
        in.add(base, b);
        return in;
    }

    /** Sprinkles special values into the inputs. */
    static void specials(Random r, List<float[]> in) {
        float[] sp = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
                -Float.MIN_VALUE, Float.MIN_NORMAL, Float.intBitsToFloat(0x7fc01234), Float.intBitsToFloat(0xffffffff),
                Float.MAX_VALUE, 1e-30f};
        for (float[] x : in) {
            for (int i = 0; i < x.length / 50 + 1; i++) {
                x[r.nextInt(x.length)] = sp[r.nextInt(sp.length)];
            }
        }
    }

    record Case(String method, ResolvedParams params, int base, long[] shape, List<float[]> inputs, String what) {}

    static Case randomCase(String method, long seed) {
        Random r = new Random(seed);
        MergeMethod m = MethodRegistry.find(method).orElseThrow();
        int models = 1 + r.nextInt(4);
        long[] shape = switch (r.nextInt(5)) {
            case 0 -> new long[] {1 + r.nextInt(3000)};
            case 1 -> new long[] {1 + r.nextInt(40), 1 + r.nextInt(120)};
            case 2 -> new long[] {1 + r.nextInt(500), 1};
            case 3 -> new long[] {64, 256};
            default -> new long[] {3 + r.nextInt(5), 2 + r.nextInt(5)};
        };
        int n = numel(shape);
        int base = r.nextInt(models + 1);
        int kind = r.nextInt(5);
        List<float[]> in = data(r, kind, models, n, base);
        if (r.nextInt(4) == 0) {
            specials(r, in);
        }
        if (r.nextInt(6) == 0) {
            in.set((base + 1) % in.size(), in.get(base).clone()); // a model equal to the base
        }
        List<Object> kv = new ArrayList<>();
        if (r.nextBoolean()) {
            kv.add("normalize");
            kv.add(r.nextBoolean());
        }
        if (r.nextInt(3) == 0) {
            kv.add("lambda");
            kv.add(0.5 + r.nextDouble());
        }
        if (!method.equals("task_arithmetic")) {
            if (r.nextBoolean()) {
                kv.add("rescale");
                kv.add(r.nextBoolean());
            }
            if (r.nextInt(3) == 0) {
                kv.add("rescale_mode");
                kv.add("inverse_density");
            }
        }
        if ((method.endsWith("ties") || method.equals("della")) && r.nextInt(3) == 0) {
            kv.add("consensus");
            kv.add("count");
        }
        Map<String, Object> g = globals(m, kv.toArray());
        List<Map<String, Object>> pm = new ArrayList<>();
        for (int i = 0; i <= models; i++) {
            if (i == base) {
                pm.add(Map.of());
                continue;
            }
            Map<String, Object> mp = new HashMap<>();
            double w = r.nextInt(8) == 0 ? -0.4 : r.nextInt(8) == 0 ? 1.0 : 0.1 + r.nextDouble();
            mp.put("weight", w);
            if (!method.equals("task_arithmetic")) {
                double d = switch (r.nextInt(6)) {
                    case 0 -> 1.0;
                    case 1 -> 0.999;
                    case 2 -> 0.05 + 0.05 * r.nextDouble();
                    default -> 0.2 + 0.6 * r.nextDouble();
                };
                if (method.startsWith("della")) {
                    d = Math.min(d, 0.8);
                    if (r.nextInt(8) == 0) {
                        d = 1.0;
                    }
                }
                mp.put("density", d);
                if (method.startsWith("breadcrumbs")) {
                    mp.put("gamma", r.nextInt(5) == 0 ? 0.0 : 0.02 + 0.1 * r.nextDouble());
                }
                if (method.startsWith("della")) {
                    mp.put("epsilon", d >= 1 ? 0.1 : Math.min(0.15, Math.min(d, 1 - d) * 0.9));
                }
            }
            pm.add(mp);
        }
        ResolvedParams p = params(g, pm);
        return new Case(method, p, base, shape, in, method + " seed " + seed + " kind " + kind + " models " + models
                + " shape " + java.util.Arrays.toString(shape) + " params " + g + " " + pm);
    }

    static void assertSame(Case c, int chunk, int threads, long seed) {
        MergeMethod fresh = MethodRegistry.find(c.method()).orElseThrow();
        MergeMethod old = Legacy.of(c.method());
        JobRunner.Run want = JobRunner.run(old, c.params(), c.base(), c.shape(), c.inputs(), chunk,
                threads == 1 ? null : pool(), threads, seed, "layers.0.mlp");
        JobRunner.Run got = JobRunner.run(fresh, c.params(), c.base(), c.shape(), c.inputs(), chunk,
                threads == 1 ? null : pool(), threads, seed, "layers.0.mlp");
        String what = c.what() + " chunk " + chunk + " threads " + threads;
        for (int j = 0; j < want.out().length; j++) {
            // NaN payloads are not compared: the old code itself gives different ones depending on whether an
            // element went through compiled vector lanes or scalar code
            int a = Float.floatToIntBits(want.out()[j]);
            int b = Float.floatToIntBits(got.out()[j]);
            if (a != b) {
                fail(what + ": element " + j + " was " + got.out()[j] + " (0x" + Integer.toHexString(b)
                        + "), the old code gave " + want.out()[j] + " (0x" + Integer.toHexString(a) + ")");
            }
        }
        assertEquals(want.prunedFraction(), got.prunedFraction(), 0.0, what + ": pruned fraction");
    }

    /** Which kernels run: scalar only, lanes only, or lanes probed until C2 compiles them (as in a merge). */
    enum Kernels {
        SCALAR,
        LANES,
        PROBING;

        void use() {
            switch (this) {
                case SCALAR -> TaskVectorKernels.useLanes(false);
                case LANES -> TaskVectorKernels.useLanes(true);
                case PROBING -> TaskVectorKernels.resetLanes();
            }
        }
    }

    @AfterAll
    static void asInANewJvm() {
        TaskVectorKernels.resetLanes();
    }

    static Stream<Arguments> methodsAndKernels() {
        return METHODS.stream().flatMap(m -> Stream.of(Kernels.values()).map(k -> Arguments.of(m, k)));
    }

    @ParameterizedTest
    @MethodSource("methodsAndKernels")
    void sameBitsAsTheOldCode(String method, Kernels kernels) {
        kernels.use();
        sameBitsAsTheOldCode(method);
    }

    private static void sameBitsAsTheOldCode(String method) {
        for (int i = 0; i < 60; i++) {
            long seed = method.hashCode() * 1000L + i;
            Case c = randomCase(method, seed);
            for (int chunk : new int[] {1 + (int) (seed & 15), 100, 1 << 18}) {
                assertSame(c, chunk, 1, seed);
            }
            assertSame(c, 37, 3, seed);
        }
    }

    /**
     * Without the one-pass selection, and without the kept chunk lists (the selections then count the threshold's
     * ties in their own pass): same bits.
     */
    @ParameterizedTest
    @EnumSource(Kernels.class)
    void sameBitsWithTheTieCountingPass(Kernels kernels) {
        kernels.use();
        long savedOld = Legacy.retainedMax();
        long savedNew = TopKSelection.retainedMax;
        Legacy.retainedMax(0);
        TopKSelection.retainedMax = 0;
        WindowSelection.enabled = false;
        try {
            for (String method : List.of("ties", "breadcrumbs", "breadcrumbs_ties")) {
                for (int i = 0; i < 20; i++) {
                    long seed = method.hashCode() * 7L + i;
                    Case c = randomCase(method, seed);
                    assertSame(c, 53, 1, seed);
                    assertSame(c, 11, 3, seed);
                }
            }
        } finally {
            Legacy.retainedMax(savedOld);
            TopKSelection.retainedMax = savedNew;
            WindowSelection.enabled = true;
        }
    }

    /** Larger tensors (many chunks of many vectors each) in the shapes of a real merge. */
    @ParameterizedTest
    @EnumSource(Kernels.class)
    void sameBitsOnLargerBf16Tensors(Kernels kernels) {
        kernels.use();
        largerBf16Tensors();
    }

    private static void largerBf16Tensors() {
        for (String method : METHODS) {
            Random r = new Random(method.hashCode());
            MergeMethod m = MethodRegistry.find(method).orElseThrow();
            long[] shape = {96, 1024};
            List<float[]> in = data(r, 0, 2, numel(shape), 0);
            List<Map<String, Object>> pm = new ArrayList<>();
            pm.add(Map.of());
            for (int i = 0; i < 2; i++) {
                Map<String, Object> mp = new HashMap<>(map("weight", 0.5));
                if (!method.equals("task_arithmetic")) {
                    mp.put("density", 0.5);
                }
                if (method.startsWith("breadcrumbs")) {
                    mp.put("gamma", 0.01);
                }
                if (method.startsWith("della")) {
                    mp.put("epsilon", 0.15);
                }
                pm.add(mp);
            }
            Case c = new Case(method, params(globals(m), pm), 0, shape, in, method + " 96x1024 bf16");
            assertSame(c, 8192, 1, 7);
            assertSame(c, 8192, 2, 7);
        }
    }
}
