package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mergelab.BadInputException;
import org.mergelab.cli.Float64Reference;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.ResolvedParams;

/**
 * The generalized task-arithmetic family (task_arithmetic, ties, dare_*, breadcrumbs*, della*): worked examples by
 * hand, the sign election, task negation, parameter and model-set checks, and every method against the independent
 * float64 reference ({@link Float64Reference#gta}) on data with many exact magnitude ties.
 */
class TaskArithmeticFamilyTest {
    static MergeMethod method(String name) {
        return MethodRegistry.find(name).orElseThrow();
    }

    /** Per-model parameter maps: {@code null} for the base. */
    @SafeVarargs
    static List<Map<String, Object>> perModel(Map<String, Object>... maps) {
        List<Map<String, Object>> l = new ArrayList<>();
        for (Map<String, Object> m : maps) {
            l.add(m == null ? Map.of() : m);
        }
        return l;
    }

    /** Values on a 1/4096 grid: task vectors are exact in float32, and magnitudes tie often. */
    static float[] grid(Random r, int n, double std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (Math.round(r.nextGaussian() * std * 4096) / 4096.0);
        }
        return x;
    }

    static double[][] d(List<float[]> inputs) {
        double[][] x = new double[inputs.size()][];
        for (int i = 0; i < x.length; i++) {
            x[i] = MethodTestSupport.d(inputs.get(i));
        }
        return x;
    }

    // ---------------------------------------------------------------- worked by hand

    /**
     * Three 2×3 task vectors on a base of 0.5, density 0.5 (k = 3 per model), weights 1, λ = 2, ties defaults
     * (normalize):
     * <pre>
     * τ1 = [ 0.4,  0.35, 0.3 | -0.2,  0,    0.6 ]  → trimmed [ 0.4,  0.35, 0 | 0,    0,    0.6]
     * τ2 = [-0.5,  0.2,  0.1 |  0.3, -0.4, -0.05]  → trimmed [-0.5,  0,    0 | 0.3, -0.4,  0  ]
     * τ3 = [ 0.1,  0.3, -0.2 | -0.6,  0.5,  0.2 ]  → trimmed [ 0,    0.3,  0 | -0.6, 0.5,  0  ]
     * votes (Σ):  -0.1 (−)  0.65 (+)  0 (+)  -0.3 (−)  0.1 (+)  0.6 (+)
     * disjoint mean: -0.5/1  0.65/2  0 (nobody agrees: divisor 1)  -0.6/1  0.5/1  0.6/1
     * output 0.5 + 2·mean: -0.5  1.15  0.5  -0.7  1.5  1.7
     * </pre>
     * Zeros never vote with the winner: element 0's divisor is 1 although τ3 is 0 there, not negative.
     */
    @Test
    void tiesWorkedByHand() {
        float[] b = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
        float[][] tau = {{0.4f, 0.35f, 0.3f, -0.2f, 0f, 0.6f}, {-0.5f, 0.2f, 0.1f, 0.3f, -0.4f, -0.05f},
            {0.1f, 0.3f, -0.2f, -0.6f, 0.5f, 0.2f}};
        List<float[]> in = new ArrayList<>();
        for (float[] t : tau) {
            float[] x = new float[6];
            for (int j = 0; j < 6; j++) {
                x[j] = b[j] + t[j];
            }
            in.add(x);
        }
        in.add(b);
        MergeMethod ties = method("ties");
        Map<String, Object> model = map("weight", 1.0, "density", 0.5);
        ResolvedParams p = params(globals(ties, "lambda", 2.0), perModel(model, model, model, null));
        float[] out = merge(ties, p, 3, new long[] {2, 3}, in);
        assertCloseAbs(new double[] {-0.5, 1.15, 0.5, -0.7, 1.5, 1.7}, out, 2e-6, "ties by hand");
        // the float64 reference agrees
        double[] ref = Float64Reference.gta(new Float64Reference.Gta("magnitude", "sum", true, 2, "none"), d(in), 3,
                new double[] {1, 1, 1, 0}, new double[] {0.5, 0.5, 0.5, 1}, new double[4], 42, "tensor",
                new long[] {2, 3});
        assertCloseAbs(ref, out, 2e-6, "ties reference");
    }

    /**
     * One element, task vectors 0.2, 0.2, −0.1 with weights 1, 1, 5: the weighted vote (0.2 + 0.2 − 0.5 < 0) elects −
     * and keeps only the third model (−0.5/5 = −0.1); one vote per model (+1 +1 −1) elects + and averages the first
     * two ((0.2 + 0.2)/2 = 0.2).
     */
    @Test
    void weightedSignVoteVersusCount() {
        List<float[]> in = List.of(new float[] {0.2f}, new float[] {0.2f}, new float[] {-0.1f}, new float[] {0f});
        MergeMethod ties = method("ties");
        List<Map<String, Object>> pm = perModel(map("weight", 1.0, "density", 1.0), map("weight", 1.0, "density", 1.0),
                map("weight", 5.0, "density", 1.0), null);
        float[] sum = merge(ties, params(globals(ties), pm), 3, new long[] {1}, in);
        float[] count = merge(ties, params(globals(ties, "consensus", "count"), pm), 3, new long[] {1}, in);
        assertEquals(-0.1, sum[0], 1e-7);
        assertEquals(0.2, count[0], 1e-7);
        // without normalize: masked sums (−0.5 and 0.4)
        float[] sumRaw = merge(ties, params(globals(ties, "normalize", false), pm), 3, new long[] {1}, in);
        float[] countRaw = merge(ties, params(globals(ties, "normalize", false, "consensus", "count"), pm), 3,
                new long[] {1}, in);
        assertEquals(-0.5, sumRaw[0], 1e-7);
        assertEquals(0.4, countRaw[0], 1e-7);
        // a tie in the vote elects +
        List<float[]> tied = List.of(new float[] {1.25f}, new float[] {0.75f}, new float[] {1f}); // τ = ±0.25
        float[] t = merge(ties, params(globals(ties), perModel(map("weight", 1.0, "density", 1.0),
                map("weight", 1.0, "density", 1.0), null)), 2,
                new long[] {1}, tied);
        assertEquals(1.25f, t[0]);
    }

    /** Task negation: {@code b + τ_1 − τ_2} with a negative weight and normalize: false. */
    @Test
    void taskNegationWithNegativeWeight() {
        Random r = new Random(3);
        int n = 600;
        float[] b = grid(r, n, 0.5);
        float[] x1 = grid(r, n, 0.5);
        float[] x2 = grid(r, n, 0.5);
        List<float[]> in = List.of(b, x1, x2);
        MergeMethod ta = method("task_arithmetic");
        float[] out = merge(ta, params(globals(ta), perModel(null, map("weight", 1.0), map("weight", -1.0))), 0,
                new long[] {20, 30}, in);
        double[] expected = new double[n];
        for (int j = 0; j < n; j++) {
            expected[j] = b[j] + ((double) x1[j] - b[j]) - ((double) x2[j] - b[j]);
        }
        assertClose(expected, out, in, "task_arithmetic negation");
        // ties: the negated model votes with its weighted sign, and the masked sum keeps the negation
        MergeMethod ties = method("ties");
        ResolvedParams p = params(globals(ties, "normalize", false),
                perModel(null, map("weight", 1.0, "density", 0.7), map("weight", -0.5, "density", 0.7)));
        float[] t = merge(ties, p, 0, new long[] {20, 30}, in);
        double[] ref = Float64Reference.gta(new Float64Reference.Gta("magnitude", "sum", false, 1, "none"), d(in), 0,
                new double[] {0, 1, -0.5}, new double[] {1, 0.7, 0.7}, new double[3], 42, "tensor",
                new long[] {20, 30});
        assertClose(ref, t, in, "ties with a negative weight");
        // a model negated alone: b − τ
        float[] neg = merge(ta, params(globals(ta), perModel(null, map("weight", -1.0))), 0, new long[] {n},
                List.of(b, x1));
        for (int j = 0; j < n; j++) {
            assertEquals(2.0 * b[j] - x1[j], neg[j], 1e-6);
        }
    }

    /** λ scales the normalised mix: ties with λ = 0.5 is halfway between the base and λ = 1. */
    @Test
    void lambdaIsAppliedAfterNormalisation() {
        Random r = new Random(5);
        int n = 300;
        List<float[]> in = List.of(grid(r, n, 1), grid(r, n, 1), grid(r, n, 1));
        MergeMethod ties = method("ties");
        List<Map<String, Object>> pm = perModel(map("weight", 2.0, "density", 0.5), null,
                map("weight", 3.0, "density", 0.5));
        float[] one = merge(ties, params(globals(ties), pm), 1, new long[] {n}, in);
        float[] half = merge(ties, params(globals(ties, "lambda", 0.5), pm), 1, new long[] {n}, in);
        float[] base = in.get(1);
        for (int j = 0; j < n; j++) {
            assertEquals(base[j] + 0.5 * (one[j] - base[j]), half[j], 1e-5, "element " + j);
        }
    }

    /** k = floor(density·numel) = 0 keeps nothing: the base comes out (mergekit fails an assertion). */
    @Test
    void densityBelowOneElementKeepsNothing() {
        Random r = new Random(8);
        List<float[]> in = List.of(grid(r, 50, 1), grid(r, 50, 1));
        MergeMethod ties = method("ties");
        float[] out = merge(ties, params(globals(ties), perModel(null, map("weight", 1.0, "density", 0.01))), 0,
                new long[] {50}, in);
        assertArrayEquals(in.get(0), out);
    }

    // ---------------------------------------------------------------- every method vs the float64 reference

    record Variant(String method, Map<String, Object> globals, double[] density, double extra) {
        @Override
        public String toString() {
            return method + " " + globals + " density " + java.util.Arrays.toString(density);
        }
    }

    static Stream<Arguments> variants() {
        List<Variant> v = new ArrayList<>();
        double[] mixed = {0.35, 1.0, 0.8};
        v.add(new Variant("task_arithmetic", Map.of(), new double[] {1, 1, 1}, 0));
        v.add(new Variant("task_arithmetic", Map.of("normalize", true, "lambda", 0.7), new double[] {1, 1, 1}, 0));
        for (String m : List.of("ties", "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties", "della",
                "della_linear")) {
            double extra = m.startsWith("breadcrumbs") ? 0.05 : m.startsWith("della") ? 0.1 : 0;
            v.add(new Variant(m, Map.of(), mixed, extra));
            v.add(new Variant(m, Map.of("rescale", true, "lambda", 1.3), mixed, extra));
            v.add(new Variant(m, Map.of("rescale", true, "rescale_mode", "inverse_density", "normalize", true),
                    mixed, extra));
            v.add(new Variant(m, Map.of("rescale", false, "normalize", false), new double[] {0.5, 0.2, 0.85}, extra));
            if (m.endsWith("ties") || m.equals("della")) {
                v.add(new Variant(m, Map.of("consensus", "count"), mixed, extra));
            }
        }
        return v.stream().map(Arguments::of);
    }

    static Float64Reference.Gta referenceFor(MergeMethod m, ResolvedParams p) {
        String name = m.name();
        String sparsifier = switch (name) {
            case "task_arithmetic" -> "none";
            case "ties" -> "magnitude";
            case "dare_linear", "dare_ties" -> "random";
            case "breadcrumbs", "breadcrumbs_ties" -> "magnitude_outliers";
            default -> "della";
        };
        boolean consensus = name.equals("ties") || name.endsWith("_ties") || name.equals("della");
        String rescale = sparsifier.equals("none") || !p.flag("rescale") ? "none" : p.choice("rescale_mode");
        return new Float64Reference.Gta(sparsifier, consensus ? p.choice("consensus") : null, p.flag("normalize"),
                p.number("lambda"), rescale);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void matchesFloat64Reference(Variant variant) {
        MergeMethod m = method(variant.method());
        Random r = new Random(variant.toString().hashCode());
        long[] shape = {24, 40};
        int n = numel(shape);
        float[] base = grid(r, n, 0.05);
        List<float[]> in = new ArrayList<>();
        // weights with no small integer relation, so no element's vote is an exact tie that rounding could flip
        double[] weights = {0.613, 0, 1.1071, -0.3317};
        for (int i = 0; i < 4; i++) {
            if (i == 1) {
                in.add(base);
                continue;
            }
            float[] x = new float[n];
            float[] delta = grid(r, n, 0.01 * (i + 1));
            for (int j = 0; j < n; j++) {
                x[j] = base[j] + (j % 11 == 0 ? 0f : delta[j]); // some task-vector zeros
            }
            in.add(x);
        }
        Object[] kv = variant.globals().entrySet().stream()
                .flatMap(e -> Stream.of(e.getKey(), e.getValue())).toArray();
        Map<String, Object> g = globals(m, kv);
        List<Map<String, Object>> pm = new ArrayList<>();
        double[] density = new double[4];
        double[] extra = new double[4];
        for (int i = 0, e = 0; i < 4; i++) {
            if (i == 1) {
                pm.add(Map.of());
                density[i] = 1;
                continue;
            }
            Map<String, Object> mp = new HashMap<>(map("weight", weights[i]));
            density[i] = variant.density()[e++];
            extra[i] = variant.extra();
            if (!variant.method().equals("task_arithmetic")) {
                mp.put("density", density[i]);
            }
            if (variant.method().startsWith("breadcrumbs")) {
                mp.put("gamma", extra[i]);
            }
            if (variant.method().startsWith("della")) {
                mp.put("epsilon", extra[i]);
            }
            pm.add(mp);
        }
        ResolvedParams p = params(g, pm);
        m.checkParams(p, models(4, 1), "tensor");
        float[] out = merge(m, p, 1, shape, in);
        double[] ref = Float64Reference.gta(referenceFor(m, p), d(in), 1, weights, density, extra, 42, "tensor",
                shape);
        assertClose(ref, out, in, 2e-6, variant.toString());
    }

    // ---------------------------------------------------------------- declarations and checks

    @Test
    void defaultsFollowMergekit() {
        Map<String, boolean[]> normalizeRescale = Map.of("task_arithmetic", new boolean[] {false, false}, "ties",
                new boolean[] {true, false}, "dare_ties", new boolean[] {false, true}, "dare_linear",
                new boolean[] {false, true}, "breadcrumbs", new boolean[] {false, false}, "breadcrumbs_ties",
                new boolean[] {false, false}, "della", new boolean[] {true, true}, "della_linear",
                new boolean[] {false, true});
        normalizeRescale.forEach((name, nr) -> {
            MergeMethod m = method(name);
            Map<String, ParamSpec> specs = new HashMap<>();
            m.params().forEach(s -> specs.put(s.name(), s));
            assertEquals(nr[0], specs.get("normalize").defaultValue(), name + " normalize");
            assertEquals(1.0, specs.get("lambda").defaultValue(), name);
            assertEquals(false, specs.get("int8_mask").defaultValue(), name);
            assertTrue(specs.get("weight").required(), name);
            assertEquals(ParamSpec.Scope.PER_MODEL, specs.get("weight").scope(), name);
            assertEquals(MergeMethod.BaseRole.SPECIAL, m.baseRole(), name);
            if (!name.equals("task_arithmetic")) {
                assertEquals(nr[1], specs.get("rescale").defaultValue(), name + " rescale");
                assertEquals(1.0, specs.get("density").defaultValue(), name);
                assertEquals(List.of("l1", "inverse_density"), specs.get("rescale_mode").choices(), name);
                assertEquals("l1", specs.get("rescale_mode").defaultValue(), name);
            }
            boolean consensus = name.equals("ties") || name.endsWith("_ties") || name.equals("della");
            assertEquals(consensus, specs.containsKey("consensus"), name);
            if (consensus) {
                assertEquals("sum", specs.get("consensus").defaultValue(), name);
            }
            assertEquals(name.startsWith("breadcrumbs") ? 0.01 : null,
                    specs.containsKey("gamma") ? specs.get("gamma").defaultValue() : null, name);
            assertEquals(name.startsWith("della") ? 0.15 : null,
                    specs.containsKey("epsilon") ? specs.get("epsilon").defaultValue() : null, name);
        });
    }

    @Test
    void everyTaskVectorMethodNeedsABase() {
        for (String name : List.of("task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs",
                "breadcrumbs_ties", "della", "della_linear", "sce", "model_stock")) {
            MergeMethod m = method(name);
            BadInputException e = assertThrows(BadInputException.class, () -> m.checkModels(models(3, -1)));
            assertTrue(e.getMessage().startsWith(name + " needs base_model"), e.getMessage());
            assertBadModels(m, 1, 0);
        }
        method("ties").checkModels(models(2, 1));
        assertBadModels(method("model_stock"), 2, 0);
        method("model_stock").checkModels(models(3, 2));
    }

    @Test
    void densityOutOfRangeIsRejectedAtPlanTime() {
        for (String name : List.of("ties", "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties")) {
            MergeMethod m = method(name);
            for (double bad : new double[] {1.5, 0, -0.2}) {
                Map<String, Object> mp = new HashMap<>(map("weight", 1.0, "density", bad, "gamma", 0.01));
                ResolvedParams p = params(globals(m), perModel(null, mp));
                BadInputException e = assertThrows(BadInputException.class,
                        () -> m.checkParams(p, models(2, 0), "w"), name + " density " + bad);
                assertTrue(e.getMessage().contains("density") && e.getMessage().contains("'w'"), e.getMessage());
            }
        }
        MergeMethod bc = method("breadcrumbs");
        assertThrows(BadInputException.class, () -> bc.checkParams(params(globals(bc),
                perModel(null, map("weight", 1.0, "density", 0.5, "gamma", -0.1))), models(2, 0), "w"));
        for (String name : List.of("della", "della_linear")) {
            MergeMethod m = method(name);
            for (double[] de : new double[][] {{0.1, 0.15}, {0.9, 0.1}, {0.5, 0.5}, {1.2, 0.1}}) {
                ResolvedParams p = params(globals(m),
                        perModel(null, map("weight", 1.0, "density", de[0], "epsilon", de[1])));
                assertThrows(BadInputException.class, () -> m.checkParams(p, models(2, 0), "w"),
                        name + " density " + de[0] + " epsilon " + de[1]);
            }
            for (double[] de : new double[][] {{0.5, 0.15}, {1.0, 0.15}, {0.0, 0.15}, {-1, 0.15}, {0.3, 0}}) {
                m.checkParams(params(globals(m), perModel(null, map("weight", 1.0, "density", de[0], "epsilon",
                        de[1]))), models(2, 0), "w");
            }
        }
    }
}
