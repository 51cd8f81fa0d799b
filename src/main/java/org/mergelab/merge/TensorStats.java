package org.mergelab.merge;

import java.util.List;

/**
 * Weight-norm statistics of one output tensor, gathered while it is merged (no extra read). Norms are L2 over the
 * whole tensor; NaN where a statistic does not apply.
 *
 * @param layer the tensor's output layer, or -1 (embeddings, final norm, lm_head)
 * @param inputs the input models (folder names), in input order
 * @param inputNorms ‖input_i‖
 * @param outMinusBaseNorm ‖out − base‖ (NaN without a base)
 * @param cosines cos(out, input_i)
 * @param interpolationRatio for two-model interpolations with {@code t}: ‖out‖ / ((1−t)‖v0‖ + t‖v1‖), the norm dip
 *     LERP shows and NLERP/DeLERP remove
 * @param maxNormRatio for two-model interpolations: ‖out‖ / max(‖v0‖, ‖v1‖) (1 for DeLERP)
 * @param prunedFraction fraction of task-vector entries zeroed by sparsification (NaN when the method has none)
 * @param signAgreement among elements where at least two task vectors are nonzero, the fraction where all nonzero
 *     ones have the same sign (NaN without a base and two other models)
 * @param inputNonFinite NaN and infinite values read from each input, in input order (norms involving them are NaN)
 * @param outNonFinite NaN and infinite values of the output as written
 */
public record TensorStats(String tensor, int layer, long numel, List<String> inputs, double outNorm,
        double[] inputNorms, double outMinusBaseNorm, double[] cosines, double interpolationRatio,
        double maxNormRatio, double prunedFraction, double signAgreement, List<NonFinite> inputNonFinite,
        NonFinite outNonFinite) {}
