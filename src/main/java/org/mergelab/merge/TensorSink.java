package org.mergelab.merge;

import java.lang.foreign.MemorySegment;

/** Where merged tensors go: shards on disk, or memory for evaluation. Calls for disjoint ranges come from any thread. */
public interface TensorSink {
    /**
     * Elements {@code [offset, offset + n)} of output tensor {@code tensor}, as float32; returns their largest magnitude
     * as float bits without the sign, as {@link org.mergelab.io.FloatCodec#encode} finds it while narrowing them (the
     * engine's non-finite check of the output).
     */
    int write(int tensor, long offset, float[] values, int n);

    /** The whole tensor {@code tensor}, copied byte for byte (non-float tensors). */
    void copy(int tensor, MemorySegment bytes);
}
