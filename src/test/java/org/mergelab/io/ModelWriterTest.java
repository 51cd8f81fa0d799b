package org.mergelab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mergelab.io.TestFiles.PT;
import static org.mergelab.io.TestFiles.randomBytes;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class ModelWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static OutTensor out(String name, DType t, long... shape) {
        return new OutTensor(name, t, shape);
    }

    private static List<byte[]> randomData(List<OutTensor> ts, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<byte[]> data = new ArrayList<>();
        for (OutTensor t : ts) {
            data.add(randomBytes(r, Math.toIntExact(t.byteSize())));
        }
        return data;
    }

    private static void writeAll(Path d, List<OutTensor> ts, List<byte[]> data, long maxShard) throws IOException {
        try (ModelWriter w = ModelWriter.create(d, ts, maxShard, PT)) {
            for (int i = 0; i < ts.size(); i++) {
                w.write(i, 0, ByteBuffer.wrap(data.get(i)));
            }
            w.finish();
        }
    }

    private static List<String> files(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Parses the raw header of a written file and checks the padding rules. */
    private static JsonNode rawHeader(Path p) throws IOException {
        byte[] all = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header length multiple of 8");
        assertEquals(0, (8 + n) % 8, "data region aligned");
        String h = new String(all, 8, (int) n, StandardCharsets.UTF_8);
        String trimmed = h.stripTrailing();
        assertTrue(trimmed.endsWith("}"), h);
        assertTrue(h.length() - trimmed.length() < 8, "at most 7 pad bytes");
        for (int i = trimmed.length(); i < h.length(); i++) {
            assertEquals(' ', h.charAt(i), "padding is spaces");
        }
        return JSON.readTree(trimmed);
    }

    @Test
    void roundTripAllDtypesBitExact() throws IOException {
        List<OutTensor> ts = List.of(out("model.embed.weight", DType.BF16, 7, 3), out("f32", DType.F32, 2, 3),
                out("f16", DType.F16, 5), out("f64", DType.F64, 3), out("ids", DType.I64, 2),
                out("i32", DType.I32, 3), out("i16", DType.I16, 1), out("i8", DType.I8, 3),
                out("u8", DType.U8, 1, 1, 5), out("mask", DType.BOOL, 3), out("scalar", DType.F32),
                out("empty", DType.BF16, 0, 4), out("caf\u00e9", DType.U8, 2));
        List<byte[]> data = randomData(ts, 1);
        // make sure float patterns include NaN payloads, Inf and subnormals: raw bytes must pass untouched
        ByteBuffer.wrap(data.get(1)).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0x7F800001).putInt(4, 0xFF800000)
                .putInt(8, 0x00000001);
        data.set(9, new byte[] {1, 0, 1});
        writeAll(dir, ts, data, Long.MAX_VALUE);
        assertEquals(List.of("model.safetensors"), files(dir));
        Path p = dir.resolve(ModelFolder.SINGLE);

        JsonNode h = rawHeader(p);
        assertEquals("pt", h.get("__metadata__").get("format").asText());
        assertEquals(1, h.get("__metadata__").size());
        assertEquals("BF16", h.get("model.embed.weight").get("dtype").asText());
        assertEquals("[7,3]", h.get("model.embed.weight").get("shape").toString());
        assertEquals("[0,42]", h.get("model.embed.weight").get("data_offsets").toString());
        assertEquals("[]", h.get("scalar").get("shape").toString());

        long total = 0;
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(ts.size(), f.tensors().size());
            for (int i = 0; i < ts.size(); i++) {
                TensorInfo ti = f.tensors().get(i);
                OutTensor t = ts.get(i);
                assertEquals(t.name(), ti.name(), "writer order kept");
                assertEquals(t.dtype(), ti.dtype());
                assertArrayEquals(t.shape(), ti.shape());
                assertEquals(total, ti.begin());
                total += t.byteSize();
                assertArrayEquals(data.get(i), TestFiles.bytes(f.data(ti)), t.name());
            }
            assertEquals(Files.size(p), f.dataStart() + total);
        }
    }

    @Test
    void encodedFloatsRoundTripThroughCodec() throws IOException {
        int n = 1001;
        float[] src = new float[n];
        Random r = new Random(5);
        for (int i = 0; i < n; i++) {
            src[i] = (float) r.nextGaussian() * 10;
        }
        List<OutTensor> ts = List.of(out("a", DType.BF16, n), out("b", DType.F16, n), out("c", DType.F32, n));
        try (ModelWriter w = ModelWriter.create(dir, ts, 1 << 20, PT); Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < ts.size(); i++) {
                MemorySegment seg = arena.allocate(ts.get(i).byteSize());
                FloatCodec.encode(ts.get(i).dtype(), src, n, seg);
                w.write(i, 0, seg.asByteBuffer());
            }
            w.finish();
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(ModelFolder.SINGLE))) {
            for (TensorInfo ti : f.tensors()) {
                float[] back = new float[n];
                FloatCodec.decode(ti.dtype(), f.data(ti), 0, back, n);
                for (int i = 0; i < n; i++) {
                    assertEquals(FloatCodec.roundTo(ti.dtype(), src[i]), back[i], ti.name() + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void emptyMetadataOmitsKeyAndNoTensorsStillValid() throws IOException {
        try (ModelWriter w = ModelWriter.create(dir, List.of(), 100, Map.of())) {
            assertEquals(1, w.shardCount());
            w.finish();
        }
        Path p = dir.resolve(ModelFolder.SINGLE);
        assertEquals(16, Files.size(p)); // 8 + "{}" padded to 8
        assertFalse(rawHeader(p).has("__metadata__"));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(0, f.tensors().size());
        }
    }

    @Test
    void shardsByBytesWithIndex() throws IOException {
        List<OutTensor> ts = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ts.add(out("layer." + i + ".w", DType.F32, 4)); // 16 bytes each
        }
        List<byte[]> data = randomData(ts, 2);
        // 16+16 = 32 fits in 40; a third would be 48 > 40
        try (ModelWriter w = ModelWriter.create(dir, ts, 40, PT)) {
            assertEquals(3, w.shardCount());
            assertEquals(ts, w.tensors());
            for (int i = 0; i < ts.size(); i++) {
                w.write(i, 0, ByteBuffer.wrap(data.get(i)));
            }
            w.finish();
        }
        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors", "model.safetensors.index.json"), files(dir));
        JsonNode index = JSON.readTree(dir.resolve(ModelFolder.INDEX).toFile());
        assertEquals(80, index.get("metadata").get("total_size").asLong());
        JsonNode map = index.get("weight_map");
        assertEquals(5, map.size());
        String[] expected = {"model-00001-of-00003.safetensors", "model-00001-of-00003.safetensors",
                "model-00002-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors"};
        for (int i = 0; i < 5; i++) {
            assertEquals(expected[i], map.get("layer." + i + ".w").asText());
        }
        for (int s = 1; s <= 3; s++) {
            Path shard = dir.resolve(String.format(Locale.ROOT, "model-%05d-of-00003.safetensors", s));
            assertEquals("pt", rawHeader(shard).get("__metadata__").get("format").asText());
            try (SafetensorsFile f = SafetensorsFile.open(shard)) {
                for (TensorInfo ti : f.tensors()) {
                    int i = Integer.parseInt(ti.name().split("\\.")[1]);
                    assertEquals(expected[i], shard.getFileName().toString());
                    assertArrayEquals(data.get(i), TestFiles.bytes(f.data(ti)));
                }
                assertEquals(s == 3 ? 1 : 2, f.tensors().size());
            }
        }
    }

    @Test
    void exactFitStaysInOneShard() throws IOException {
        List<OutTensor> ts = List.of(out("a", DType.F32, 4), out("b", DType.F32, 4), out("c", DType.F32, 4));
        try (ModelWriter w = ModelWriter.create(dir, ts, 32, PT)) {
            assertEquals(2, w.shardCount()); // a+b = 32 exactly, c starts a new shard
        }
        try (ModelWriter w = ModelWriter.create(Files.createDirectory(dir.resolve("x")), ts, 48, PT)) {
            assertEquals(1, w.shardCount());
        }
    }

    @Test
    void oversizedTensorGetsOwnShard() throws IOException {
        List<OutTensor> ts = List.of(out("small0", DType.U8, 10), out("big", DType.U8, 100), out("small1", DType.U8, 10),
                out("small2", DType.U8, 10), out("big2", DType.U8, 50));
        List<byte[]> data = randomData(ts, 3);
        writeAll(dir, ts, data, 25);
        JsonNode map = JSON.readTree(dir.resolve(ModelFolder.INDEX).toFile()).get("weight_map");
        assertEquals("model-00001-of-00004.safetensors", map.get("small0").asText());
        assertEquals("model-00002-of-00004.safetensors", map.get("big").asText());
        assertEquals("model-00003-of-00004.safetensors", map.get("small1").asText());
        assertEquals("model-00003-of-00004.safetensors", map.get("small2").asText());
        assertEquals("model-00004-of-00004.safetensors", map.get("big2").asText());
        assertEquals(180, JSON.readTree(dir.resolve(ModelFolder.INDEX).toFile()).get("metadata").get("total_size")
                .asLong());
        // weight_map lists tensors in writer order
        List<String> keys = new ArrayList<>();
        map.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("small0", "big", "small1", "small2", "big2"), keys);
    }

    @Test
    void firstTensorOversized() throws IOException {
        List<OutTensor> ts = List.of(out("big", DType.U8, 100), out("a", DType.U8, 10), out("b", DType.U8, 10));
        try (ModelWriter w = ModelWriter.create(dir, ts, 25, PT)) {
            assertEquals(2, w.shardCount());
        }
        assertEquals(List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"), files(dir));
    }

    @Test
    void singleShardHasNoIndex() throws IOException {
        List<OutTensor> ts = List.of(out("a", DType.F32, 4), out("b", DType.BF16, 4));
        writeAll(dir, ts, randomData(ts, 4), 1000);
        assertEquals(List.of("model.safetensors"), files(dir));
    }

    @Test
    void shardNamesIgnoreDefaultLocale() throws IOException {
        Locale saved = Locale.getDefault();
        try {
            Locale.setDefault(Locale.forLanguageTag("ar-EG")); // formats %d with Arabic-Indic digits
            List<OutTensor> ts = List.of(out("a", DType.U8, 8), out("b", DType.U8, 8));
            writeAll(dir, ts, randomData(ts, 6), 8);
        } finally {
            Locale.setDefault(saved);
        }
        assertEquals(List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                "model.safetensors.index.json"), files(dir));
    }

    @Test
    void concurrentChunkedWritesInAnyOrderGiveIdenticalBytes() throws Exception {
        List<OutTensor> ts = List.of(out("a", DType.BF16, 300, 301), out("b", DType.F32, 1000),
                out("c", DType.I64, 77), out("d", DType.F16, 5000), out("e", DType.U8, 3));
        List<byte[]> data = randomData(ts, 7);
        Path seq = Files.createDirectory(dir.resolve("seq"));
        Path par = Files.createDirectory(dir.resolve("par"));
        writeAll(seq, ts, data, 100_000);

        record Chunk(int tensor, int offset, int length) {}
        List<Chunk> chunks = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(8);
        for (int i = 0; i < ts.size(); i++) {
            int size = data.get(i).length;
            for (int off = 0; off < size;) {
                int len = Math.min(size - off, 1 + r.nextInt(5000));
                chunks.add(new Chunk(i, off, len));
                off += len;
            }
        }
        Collections.shuffle(chunks, new Random(9));
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try (ModelWriter w = ModelWriter.create(par, ts, 100_000, PT)) {
            assertEquals(2, w.shardCount());
            List<Future<?>> fs = new ArrayList<>();
            for (Chunk c : chunks) {
                fs.add(pool.submit(() -> {
                    // a buffer whose position is not 0: only the remaining bytes are written
                    byte[] padded = new byte[c.length() + 3];
                    System.arraycopy(data.get(c.tensor()), c.offset(), padded, 3, c.length());
                    w.write(c.tensor(), c.offset(), ByteBuffer.wrap(padded, 3, c.length()));
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            w.finish();
        } finally {
            pool.shutdown();
        }
        assertEquals(files(seq), files(par));
        for (String f : files(seq)) {
            assertEquals(-1, Files.mismatch(seq.resolve(f), par.resolve(f)), f);
        }
        try (ModelFolder m = ModelFolder.open(withConfig(par))) {
            for (int i = 0; i < ts.size(); i++) {
                assertArrayEquals(data.get(i), TestFiles.bytes(m.tensor(ts.get(i).name()).data()));
            }
        }
    }

    private static Path withConfig(Path d) throws IOException {
        Files.writeString(d.resolve(ModelFolder.CONFIG), "{}");
        return d;
    }

    @Test
    void finishFailsWhenTensorIncomplete() throws IOException {
        List<OutTensor> ts = List.of(out("a", DType.F32, 4), out("b", DType.F32, 4), out("c", DType.F32, 4));
        try (ModelWriter w = ModelWriter.create(dir, ts, 20, PT)) {
            w.write(0, 0, ByteBuffer.allocate(16));
            w.write(1, 0, ByteBuffer.allocate(8)); // half of b
            w.write(2, 0, ByteBuffer.allocate(16));
            IllegalStateException e = assertThrows(IllegalStateException.class, w::finish);
            assertTrue(e.getMessage().contains("b") && e.getMessage().contains("8 of 16"), e.getMessage());
        }
        assertFalse(Files.exists(dir.resolve(ModelFolder.INDEX)), "no index for an unfinished model");
    }

    @Test
    void finishFailsWhenTensorNeverWritten() throws IOException {
        try (ModelWriter w = ModelWriter.create(dir, List.of(out("only", DType.BF16, 3)), 100, PT)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, w::finish);
            assertTrue(e.getMessage().contains("only") && e.getMessage().contains("0 of 6"), e.getMessage());
        }
    }

    @Test
    void writesOutOfBoundsRejected() throws IOException {
        try (ModelWriter w = ModelWriter.create(dir, List.of(out("a", DType.F32, 4)), 100, PT)) {
            assertThrows(IllegalArgumentException.class, () -> w.write(0, 1, ByteBuffer.allocate(16)));
            assertThrows(IllegalArgumentException.class, () -> w.write(0, -1, ByteBuffer.allocate(1)));
            assertThrows(IllegalArgumentException.class, () -> w.write(0, 16, ByteBuffer.allocate(1)));
            w.write(0, 16, ByteBuffer.allocate(0)); // empty write at the end is fine
            w.write(0, 0, ByteBuffer.allocate(16));
            w.finish();
        }
        Path p = dir.resolve(ModelFolder.SINGLE);
        assertEquals(8 + rawHeaderLength(p) + 16, Files.size(p));
    }

    private static long rawHeaderLength(Path p) throws IOException {
        byte[] all = Files.readAllBytes(p);
        return ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Test
    void refusesToOverwrite() throws IOException {
        Path existing = dir.resolve(ModelFolder.SINGLE);
        Files.writeString(existing, "precious");
        List<OutTensor> ts = List.of(out("a", DType.F32, 4));
        assertThrows(FileAlreadyExistsException.class, () -> ModelWriter.create(dir, ts, 100, PT));
        assertEquals("precious", Files.readString(existing));

        Path d2 = Files.createDirectory(dir.resolve("d2"));
        Path shard = d2.resolve("model-00002-of-00002.safetensors");
        Files.writeString(shard, "old shard");
        List<OutTensor> two = List.of(out("a", DType.F32, 4), out("b", DType.F32, 4));
        assertThrows(FileAlreadyExistsException.class, () -> ModelWriter.create(d2, two, 16, PT));
        assertEquals("old shard", Files.readString(shard));
    }

    @Test
    void refusesToMixWithAnExistingIndexOrSingleFile() throws IOException {
        List<OutTensor> two = List.of(out("a", DType.F32, 4), out("b", DType.F32, 4));
        Files.writeString(dir.resolve(ModelFolder.INDEX), "{\"weight_map\":{}}");
        assertThrows(FileAlreadyExistsException.class, () -> ModelWriter.create(dir, two, 16, PT));
        assertEquals("{\"weight_map\":{}}", Files.readString(dir.resolve(ModelFolder.INDEX)));
        assertEquals(List.of(ModelFolder.INDEX), files(dir), "no shard files left behind");

        Path d2 = Files.createDirectory(dir.resolve("d2"));
        Files.writeString(d2.resolve(ModelFolder.SINGLE), "old");
        // sharded output next to an old model.safetensors: readers would load the old file
        assertThrows(FileAlreadyExistsException.class, () -> ModelWriter.create(d2, two, 16, PT));
        assertEquals(List.of(ModelFolder.SINGLE), files(d2));
    }

    @Test
    void invalidTensorListsRejected() {
        assertThrows(IllegalArgumentException.class, () -> ModelWriter.create(dir, List.of(), 0, PT));
        assertThrows(IllegalArgumentException.class,
                () -> ModelWriter.create(dir, List.of(out("a", DType.F32, 1), out("a", DType.F32, 2)), 100, PT));
        assertThrows(IllegalArgumentException.class,
                () -> ModelWriter.create(dir, List.of(out("__metadata__", DType.F32, 1)), 100, PT));
        assertThrows(IllegalArgumentException.class,
                () -> ModelWriter.create(dir, List.of(out("neg", DType.F32, -2, -3)), 100, PT));
        assertTrue(dir.toFile().list().length == 0, "nothing created");
    }

    @Test
    void metadataOrderAndValuesKept() throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("mergelab", "ties \"quoted\"");
        try (ModelWriter w = ModelWriter.create(dir, List.of(out("a", DType.U8, 1)), 100, meta)) {
            w.write(0, 0, ByteBuffer.wrap(new byte[] {7}));
            w.finish();
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(ModelFolder.SINGLE))) {
            assertEquals(meta, f.metadata());
        }
    }
}
