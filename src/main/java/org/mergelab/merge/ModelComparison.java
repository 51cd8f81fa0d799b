package org.mergelab.merge;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;

/**
 * Compares two models tensor by tensor and sums the figures per layer: ‖A‖, ‖B‖, ‖A − B‖ and cos(A, B) over all of a
 * layer's weights (embeddings, final norm and lm_head as their own rows). Float64 sums, one streaming read of each.
 */
public final class ModelComparison {
    private ModelComparison() {}

    /**
     * One row: a layer ({@code layer ≥ 0}) or a non-layer tensor ({@code layer = -1}, named).
     *
     * @param onlyIn tensors present in only one model, or with different shapes ("A"/"B" prefixed names)
     */
    public record Row(String name, int layer, long numel, double normA, double normB, double normDiff,
            double cosine, List<String> onlyIn) {}

    public static List<Row> compare(ModelFolder a, ModelFolder b) {
        Map<String, double[]> sums = new LinkedHashMap<>(); // aa, bb, ab, dd, numel
        Map<String, List<String>> unmatched = new LinkedHashMap<>();
        for (ModelTensor ta : a.tensors()) {
            String key = key(ta.name());
            ModelTensor tb = b.tensor(ta.name());
            if (tb == null || !tb.info().sameShape(ta.info()) || !ta.dtype().isFloat() || !tb.dtype().isFloat()) {
                unmatched.computeIfAbsent(key, k -> new ArrayList<>()).add("A:" + ta.name());
                continue;
            }
            double[] s = sums.computeIfAbsent(key, k -> new double[5]);
            accumulate(ta, tb, s);
        }
        for (ModelTensor tb : b.tensors()) {
            if (a.tensor(tb.name()) == null) {
                unmatched.computeIfAbsent(key(tb.name()), k -> new ArrayList<>()).add("B:" + tb.name());
            }
        }
        List<Row> rows = new ArrayList<>();
        for (var e : sums.entrySet()) {
            double[] s = e.getValue();
            double na = Math.sqrt(s[0]);
            double nb = Math.sqrt(s[1]);
            int layer = Planner.layerIndex(e.getKey() + ".");
            rows.add(new Row(layer >= 0 ? "layer " + layer : e.getKey(), layer, (long) s[4], na, nb, Math.sqrt(s[3]),
                    na > 0 && nb > 0 ? s[2] / (na * nb) : Double.NaN,
                    unmatched.getOrDefault(e.getKey(), List.of())));
        }
        unmatched.forEach((k, v) -> {
            if (!sums.containsKey(k)) {
                rows.add(new Row(k, Planner.layerIndex(k + "."), 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                        v));
            }
        });
        return rows;
    }

    /** Layer tensors group under their layer prefix; the others stand alone. */
    private static String key(String tensor) {
        String prefix = Planner.layerPrefix(tensor);
        return prefix != null ? prefix : tensor;
    }

    private static void accumulate(ModelTensor ta, ModelTensor tb, double[] s) {
        long numel = ta.info().numel();
        int chunk = (int) Math.min(MergeEngine.DEFAULT_CHUNK, Math.max(1, numel));
        float[] x = new float[chunk];
        float[] y = new float[chunk];
        float[] d = new float[chunk];
        for (long off = 0; off < numel; off += chunk) {
            int n = (int) Math.min(chunk, numel - off);
            FloatCodec.decode(ta.dtype(), ta.data(), off, x, n);
            FloatCodec.decode(tb.dtype(), tb.data(), off, y, n);
            for (int i = 0; i < n; i++) {
                d[i] = x[i] - y[i];
            }
            s[0] += Reductions.dot(x, x, 0, n);
            s[1] += Reductions.dot(y, y, 0, n);
            s[2] += Reductions.dot(x, y, 0, n);
            s[3] += Reductions.dot(d, d, 0, n);
        }
        s[4] += numel;
    }
}
