package org.mergelab.merge;

import java.lang.foreign.MemorySegment;

/** The elementwise half of a merge: turns one chunk of the inputs into the same chunk of the output. */
@FunctionalInterface
public interface ChunkKernel {
    /**
     * @param offset flat index of element 0 of the chunk within the tensor
     * @param in {@code in[i][j]} is input i's element {@code offset + j}, for {@code j < length}
     * @param out receives the output elements {@code out[0..length)}
     */
    void apply(long offset, float[][] in, float[] out, int length);

    /**
     * {@link #apply} reading the inputs' stored bf16 elements straight from memory, when every input is stored as bf16
     * and read unchanged: {@code bf16[i]} is input i's whole tensor, the chunk its elements
     * {@code [offset, offset + length)}. Sets {@code largest[i]} to input i's largest magnitude bits in the chunk, as
     * {@link org.mergelab.io.FloatCodec#decode} reports them. Returns false, having written nothing to
     * {@code largest}, to get the chunk decoded and passed to {@link #apply} instead.
     */
    default boolean applyBf16(long offset, MemorySegment[] bf16, float[] out, int length, int[] largest) {
        return false;
    }
}
