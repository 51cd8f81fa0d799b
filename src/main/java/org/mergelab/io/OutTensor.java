package org.mergelab.io;

import java.util.Arrays;

/** A tensor to be written: everything its header entry needs before any data exists. */
public record OutTensor(String name, DType dtype, long[] shape) {
    public OutTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        return TensorInfo.numel(shape);
    }

    public long byteSize() {
        return Math.multiplyExact(numel(), dtype.width());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OutTensor t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
