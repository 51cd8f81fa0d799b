package org.mergelab.eval;

import java.nio.charset.StandardCharsets;

/**
 * The protobuf wire format, just what ONNX needs: varints (wire type 0), 64-bit little-endian (1), length-delimited
 * bytes, strings and nested messages (2), 32-bit little-endian (5). Nested messages are written into their own
 * writer and copied in, so no size has to be known up front.
 */
final class ProtoWriter {
    private final Buffer out = new Buffer();

    private void tag(int field, int wireType) {
        varint(((long) field << 3) | wireType);
    }

    private void varint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    /** int32/int64/enum/bool field; negative values take ten bytes, as protobuf sign-extends them. */
    ProtoWriter int64(int field, long value) {
        tag(field, 0);
        varint(value);
        return this;
    }

    ProtoWriter float32(int field, float value) {
        tag(field, 5);
        int bits = Float.floatToRawIntBits(value);
        for (int i = 0; i < 4; i++) {
            out.write(bits >>> (8 * i));
        }
        return this;
    }

    ProtoWriter bytes(int field, byte[] value) {
        tag(field, 2);
        varint(value.length);
        out.writeBytes(value);
        return this;
    }

    ProtoWriter string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    ProtoWriter message(int field, ProtoWriter nested) {
        tag(field, 2);
        varint(nested.out.size());
        nested.out.writeTo0(out);
        return this;
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    int size() {
        return out.size();
    }

    /** A byte buffer that copies itself into another without the checked exception of writeTo. */
    private static final class Buffer extends java.io.ByteArrayOutputStream {
        void writeTo0(Buffer target) {
            target.write(buf, 0, count);
        }
    }
}
