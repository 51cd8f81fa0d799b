package org.mergelab.merge;

import java.util.List;

import org.mergelab.io.ModelTensor;
import org.mergelab.io.OutTensor;

/**
 * One output tensor: its inputs (one per model, in input order), its resolved parameters, and whether it is merged
 * or copied from the donor unchanged (non-float tensors such as integer buffers).
 */
public record TensorTask(OutTensor out, List<ModelTensor> inputs, ResolvedParams params, double layerT,
        ModelTensor copyFrom) {
    public boolean isCopy() {
        return copyFrom != null;
    }
}
