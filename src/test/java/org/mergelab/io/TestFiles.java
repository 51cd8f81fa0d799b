package org.mergelab.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.function.Executable;
import org.mergelab.BadInputException;

/** Helpers shared by the io tests: hand-built safetensors files and small models. */
final class TestFiles {
    private TestFiles() {}

    static final Map<String, String> PT = Map.of("format", "pt");

    /** 8-byte little-endian header length, then the header bytes, then the data. */
    static byte[] raw(long headerLength, byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(header).put(data);
        return b.array();
    }

    /** A well-formed frame around {@code json} (its true length) and {@code data}. */
    static byte[] st(String json, byte[] data) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return raw(h.length, h, data);
    }

    static Path write(Path dir, String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    static byte[] bytes(MemorySegment s) {
        return s.byteSize() == 0 ? new byte[0] : s.toArray(ValueLayout.JAVA_BYTE);
    }

    static byte[] randomBytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    /** Asserts {@code body} throws a {@link BadInputException} naming {@code file} and containing every fragment. */
    static BadInputException assertBad(Path file, Executable body, String... fragments) {
        BadInputException e = assertThrows(BadInputException.class, body);
        String m = e.getMessage();
        assertTrue(m.contains(file.toString()), () -> "message should name " + file + ": " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), () -> "message should contain '" + f + "': " + m);
        }
        assertEquals(-1, m.indexOf('\n'), () -> "message should be one line: " + m);
        return e;
    }

    /**
     * Writes a model (config.json plus weights via {@link ModelWriter}) whose tensor {@code i} holds
     * {@code data.get(i)}; returns the writer's shard count.
     */
    static int writeModel(Path dir, List<OutTensor> tensors, List<byte[]> data, long maxShardBytes)
            throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(ModelFolder.CONFIG),
                "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"hidden_size\": 8, \"rms_norm_eps\": 1e-06}");
        try (ModelWriter w = ModelWriter.create(dir, tensors, maxShardBytes, PT)) {
            for (int i = 0; i < tensors.size(); i++) {
                w.write(i, 0, ByteBuffer.wrap(data.get(i)));
            }
            w.finish();
            return w.shardCount();
        }
    }
}
