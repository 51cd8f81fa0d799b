package org.mergelab.experiment;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.mergelab.eval.Weights;
import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.OutTensor;
import org.mergelab.merge.TensorSink;

/**
 * Keeps a merge's float tensors in memory as float32 arrays, each value rounded to the tensor's output dtype as the
 * shards on disk would hold it: evaluating these arrays is evaluating the merge written out, with the same model
 * identity. Non-float tensors (integer buffers) are not kept; no graph reads them.
 */
final class FloatArraySink implements TensorSink {
    private final List<OutTensor> outputs;
    private final float[][] values;

    FloatArraySink(List<OutTensor> outputs) {
        this.outputs = outputs;
        this.values = new float[outputs.size()][];
        for (int i = 0; i < values.length; i++) {
            OutTensor t = outputs.get(i);
            if (t.dtype().isFloat()) {
                values[i] = new float[Math.toIntExact(t.numel())];
            }
        }
    }

    @Override
    public void write(int tensor, long offset, float[] chunk, int n) {
        float[] dst = values[tensor];
        var dtype = outputs.get(tensor).dtype();
        int at = Math.toIntExact(offset);
        if (dtype == DType.F32) {
            System.arraycopy(chunk, 0, dst, at, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            dst[at + i] = FloatCodec.roundTo(dtype, chunk[i]);
        }
    }

    @Override
    public void copy(int tensor, MemorySegment bytes) {
        // only non-float tensors are copied byte for byte, and evaluation reads float tensors only
    }

    /** The merged float tensors by name, for a model session. */
    Weights weights(String source) {
        Map<String, float[]> byName = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                byName.put(outputs.get(i).name(), values[i]);
                shapes.put(outputs.get(i).name(), outputs.get(i).shape());
            }
        }
        return Weights.of(byName, shapes, source);
    }
}
