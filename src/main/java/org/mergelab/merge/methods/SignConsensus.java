package org.mergelab.merge.methods;

/**
 * TIES sign election and disjoint mixing of one element's contributions {@code D_i} (mergekit's {@code get_mask}):
 * the elected sign is {@code +} when the vote is {@code ≥ 0}; contributions whose sign differs from it, and zero
 * contributions (pruned or equal to the base), are left out of both the sum and the divisor.
 */
enum SignConsensus {
    /** Vote {@code Σ_i D_i} (mergekit's default: weighted deltas, so weights sway the vote). */
    SUM,
    /** Vote {@code Σ_i sign(D_i)} (one vote per model). */
    COUNT;

    static SignConsensus of(String name) {
        return "count".equals(name) ? COUNT : SUM;
    }

    /** +1 or −1: the sign elected by contributions {@code d[0..k)}. */
    double elect(double[] d, int k) {
        double vote = 0;
        if (this == SUM) {
            for (int i = 0; i < k; i++) {
                vote += d[i];
            }
        } else {
            for (int i = 0; i < k; i++) {
                vote += Math.signum(d[i]);
            }
        }
        return vote >= 0 ? 1 : -1;
    }

    /** Whether a contribution agrees with the elected sign (zero never does). */
    static boolean agrees(double d, double sign) {
        return sign > 0 ? d > 0 : d < 0;
    }
}
