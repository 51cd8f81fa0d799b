package org.mergelab.merge;

import java.util.List;

import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.io.OutTensor;

/**
 * Everything a merge will do, decided and validated before any tensor data is read: one task per output tensor, in
 * the donor model's storage order.
 *
 * @param models every distinct input model, with the global base
 * @param folders the input models, in the order of {@code models}
 * @param donor index of the model whose config.json and tokenizer the output takes (the base, else the first)
 * @param outputLayers the output's layer count when slices restack layers, else -1 (unchanged)
 * @param warnings found while planning (e.g. filters that match nothing)
 */
public record MergePlan(MergeConfig config, MergeMethod method, MergeMethod.ModelSet models,
        List<ModelFolder> folders, int donor, List<TensorTask> tasks, int outputLayers, List<String> warnings) {

    public List<OutTensor> outputs() {
        return tasks.stream().map(TensorTask::out).toList();
    }

    /**
     * Whether every input tensor is read as its stored bf16 elements, unchanged (no {@code dtype:} rounding on load):
     * the passes that read stored bf16 then apply to every tensor.
     */
    public boolean readsStoredBf16() {
        for (TensorTask t : tasks) {
            for (ModelTensor input : t.inputs()) {
                if (!TensorSource.readsStoredBf16(input.dtype(), config.dtype())) {
                    return false;
                }
            }
        }
        return true;
    }

    public long outputBytes() {
        long n = 0;
        for (TensorTask t : tasks) {
            n += t.out().byteSize();
        }
        return n;
    }
}
