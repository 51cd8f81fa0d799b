package org.mergelab.experiment;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.mergelab.eval.Weights;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.OutTensor;
import org.mergelab.merge.TensorSink;

/**
 * Keeps a merge's float tensors in native memory exactly as the shards on disk would hold them (each tensor's output
 * dtype, little-endian, encoded by the same code): evaluating them is evaluating the merge written out, with the same
 * model identity, at the cost of the output's size (half of float32 for bf16). Non-float tensors (integer buffers) are
 * not kept; no graph reads them. Closing frees the memory.
 */
final class MemorySink implements TensorSink, AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final List<OutTensor> outputs;
    private final MemorySegment[] data;

    MemorySink(List<OutTensor> outputs) {
        this.outputs = outputs;
        this.data = new MemorySegment[outputs.size()];
        for (int i = 0; i < data.length; i++) {
            OutTensor t = outputs.get(i);
            if (t.dtype().isFloat()) {
                data[i] = arena.allocate(t.byteSize(), 64);
            }
        }
    }

    @Override
    public int write(int tensor, long offset, float[] values, int n) {
        int width = outputs.get(tensor).dtype().width();
        return FloatCodec.encode(outputs.get(tensor).dtype(), values, n, data[tensor].asSlice(offset * width,
                (long) n * width));
    }

    @Override
    public void copy(int tensor, MemorySegment bytes) {
        // only non-float tensors are copied byte for byte, and evaluation reads float tensors only
    }

    /** The merged float tensors, for a model session; valid until {@link #close()}. */
    Weights weights(String source) {
        Map<OutTensor, MemorySegment> stored = new LinkedHashMap<>();
        for (int i = 0; i < data.length; i++) {
            if (data[i] != null) {
                stored.put(outputs.get(i), data[i]);
            }
        }
        return Weights.of(stored, source);
    }

    @Override
    public void close() {
        arena.close();
    }
}
