package org.mergelab.experiment;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import org.mergelab.merge.NonFinite;
import org.mergelab.merge.TensorStats;

/**
 * A merge's weight-norm statistics, from the engine's per-tensor rows, over the whole model and per layer. "Base" is
 * the merge's base, else its first model. Ratios of whole-model norms use Σ over tensors of squared norms; means over
 * tensors are weighted by element count. Null where a figure does not apply (never NaN).
 *
 * @param normRatio ‖merged‖ / ‖base‖
 * @param maxNormRatio mean over tensors of ‖out‖ / max_i ‖in_i‖ (1 for DeLERP)
 * @param interpolationRatio for two-model merges with a scalar {@code t}: mean of ‖out‖ / ((1−t)‖v0‖ + t‖v1‖), v0 the
 *     base (LERP's norm dip)
 * @param relDistToBase ‖merged − base‖ / ‖base‖
 * @param cosToBase mean of cos(out, base)
 * @param prunedFraction mean fraction of task-vector entries a sparsifying method zeroed
 * @param signAgreement mean fraction of sign agreement among task vectors
 * @param layers the same figures per output layer, -1 for the embeddings, final norm and lm_head
 * @param nonfinite NaN and infinite values the merge read and wrote: figures involving them are null, and this says
 *     why
 */
public record NormSummary(Double normRatio, Double maxNormRatio, Double interpolationRatio, Double relDistToBase,
        Double cosToBase, Double prunedFraction, Double signAgreement, List<Layer> layers, NonFiniteCounts nonfinite) {

    /**
     * @param inputs NaN and infinite values read from the inputs (after the merge's {@code dtype} rounding)
     * @param outputs NaN and infinite values in the merged model as written (overflow of its dtype included)
     * @param tensors output tensors with any of either
     */
    public record NonFiniteCounts(long inputs, long outputs, int tensors) {
        public boolean any() {
            return inputs + outputs > 0;
        }
    }

    public record Layer(int layer, Double normRatio, Double maxNormRatio, Double interpolationRatio,
            Double relDistToBase, Double cosToBase) {}

    /**
     * @param base the index of the base among each row's inputs
     * @param t the cell's interpolation parameter, or null
     */
    static NormSummary of(List<TensorStats> rows, int base, Double t) {
        Sums all = new Sums();
        TreeMap<Integer, Sums> byLayer = new TreeMap<>();
        long nonFiniteIn = 0;
        long nonFiniteOut = 0;
        int nonFiniteTensors = 0;
        for (TensorStats r : rows) {
            if (r.inputNorms().length == 0) {
                continue; // copied unchanged (integer buffers)
            }
            long in = r.inputNonFinite().stream().mapToLong(NonFinite::total).sum();
            nonFiniteIn += in;
            nonFiniteOut += r.outNonFinite().total();
            nonFiniteTensors += in + r.outNonFinite().total() > 0 ? 1 : 0;
            all.add(r, base, t);
            byLayer.computeIfAbsent(r.layer(), k -> new Sums()).add(r, base, t);
        }
        List<Layer> layers = new ArrayList<>();
        byLayer.forEach((layer, s) -> layers.add(new Layer(layer, s.normRatio(), s.maxNormRatio.mean(),
                s.interpolation.mean(), s.relDist(), s.cos.mean())));
        return new NormSummary(all.normRatio(), all.maxNormRatio.mean(), all.interpolation.mean(), all.relDist(),
                all.cos.mean(), all.pruned.mean(), all.signs.mean(), List.copyOf(layers),
                new NonFiniteCounts(nonFiniteIn, nonFiniteOut, nonFiniteTensors));
    }

    /** Sums over a set of tensors. */
    private static final class Sums {
        double out2;
        double base2;
        double diff2;
        final Mean maxNormRatio = new Mean();
        final Mean interpolation = new Mean();
        final Mean cos = new Mean();
        final Mean pruned = new Mean();
        final Mean signs = new Mean();

        void add(TensorStats r, int base, Double t) {
            double out = r.outNorm();
            double b = r.inputNorms()[base];
            out2 += out * out;
            base2 += b * b;
            // ‖out − base‖² = ‖out‖² + ‖b‖² − 2·cos·‖out‖‖b‖ when the engine had no base to measure it against
            double diff = Double.isNaN(r.outMinusBaseNorm())
                    ? Math.max(0, out * out + b * b - 2 * cosOrZero(r.cosines()[base]) * out * b)
                    : r.outMinusBaseNorm() * r.outMinusBaseNorm();
            diff2 += diff;
            double max = 0;
            for (double n : r.inputNorms()) {
                max = Math.max(max, n);
            }
            long w = r.numel();
            maxNormRatio.add(max > 0 ? out / max : Double.NaN, w);
            if (t != null && r.inputNorms().length == 2) {
                double other = r.inputNorms()[1 - base];
                double expected = (1 - t) * b + t * other;
                interpolation.add(expected > 0 ? out / expected : Double.NaN, w);
            }
            cos.add(r.cosines()[base], w);
            pruned.add(r.prunedFraction(), w);
            signs.add(r.signAgreement(), w);
        }

        Double normRatio() {
            return finite(base2 > 0 ? Math.sqrt(out2 / base2) : Double.NaN);
        }

        Double relDist() {
            return finite(base2 > 0 ? Math.sqrt(diff2 / base2) : Double.NaN);
        }

        private static double cosOrZero(double c) {
            return Double.isNaN(c) ? 0 : c;
        }
    }

    /** A weighted mean of the values that apply (NaN ones are left out); null when none do. */
    private static final class Mean {
        double sum;
        double weight;

        void add(double v, long w) {
            if (Double.isFinite(v)) {
                sum += v * w;
                weight += w;
            }
        }

        Double mean() {
            return weight > 0 ? sum / weight : null;
        }
    }

    static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
