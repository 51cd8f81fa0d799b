package org.mergelab.merge;

import java.util.List;

import org.mergelab.io.ModelTensor;
import org.mergelab.io.OutTensor;

/**
 * One output tensor: its inputs (one per source, in source order), which input is the base (-1: none), its resolved
 * parameters, and whether it is merged or copied unchanged (non-float tensors such as integer buffers). An input whose
 * shape is larger than the output's (a bigger vocabulary) is read cropped to its top-left corner.
 */
public record TensorTask(OutTensor out, List<ModelTensor> inputs, int baseIndex, ResolvedParams params,
        double layerT, ModelTensor copyFrom) {
    public boolean isCopy() {
        return copyFrom != null;
    }
}
