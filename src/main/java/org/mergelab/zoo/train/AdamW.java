package org.mergelab.zoo.train;

import java.util.LinkedHashMap;
import java.util.Map;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * AdamW (Loshchilov &amp; Hutter: decoupled weight decay) with global-norm gradient clipping, updating the arrays in
 * place. Written here rather than taken from SameDiff's TrainingConfig because that has no AdamW, no clipping and no
 * way to exclude the norm weights from decay, and a fixed learning rate unless a schedule object is built in advance.
 * Weight decay applies to matrices only (embeddings, projections, lm_head), not to the RMSNorm weights.
 */
public final class AdamW {
    /**
     * @param weightDecay decoupled decay per unit of learning rate ({@code w ← w − lr·decay·w})
     * @param clipNorm the gradient's global L2 norm is scaled down to this when larger; 0 for no clipping
     */
    public record Settings(double beta1, double beta2, double epsilon, double weightDecay, double clipNorm) {
        /** β = (0.9, 0.95), ε = 1e-8, decay 0.1, clipping at 1: the usual settings of small causal LMs. */
        public static Settings defaults() {
            return new Settings(0.9, 0.95, 1e-8, 0.1, 1.0);
        }

        public Settings withWeightDecay(double decay) {
            return new Settings(beta1, beta2, epsilon, decay, clipNorm);
        }

        public Settings {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(epsilon > 0) || !(weightDecay >= 0)
                    || !(clipNorm >= 0)) {
                throw new IllegalArgumentException("AdamW settings out of range: " + this);
            }
        }
    }

    private final Settings settings;
    private final Map<String, INDArray> first = new LinkedHashMap<>();
    private final Map<String, INDArray> second = new LinkedHashMap<>();
    private long steps;

    AdamW(Settings settings, Map<String, INDArray> params) {
        this.settings = settings;
        params.forEach((name, p) -> {
            first.put(name, p.ulike().assign(0));
            second.put(name, p.ulike().assign(0));
        });
    }

    /**
     * One step: clips {@code grads} (changed in place), updates {@code params} in place.
     *
     * @return the gradient's global L2 norm before clipping
     */
    double update(Map<String, INDArray> params, Map<String, INDArray> grads, double lr) {
        double sumSquares = 0;
        for (INDArray g : grads.values()) {
            double n = g.norm2Number().doubleValue();
            sumSquares += n * n;
        }
        double norm = Math.sqrt(sumSquares);
        double clip = settings.clipNorm() > 0 && norm > settings.clipNorm() ? settings.clipNorm() / norm : 1;
        steps++;
        double b1 = settings.beta1();
        double b2 = settings.beta2();
        double correction1 = 1 - Math.pow(b1, steps);
        double correction2 = 1 - Math.pow(b2, steps);
        for (var e : params.entrySet()) {
            INDArray p = e.getValue();
            INDArray g = grads.get(e.getKey());
            if (g == null) {
                throw new IllegalStateException("no gradient for " + e.getKey());
            }
            if (clip < 1) {
                g.muli(clip);
            }
            INDArray m = first.get(e.getKey()).muli(b1).addi(g.mul(1 - b1));
            INDArray v = second.get(e.getKey()).muli(b2).addi(g.mul(g).muli(1 - b2));
            INDArray denominator = Transforms.sqrt(v.div(correction2), false).addi(settings.epsilon());
            INDArray step = m.div(correction1).divi(denominator).muli(lr);
            if (p.rank() >= 2 && settings.weightDecay() > 0) {
                p.muli(1 - lr * settings.weightDecay());
            }
            p.subi(step);
        }
        return norm;
    }

    long steps() {
        return steps;
    }

    /** Frees the moment arrays. */
    void close() {
        first.values().forEach(LlamaTrainer::free);
        second.values().forEach(LlamaTrainer::free);
    }
}
