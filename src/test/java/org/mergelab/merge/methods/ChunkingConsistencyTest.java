package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.mergelab.merge.methods.MethodTestSupport.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ResolvedParams;

/**
 * Every registered method under the engine's guarantees: the same bits for any thread count at a fixed chunk size
 * (and from one run to the next), results within float tolerance across chunk sizes (checked by
 * {@link MethodTestSupport#merge}).
 */
class ChunkingConsistencyTest {
    private record Case(ResolvedParams params, int base, List<float[]> inputs) {}

    private static Case caseFor(MergeMethod m, int n, Random r) {
        float[] base = gaussian(r, n, 0.02);
        List<float[]> models = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            float[] x = new float[n];
            for (int j = 0; j < n; j++) {
                x[j] = base[j] + (float) (r.nextGaussian() * 0.005 * (i + 1));
            }
            models.add(x);
        }
        return switch (m.name()) {
            case "linear" -> new Case(params(globals(m), weights(0.2, 0.3, 0.5)), -1, models);
            case "slerp", "nlerp", "delerp", "nearswap" -> new Case(
                    params(globals(m, "t", m.name().equals("nearswap") ? 0.004 : 0.37), empty(2)), 0,
                    List.of(base, models.get(0)));
            case "nuslerp" -> new Case(params(globals(m, "nuslerp_flatten", false),
                    weights(Double.NaN, 0.4, 0.6)), 0, List.of(base, models.get(0), models.get(1)));
            case "multislerp" -> {
                List<float[]> in = new ArrayList<>(models);
                in.add(base);
                yield new Case(params(globals(m), weights(1, 2, 3, Double.NaN)), 3, in);
            }
            case "karcher" -> new Case(params(globals(m), empty(3)), -1, models);
            case "passthrough" -> new Case(params(globals(m), List.of(Map.of("scale", 0.5))), -1,
                    List.of(models.get(0)));
            case "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties", "della",
                    "della_linear" -> {
                List<float[]> in = new ArrayList<>(models);
                in.add(base);
                List<Map<String, Object>> pm = new ArrayList<>();
                double[] w = {0.4, 0.35, 0.25};
                for (int i = 0; i < 3; i++) {
                    Map<String, Object> mp = new HashMap<>(map("weight", w[i]));
                    if (!m.name().equals("task_arithmetic")) {
                        mp.put("density", 0.3 + 0.2 * i);
                    }
                    if (m.name().startsWith("breadcrumbs")) {
                        mp.put("gamma", 0.02);
                    }
                    if (m.name().startsWith("della")) {
                        mp.put("epsilon", 0.1);
                    }
                    pm.add(mp);
                }
                pm.add(Map.of());
                yield new Case(params(globals(m), pm), 3, in);
            }
            case "model_stock", "sce" -> {
                List<float[]> in = new ArrayList<>(models);
                in.add(1, base);
                yield new Case(params(m.name().equals("sce") ? globals(m, "select_topk", 0.4)
                        : globals(m, "filter_wise", true), empty(4)), 1, in);
            }
            default -> throw new AssertionError("no test case for method " + m.name());
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"linear", "slerp", "nlerp", "delerp", "nuslerp", "multislerp", "karcher", "nearswap",
            "passthrough", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties",
            "della", "della_linear", "model_stock", "sce"})
    void sameBitsForAnyThreadCountAndRun(String name) {
        MergeMethod m = MethodRegistry.find(name).orElseThrow();
        Case c = caseFor(m, 3000, new Random(name.hashCode()));
        long[] shape = {30, 100};
        float[] first = merge(m, c.params(), c.base(), shape, c.inputs());
        for (int threads : new int[] {2, 3, 4}) {
            assertArrayEquals(first, mergeOnce(m, c.params(), c.base(), shape, c.inputs(), CHUNK, pool(), threads),
                    name + " with " + threads + " threads");
        }
        // repeated runs (the JIT compiles the reductions along the way) give the same bits
        for (int rep = 0; rep < 40; rep++) {
            assertArrayEquals(first, mergeOnce(m, c.params(), c.base(), shape, c.inputs(), CHUNK, null, 1),
                    name + " run " + rep);
        }
    }
}
