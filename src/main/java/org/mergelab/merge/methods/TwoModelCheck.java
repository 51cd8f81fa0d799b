package org.mergelab.merge.methods;

import org.mergelab.BadInputException;
import org.mergelab.merge.MergeMethod.ModelSet;

/** The model-set rule of the base-to-other interpolations (slerp, nlerp, delerp, nearswap). */
final class TwoModelCheck {
    private TwoModelCheck() {}

    static void baseAndOne(String method, ModelSet models) {
        if (!models.hasBase()) {
            throw new BadInputException(method + " needs base_model: it is the t = 0 end of the interpolation");
        }
        if (models.count() != 2) {
            throw new BadInputException(method + " merges exactly two models (base_model at t = 0 and one other at t = 1);"
                    + " got " + models.count() + " " + models.names());
        }
    }
}
