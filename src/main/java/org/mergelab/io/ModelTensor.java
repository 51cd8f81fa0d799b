package org.mergelab.io;

import java.lang.foreign.MemorySegment;

/** A tensor of a model folder: its header entry and the shard that holds it. */
public record ModelTensor(TensorInfo info, SafetensorsFile file) {
    public String name() {
        return info.name();
    }

    public DType dtype() {
        return info.dtype();
    }

    /** Zero-copy view of the tensor's bytes. */
    public MemorySegment data() {
        return file.data(info);
    }
}
