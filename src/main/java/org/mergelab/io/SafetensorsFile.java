package org.mergelab.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.mergelab.BadInputException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * A safetensors file, validated like the Hugging Face reference and memory-mapped read-only.
 *
 * <pre>
 * u64 LE  N                      header length in bytes (at most 100,000,000)
 * u8[N]   header                 UTF-8 JSON object, optionally right-padded with spaces:
 *                                {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [b, e]}, ...}
 * u8[..]  data                   tensors back to back; offsets relative to here, sorted they tile it exactly
 * </pre>
 *
 * The mapping lives in a shared arena (chunks are read from worker threads) and is released by {@link #close()}.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation's MAX_HEADER_SIZE. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** JSON as HF tools write it: two-space indent. */
    public static String jsonPretty(Object node) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private final Path path;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> byName;
    private final Map<String, String> metadata;
    private final long dataStart;
    private final Arena arena;
    private final MemorySegment data;

    private SafetensorsFile(Path path, List<TensorInfo> tensors, Map<String, String> metadata, long dataStart,
            Arena arena, MemorySegment data) {
        this.path = path;
        this.tensors = List.copyOf(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
        this.dataStart = dataStart;
        this.arena = arena;
        this.data = data;
        Map<String, TensorInfo> m = new LinkedHashMap<>();
        for (TensorInfo t : tensors) {
            m.put(t.name(), t);
        }
        this.byName = Collections.unmodifiableMap(m);
    }

    /** Opens, validates and maps {@code path}; malformed files raise {@link BadInputException} naming the file. */
    public static SafetensorsFile open(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            Header header = readHeader(path, ch, size);
            long dataStart = 8 + header.headerLength;
            long dataLength = size - dataStart;
            Arena arena = Arena.ofShared();
            try {
                MemorySegment data = dataLength == 0 ? MemorySegment.NULL
                        : ch.map(FileChannel.MapMode.READ_ONLY, dataStart, dataLength, arena);
                return new SafetensorsFile(path, header.tensors, header.metadata, dataStart, arena, data);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new BadInputException(path + ": file not found");
        }
    }

    /** Reads and validates only the header (no mapping). */
    public static List<TensorInfo> readTensorInfos(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return readHeader(path, ch, ch.size()).tensors;
        } catch (NoSuchFileException e) {
            throw new BadInputException(path + ": file not found");
        }
    }

    private record Header(long headerLength, List<TensorInfo> tensors, Map<String, String> metadata) {}

    /** Reads bytes at a position until the buffer is full (a file channel, or memory in tests and fuzzing). */
    @FunctionalInterface
    interface ByteReader {
        void readFully(ByteBuffer into, long position) throws IOException;
    }

    /**
     * Validates a whole safetensors file held in memory, as {@link #open} would; for fuzzing the header parser
     * without files. Returns the tensors in offset order.
     */
    static List<TensorInfo> parse(Path label, byte[] file) throws IOException {
        return readHeader(label, (into, pos) -> {
            int n = into.remaining();
            if (pos + n > file.length) {
                throw new IOException("unexpected end of file");
            }
            into.put(file, (int) pos, n);
        }, file.length).tensors;
    }

    private static Header readHeader(Path path, FileChannel ch, long size) throws IOException {
        return readHeader(path, (into, pos) -> readFully(ch, into, pos), size);
    }

    private static Header readHeader(Path path, ByteReader ch, long size) throws IOException {
        if (size < 8) {
            throw bad(path, "file is " + size + " bytes; expected at least 8 (the header length)");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        ch.readFully(lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw bad(path, "header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_BYTES
                    + " bytes");
        }
        if (n > size - 8) {
            throw bad(path, "header length " + n + " runs past the end of the " + size + "-byte file");
        }
        if (n < 2) {
            throw bad(path, "header length " + n + " is too short for a JSON object");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
        ch.readFully(headerBuf, 8);
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(headerBuf.flip()).toString();
        } catch (CharacterCodingException e) {
            throw bad(path, "header is not valid UTF-8");
        }
        if (json.charAt(0) != '{') {
            throw bad(path, "header does not start with '{'; expected a JSON object");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw bad(path, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw bad(path, "header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> tensors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals("__metadata__")) {
                readMetadata(path, e.getValue(), metadata);
            } else {
                tensors.add(readTensorInfo(path, e.getKey(), e.getValue()));
            }
        }
        tensors.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        for (TensorInfo t : tensors) {
            if (t.begin() != expected) {
                String what = t.begin() < expected ? "overlaps the previous tensor" : "leaves a gap";
                throw bad(path, "tensor '" + t.name() + "' data_offsets [" + t.begin() + ", " + t.end() + "] " + what
                        + "; expected it to start at " + expected);
            }
            expected = t.end();
        }
        long dataLength = size - 8 - n;
        if (expected != dataLength) {
            throw bad(path, expected > dataLength
                    ? "tensor data needs " + expected + " bytes but the file holds " + dataLength + " (truncated?)"
                    : "file has " + (dataLength - expected) + " bytes after the last tensor; expected none");
        }
        return new Header(n, tensors, metadata);
    }

    private static void readMetadata(Path path, JsonNode node, Map<String, String> into) {
        if (!node.isObject()) {
            throw bad(path, "__metadata__ is not an object of strings");
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw bad(path, "__metadata__['" + m.getKey() + "'] is not a string");
            }
            into.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static TensorInfo readTensorInfo(Path path, String name, JsonNode node) {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw bad(path, where + " is not an object with dtype, shape and data_offsets");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw bad(path, where + " has no dtype string");
        }
        DType dtype = DType.fromSafetensors(dtypeNode.textValue());
        if (dtype == null) {
            throw bad(path, where + " has unknown dtype '" + dtypeNode.textValue()
                    + "'; expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL");
        }
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw bad(path, where + " has no shape array");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(path, where + " shape[" + i + "]", shapeNode.get(i));
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw bad(path, where + " has no data_offsets [begin, end]");
        }
        long begin = nonNegativeLong(path, where + " data_offsets[0]", offsets.get(0));
        long end = nonNegativeLong(path, where + " data_offsets[1]", offsets.get(1));
        if (end < begin) {
            throw bad(path, where + " data_offsets [" + begin + ", " + end + "] end before begin");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(TensorInfo.numel(shape), dtype.width());
        } catch (ArithmeticException e) {
            throw bad(path, where + " shape " + TensorInfo.shapeString(shape) + " overflows 64-bit size");
        }
        if (end - begin != bytes) {
            throw bad(path, where + " spans " + (end - begin) + " bytes; shape " + TensorInfo.shapeString(shape)
                    + " of " + dtype + " needs " + bytes);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long nonNegativeLong(Path path, String where, JsonNode n) {
        if (n == null || !n.isIntegralNumber() || n.bigIntegerValue().signum() < 0 || !n.canConvertToLong()) {
            throw bad(path, where + " is " + n + "; expected a non-negative integer");
        }
        return n.longValue();
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new IOException("unexpected end of file");
            }
            pos += r;
        }
    }

    private static BadInputException bad(Path path, String what) {
        return new BadInputException(path + ": " + what);
    }

    public Path path() {
        return path;
    }

    /** Tensors in file (offset) order. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    public TensorInfo tensor(String name) {
        return byName.get(name);
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** Absolute file position of the data region. */
    public long dataStart() {
        return dataStart;
    }

    /** The bytes of one tensor, a zero-copy view of the mapping (valid until {@link #close()}). */
    public MemorySegment data(TensorInfo t) {
        if (t.byteSize() == 0) {
            return MemorySegment.NULL;
        }
        return data.asSlice(t.begin(), t.byteSize());
    }

    @Override
    public void close() {
        arena.close();
    }
}
