package org.mergelab.merge;

/**
 * How a tensor is cut into vectors for row- or column-wise methods. Rows: runs of the last dimension (contiguous).
 * Columns: slices along the first dimension, i.e. elements {@code j, j + cols, j + 2·cols, …}.
 */
public record VectorLayout(long count, long length, boolean contiguous) {
    /** One vector per slice along the last axis ({@code W[i, :]}); a 1-D tensor is a single vector. */
    public static VectorLayout rows(long[] shape) {
        long numel = org.mergelab.io.TensorInfo.numel(shape);
        long len = shape.length == 0 ? 1 : shape[shape.length - 1];
        return new VectorLayout(len == 0 ? 0 : numel / len, len, true);
    }

    /** One vector per position of the trailing axes, running along the first axis ({@code W[:, j]}). */
    public static VectorLayout columns(long[] shape) {
        if (shape.length <= 1) {
            return rows(shape);
        }
        long numel = org.mergelab.io.TensorInfo.numel(shape);
        long first = shape[0];
        return new VectorLayout(first == 0 ? 0 : numel / first, first, false);
    }

    /** The vector that flat element {@code flat} belongs to. */
    public long vectorOf(long flat) {
        return contiguous ? flat / length : flat % count;
    }
}
