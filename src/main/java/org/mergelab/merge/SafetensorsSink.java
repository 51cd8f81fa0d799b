package org.mergelab.merge;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelWriter;
import org.mergelab.io.OutTensor;

/** Narrows merged float32 chunks to each tensor's output dtype and writes them in place through a {@link ModelWriter}. */
public final class SafetensorsSink implements TensorSink {
    /** Raw copies go out in pieces of this many bytes. */
    private static final long COPY_PIECE = 8L << 20;

    private final ModelWriter writer;
    private final ThreadLocal<ByteBuffer> buffers = new ThreadLocal<>();

    public SafetensorsSink(ModelWriter writer) {
        this.writer = writer;
    }

    @Override
    public int write(int tensor, long offset, float[] values, int n) {
        OutTensor t = writer.tensors().get(tensor);
        int width = t.dtype().width();
        ByteBuffer buf = buffer(n * width);
        int largest = FloatCodec.encode(t.dtype(), values, n, MemorySegment.ofBuffer(buf));
        writer.write(tensor, offset * width, buf);
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

    private ByteBuffer buffer(int bytes) {
        ByteBuffer b = buffers.get();
        if (b == null || b.capacity() < bytes) {
            b = ByteBuffer.allocateDirect(Math.max(bytes, 1 << 16)).order(ByteOrder.LITTLE_ENDIAN);
            buffers.set(b);
        }
        b.clear().limit(bytes);
        return b;
    }
}
