package org.mergelab.merge;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelWriter;
import org.mergelab.io.OutTensor;

/** Narrows merged float32 chunks to each tensor's output dtype and writes them in place through a {@link ModelWriter}. */
public final class SafetensorsSink implements TensorSink {
    /** Raw copies go out in pieces of this many bytes. */
    private static final long COPY_PIECE = 8L << 20;

    private final ModelWriter writer;

    public SafetensorsSink(ModelWriter writer) {
        this.writer = writer;
    }

    @Override
    public int write(int tensor, long offset, float[] values, int n) {
        OutTensor t = writer.tensors().get(tensor);
        int width = t.dtype().width();
        // straight into the window that goes to disk, when the chunk lies within one (all but ~1 in 16 of them)
        ByteBuffer inPlace = writer.reserve(tensor, offset * width, n * width);
        if (inPlace != null) {
            int largest = FloatCodec.encode(t.dtype(), values, n, MemorySegment.ofBuffer(inPlace));
            writer.commit(tensor, offset * width, n * width);
            return largest;
        }
        ByteBuffer buf = writer.buffer(n * width);
        int largest = FloatCodec.encode(t.dtype(), values, n, MemorySegment.ofBuffer(buf));
        writer.writeLater(tensor, offset * width, buf); // the worker goes on while the writer's thread writes
        return largest;
    }

    @Override
    public void copy(int tensor, MemorySegment bytes) {
        long size = bytes.byteSize();
        for (long pos = 0; pos < size; pos += COPY_PIECE) {
            long len = Math.min(COPY_PIECE, size - pos);
            writer.write(tensor, pos, bytes.asSlice(pos, len).asByteBuffer());
        }
    }
}
