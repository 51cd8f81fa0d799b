package org.mergelab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.mergelab.io.TestFiles.assertBad;
import static org.mergelab.io.TestFiles.raw;
import static org.mergelab.io.TestFiles.st;

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

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    private static String t(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + ","
                + end + "]}";
    }

    private Path file(String json, int dataBytes) throws IOException {
        return TestFiles.write(dir, "m.safetensors", st(json, new byte[dataBytes]));
    }

    /** Both entry points reject the file with the same message fragments. */
    private void bad(Path p, String... fragments) {
        assertBad(p, () -> SafetensorsFile.open(p).close(), fragments);
        assertBad(p, () -> SafetensorsFile.readTensorInfos(p), fragments);
    }

    // ---- framing ----

    @Test
    void emptyFile() throws IOException {
        bad(TestFiles.write(dir, "e.safetensors", new byte[0]), "0 bytes", "at least 8");
    }

    @Test
    void shorterThanEightBytes() throws IOException {
        bad(TestFiles.write(dir, "s.safetensors", new byte[] {2, 0, 0, 0, 0}), "5 bytes", "at least 8");
    }

    @Test
    void headerLengthOverLimit() throws IOException {
        Path p = TestFiles.write(dir, "h.safetensors", raw(100_000_001L, "{}".getBytes(), new byte[0]));
        bad(p, "100000001", "exceeds the limit of 100000000");
    }

    @Test
    void headerLengthHugeUnsigned() throws IOException {
        Path p = TestFiles.write(dir, "h.safetensors", raw(-1L, "{}".getBytes(), new byte[0]));
        bad(p, "18446744073709551615", "exceeds the limit");
    }

    @Test
    void headerLengthBeyondFileSize() throws IOException {
        Path p = TestFiles.write(dir, "h.safetensors", raw(64, "{}      ".getBytes(), new byte[0]));
        bad(p, "header length 64", "past the end of the 16-byte file");
    }

    @Test
    void headerLengthAtLimitButFileSmallIsNotOverLimit() throws IOException {
        Path p = TestFiles.write(dir, "h.safetensors", raw(100_000_000L, "{}".getBytes(), new byte[0]));
        bad(p, "past the end");
    }

    @ParameterizedTest
    @CsvSource({"0", "1"})
    void headerTooShort(int n) throws IOException {
        Path p = TestFiles.write(dir, "h.safetensors", raw(n, "{}".getBytes(), new byte[0]));
        bad(p, "header length " + n, "too short");
    }

    @Test
    void headerNotUtf8() throws IOException {
        byte[] h = "{\"a\":{}}".getBytes(StandardCharsets.US_ASCII);
        h[2] = (byte) 0xFF;
        bad(TestFiles.write(dir, "u.safetensors", raw(h.length, h, new byte[0])), "not valid UTF-8");
    }

    @Test
    void headerNotJson() throws IOException {
        bad(file("{\"w\": ", 0), "not valid JSON");
        bad(file("{\"w\":{\"dtype\":\"F32\"} garbage", 0), "not valid JSON");
        bad(file("{} {}", 0), "not valid JSON");
    }

    @Test
    void headerJsonButNotObject() throws IOException {
        bad(file("[1, 2, 3]", 0), "JSON object");
        bad(file("\"{}\"", 0), "JSON object");
        bad(file("  {}", 0), "JSON object");
    }

    // ---- tensor entries ----

    @Test
    void entryNotObject() throws IOException {
        bad(file("{\"w\": [1, 2]}", 0), "tensor 'w'", "dtype, shape and data_offsets");
    }

    @Test
    void missingDtype() throws IOException {
        bad(file("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "tensor 'w'", "dtype");
        bad(file("{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "tensor 'w'", "dtype");
    }

    @Test
    void missingShape() throws IOException {
        bad(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8), "tensor 'w'", "shape");
        bad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8), "tensor 'w'", "shape");
    }

    @Test
    void missingOffsets() throws IOException {
        bad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "tensor 'w'", "data_offsets");
        bad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", 8), "tensor 'w'",
                "data_offsets");
        bad(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8), "tensor 'w'", "data_offsets");
    }

    @Test
    void offsetsNotIntegers() throws IOException {
        bad(file("{" + t("w", "F32", "[2]", 0, 8).replace("[0,8]", "[0.0,8]") + "}", 8), "data_offsets[0]",
                "non-negative integer");
        bad(file("{" + t("w", "F32", "[2]", 0, 8).replace("[0,8]", "[0,\"8\"]") + "}", 8), "data_offsets[1]",
                "non-negative integer");
        bad(file("{" + t("w", "F32", "[2]", 0, 8).replace("[0,8]", "[0,99999999999999999999]") + "}", 8),
                "data_offsets[1]", "non-negative integer");
        bad(file("{" + t("w", "F32", "[2]", 0, 8).replace("[0,8]", "[-8,0]") + "}", 8), "data_offsets[0]");
    }

    @Test
    void unknownDtype() throws IOException {
        bad(file("{" + t("w", "F8_E4M3", "[2]", 0, 2) + "}", 2), "tensor 'w'", "unknown dtype 'F8_E4M3'", "BF16");
        bad(file("{" + t("w", "bf16", "[2]", 0, 4) + "}", 4), "unknown dtype 'bf16'");
    }

    @Test
    void negativeShape() throws IOException {
        bad(file("{" + t("w", "F32", "[2,-1]", 0, 8) + "}", 8), "tensor 'w' shape[1]", "non-negative");
        bad(file("{" + t("w", "F32", "[2.5]", 0, 8) + "}", 8), "tensor 'w' shape[0]", "non-negative integer");
    }

    @Test
    void shapeOverflowsLong() throws IOException {
        // numel fits (2^62) but numel * 4 bytes does not
        bad(file("{" + t("w", "F32", "[4611686018427387904]", 0, 8) + "}", 8), "tensor 'w'", "overflows");
        // numel itself overflows
        bad(file("{" + t("w", "U8", "[4294967296,4294967296]", 0, 8) + "}", 8), "tensor 'w'", "overflows");
    }

    @Test
    void offsetsReversed() throws IOException {
        bad(file("{" + t("w", "F32", "[2]", 8, 0) + "}", 8), "tensor 'w'", "[8, 0]", "end before begin");
    }

    @Test
    void sizeNotNumelTimesWidth() throws IOException {
        bad(file("{" + t("w", "F32", "[2,3]", 0, 12) + "}", 12), "tensor 'w'", "spans 12 bytes", "[2, 3]",
                "needs 24");
        bad(file("{" + t("w", "BF16", "[]", 0, 4) + "}", 4), "tensor 'w'", "spans 4 bytes", "needs 2");
    }

    // ---- layout of the data region ----

    @Test
    void overlapping() throws IOException {
        bad(file("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[2]", 4, 12) + "}", 12), "tensor 'b'",
                "overlaps", "start at 8");
    }

    @Test
    void identicalOffsetsOverlap() throws IOException {
        bad(file("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "I32", "[2]", 0, 8) + "}", 8), "overlaps");
    }

    @Test
    void gapBetweenTensors() throws IOException {
        bad(file("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[2]", 12, 20) + "}", 20), "tensor 'b'",
                "gap", "start at 8");
    }

    @Test
    void gapBeforeFirstTensor() throws IOException {
        bad(file("{" + t("a", "F32", "[2]", 4, 12) + "}", 12), "tensor 'a'", "gap", "start at 0");
    }

    @Test
    void extraBytesAfterLastTensor() throws IOException {
        bad(file("{" + t("a", "F32", "[2]", 0, 8) + "}", 11), "3 bytes after the last tensor");
        bad(file("{}", 1), "1 bytes after the last tensor");
    }

    @Test
    void truncatedData() throws IOException {
        bad(file("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[4]", 8, 24) + "}", 20), "needs 24",
                "holds 20", "truncated");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        bad(file("{" + t("w", "F32", "[1]", 0, 4) + "," + t("w", "F32", "[1]", 4, 8) + "}", 8), "uplicate", "'w'");
    }

    @Test
    void duplicateMetadata() throws IOException {
        bad(file("{\"__metadata__\":{\"a\":\"1\"},\"__metadata__\":{}}", 0), "uplicate", "__metadata__");
    }

    @Test
    void metadataNotStringToString() throws IOException {
        bad(file("{\"__metadata__\":{\"format\":\"pt\",\"n\":1}}", 0), "__metadata__['n']", "not a string");
        bad(file("{\"__metadata__\":{\"x\":{\"y\":\"z\"}}}", 0), "__metadata__['x']");
        bad(file("{\"__metadata__\":[\"pt\"]}", 0), "__metadata__", "object of strings");
        bad(file("{\"__metadata__\":\"pt\"}", 0), "__metadata__");
    }

    @Test
    void missingFile() {
        Path p = dir.resolve("nope.safetensors");
        bad(p, "file not found");
    }

    // ---- well-formed files ----

    @Test
    void headerPaddedWithSpacesAndMetadataKept() throws IOException {
        String json = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"h\u00e9\"}," + t("w", "F32", "[2]", 0, 8) + "}";
        byte[] h = (json + "       ").getBytes(StandardCharsets.UTF_8);
        ByteBuffer data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f);
        Path p = TestFiles.write(dir, "p.safetensors", raw(h.length, h, data.array()));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Map.of("format", "pt", "note", "h\u00e9"), f.metadata());
            assertEquals(8 + h.length, f.dataStart());
            assertEquals(p, f.path());
            TensorInfo w = f.tensor("w");
            assertEquals(new TensorInfo("w", DType.F32, new long[] {2}, 0, 8), w);
            float[] out = new float[2];
            FloatCodec.decode(DType.F32, f.data(w), 0, out, 2);
            assertArrayEquals(new float[] {1.5f, -2f}, out);
            assertEquals(List.of(w), f.tensors());
            assertNull(f.tensor("__metadata__"));
        }
    }

    @Test
    void emptyHeaderNoTensors() throws IOException {
        Path p = file("{}", 0);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of(), f.tensors());
            assertEquals(Map.of(), f.metadata());
        }
    }

    @Test
    void zeroElementTensors() throws IOException {
        String json = "{" + t("empty", "F32", "[0,3]", 0, 0) + "," + t("a", "BF16", "[2]", 0, 4) + ","
                + t("empty2", "I64", "[5,0]", 4, 4) + "}";
        Path p = TestFiles.write(dir, "z.safetensors", st(json, new byte[] {1, 2, 3, 4}));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(3, f.tensors().size());
            TensorInfo e = f.tensor("empty");
            assertEquals(0, e.numel());
            assertEquals(0, e.byteSize());
            assertEquals(0, f.data(e).byteSize());
            assertEquals(0, f.data(f.tensor("empty2")).byteSize());
            assertArrayEquals(new byte[] {1, 2, 3, 4}, TestFiles.bytes(f.data(f.tensor("a"))));
            assertEquals(List.of("empty", "a", "empty2"), f.tensors().stream().map(TensorInfo::name).toList());
        }
        // a file holding only empty tensors has no data region at all
        Path q = file("{" + t("e", "F16", "[0]", 0, 0) + "}", 0);
        try (SafetensorsFile f = SafetensorsFile.open(q)) {
            assertEquals(0, f.data(f.tensor("e")).byteSize());
        }
    }

    @Test
    void tensorsReturnedInOffsetOrder() throws IOException {
        String json = "{" + t("c", "U8", "[3]", 5, 8) + "," + t("a", "U8", "[2]", 0, 2) + "," + t("b", "U8", "[3]", 2, 5)
                + "}";
        Path p = TestFiles.write(dir, "o.safetensors", st(json, new byte[] {10, 11, 20, 21, 22, 30, 31, 32}));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("a", "b", "c"), f.tensors().stream().map(TensorInfo::name).toList());
            assertArrayEquals(new byte[] {20, 21, 22}, TestFiles.bytes(f.data(f.tensor("b"))));
            assertArrayEquals(new byte[] {30, 31, 32}, TestFiles.bytes(f.data(f.tensor("c"))));
        }
        assertEquals(List.of("a", "b", "c"),
                SafetensorsFile.readTensorInfos(p).stream().map(TensorInfo::name).toList());
    }

    @Test
    void allTenDtypes() throws IOException {
        DType[] types = DType.values();
        assertEquals(10, types.length);
        StringBuilder json = new StringBuilder("{");
        ByteBuffer data = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        for (DType d : types) {
            int begin = data.position();
            switch (d) {
                case F64 -> data.putDouble(-1.25).putDouble(1e300);
                case F32 -> data.putFloat(3.5f).putFloat(-0.0f);
                case F16 -> data.putShort(Float.floatToFloat16(0.5f)).putShort(Float.floatToFloat16(-2f));
                case BF16 -> data.putShort((short) 0x3FC0).putShort((short) 0xC080); // 1.5, -4
                case I64 -> data.putLong(Long.MIN_VALUE).putLong(123456789012345L);
                case I32 -> data.putInt(-7).putInt(Integer.MAX_VALUE);
                case I16 -> data.putShort((short) -300).putShort((short) 300);
                case I8 -> data.put((byte) -5).put((byte) 5);
                case U8 -> data.put((byte) 200).put((byte) 1);
                case BOOL -> data.put((byte) 1).put((byte) 0);
            }
            if (json.length() > 1) {
                json.append(',');
            }
            json.append(t("t_" + d.name(), d.name(), "[1,2]", begin, data.position()));
        }
        json.append('}');
        byte[] bytes = new byte[data.position()];
        data.flip().get(bytes);
        Path p = TestFiles.write(dir, "all.safetensors", st(json.toString(), bytes));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(10, f.tensors().size());
            for (DType d : types) {
                TensorInfo ti = f.tensor("t_" + d.name());
                assertEquals(d, ti.dtype());
                assertArrayEquals(new long[] {1, 2}, ti.shape());
                assertEquals(2L * d.width(), ti.byteSize());
                assertEquals(2, ti.numel());
                MemorySegment s = f.data(ti);
                assertEquals(2L * d.width(), s.byteSize());
                if (d.isFloat()) {
                    float[] v = new float[2];
                    FloatCodec.decode(d, s, 0, v, 2);
                    float[] want = switch (d) {
                        case F64 -> new float[] {-1.25f, Float.POSITIVE_INFINITY};
                        case F32 -> new float[] {3.5f, -0.0f};
                        case F16 -> new float[] {0.5f, -2f};
                        default -> new float[] {1.5f, -4f};
                    };
                    assertArrayEquals(want, v, d.name());
                }
            }
            ValueLayout.OfLong l = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            assertEquals(Long.MIN_VALUE, f.data(f.tensor("t_I64")).get(l, 0));
            assertEquals(123456789012345L, f.data(f.tensor("t_I64")).get(l, 8));
            ValueLayout.OfInt i = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            assertEquals(-7, f.data(f.tensor("t_I32")).get(i, 0));
            assertArrayEquals(new byte[] {(byte) 200, 1}, TestFiles.bytes(f.data(f.tensor("t_U8"))));
            assertArrayEquals(new byte[] {1, 0}, TestFiles.bytes(f.data(f.tensor("t_BOOL"))));
            assertArrayEquals(new byte[] {(byte) 0xD4, (byte) 0xFE, 0x2C, 0x01},
                    TestFiles.bytes(f.data(f.tensor("t_I16"))));
        }
    }

    @Test
    void scalarTensorHasOneElement() throws IOException {
        Path p = TestFiles.write(dir, "s.safetensors", st("{" + t("s", "I32", "[]", 0, 4) + "}", new byte[] {9, 0, 0, 0}));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            TensorInfo s = f.tensor("s");
            assertEquals(0, s.rank());
            assertEquals(1, s.numel());
            assertEquals(9, f.data(s).get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
        }
    }

    @Test
    void dataInvalidAfterClose() throws IOException {
        Path p = file("{" + t("w", "F32", "[2]", 0, 8) + "}", 8);
        SafetensorsFile f = SafetensorsFile.open(p);
        MemorySegment s = f.data(f.tensor("w"));
        assertEquals(0f, s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4));
        f.close();
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4));
    }

    @Test
    void tensorInfoIsImmutableAndComparable() {
        long[] shape = {2, 3};
        TensorInfo a = new TensorInfo("a", DType.F16, shape, 0, 12);
        shape[0] = 99;
        assertEquals(2, a.dim(0));
        a.shape()[1] = 99;
        assertEquals(3, a.dim(1));
        assertEquals(6, a.numel());
        assertEquals("[2, 3]", a.shapeString());
        assertEquals(a, new TensorInfo("a", DType.F16, new long[] {2, 3}, 0, 12));
        assertEquals(a.hashCode(), new TensorInfo("a", DType.F16, new long[] {2, 3}, 0, 12).hashCode());
        assertEquals(false, a.equals(new TensorInfo("a", DType.BF16, new long[] {2, 3}, 0, 12)));
        assertEquals(true, a.sameShape(new TensorInfo("b", DType.F32, new long[] {2, 3}, 12, 36)));
        assertThrows(ArithmeticException.class, () -> TensorInfo.numel(new long[] {1L << 32, 1L << 32}));
        assertEquals(1, TensorInfo.numel(new long[0]));
    }

    @Test
    void dtypeParsing() {
        assertEquals(DType.BF16, DType.fromSafetensors("BF16"));
        assertNull(DType.fromSafetensors("bf16"));
        assertEquals(DType.BF16, DType.fromConfigName("torch.bfloat16", "x"));
        assertEquals(DType.F16, DType.fromConfigName("FP16", "x"));
        assertEquals(DType.F32, DType.fromConfigName("float32", "x"));
        var e = assertThrows(org.mergelab.BadInputException.class, () -> DType.fromConfigName("int8", "cfg.yml"));
        assertEquals(true, e.getMessage().startsWith("cfg.yml: unknown dtype 'int8'"), e.getMessage());
        assertEquals(2, DType.BF16.width());
        assertEquals("bfloat16", DType.BF16.torchName());
    }

    /** Hand-checked byte layout: makes sure the tests' own frame builder agrees with the format. */
    @Test
    void frameBuilderLayout() throws IOException {
        byte[] b = st("{}", new byte[0]);
        assertArrayEquals(new byte[] {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'}, b);
        Path p = TestFiles.write(dir, "f.safetensors", b);
        assertEquals(10, Files.size(p));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(10, f.dataStart());
        }
    }
}
