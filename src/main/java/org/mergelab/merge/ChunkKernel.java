package org.mergelab.merge;

/** The elementwise half of a merge: turns one chunk of the inputs into the same chunk of the output. */
@FunctionalInterface
public interface ChunkKernel {
    /**
     * @param offset flat index of element 0 of the chunk within the tensor
     * @param in {@code in[i][j]} is input i's element {@code offset + j}, for {@code j < length}
     * @param out receives the output elements {@code out[0..length)}
     */
    void apply(long offset, float[][] in, float[] out, int length);
}
