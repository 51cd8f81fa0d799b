package org.mergelab.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tensor larger than 2 GiB maps as one segment and reads correctly past the 2^31 byte mark (sparse file). */
class LargeTensorTest {
    @Test
    void readsElementsBeyondTwoGiB(@TempDir Path dir) throws IOException {
        long numel = 700_000_000L; // 2.8 GB of F32
        String json = "{\"big\":{\"dtype\":\"F32\",\"shape\":[" + numel + "],\"data_offsets\":[0," + numel * 4 + "]}}";
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("big.safetensors");
        long dataStart = 8 + header.length;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SPARSE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(header.length).put(header).flip();
            ch.write(head, 0);
            ByteBuffer tail = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            tail.putFloat(1.5f).putFloat(-2.25f).flip();
            ch.write(tail, dataStart + (numel - 2) * 4); // the last two elements; the rest is a hole (zeros)
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            TensorInfo t = f.tensor("big");
            assertEquals(numel * 4, f.data(t).byteSize());
            float[] out = new float[4];
            FloatCodec.decode(DType.F32, f.data(t), numel - 4, out, 4);
            assertEquals(0f, out[0]);
            assertEquals(0f, out[1]);
            assertEquals(1.5f, out[2]);
            assertEquals(-2.25f, out[3]);
            FloatCodec.decode(DType.F32, f.data(t), (1L << 31) / 4 + 3, out, 4);
            assertEquals(0f, out[3]);
        }
    }
}
