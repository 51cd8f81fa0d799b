package org.mergelab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FloatCodecTest {
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE_LE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static int bf16(int floatBits) {
        return FloatCodec.floatToBf16(Float.intBitsToFloat(floatBits)) & 0xFFFF;
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            // exact
            "0x3F800000, 0x3F80", "0xC0490000, 0xC049", "0x00000000, 0x0000", "0x80000000, 0x8000",
            // ties to even: even stays, odd rounds up (both signs)
            "0x3F808000, 0x3F80", "0x3F818000, 0x3F82", "0xBF808000, 0xBF80", "0xBF818000, 0xBF82",
            // just below / just above a tie
            "0x3F807FFF, 0x3F80", "0x3F808001, 0x3F81", "0x3F817FFF, 0x3F81", "0x3F818001, 0x3F82",
            "0xBF808001, 0xBF81", "0xBF807FFF, 0xBF80",
            // carry into the exponent
            "0x3FFFFFFF, 0x4000", "0x3F7FFFFF, 0x3F80", "0x3F7F8000, 0x3F80", "0x3F7E8000, 0x3F7E",
            // infinities and overflow
            "0x7F800000, 0x7F80", "0xFF800000, 0xFF80", "0x7F7FFFFF, 0x7F80", "0xFF7FFFFF, 0xFF80",
            "0x7F7F7FFF, 0x7F7F", "0x7F7F8000, 0x7F80", "0x7F7E8000, 0x7F7E", "0x7F7E8001, 0x7F7F",
            // subnormals
            "0x00010000, 0x0001", "0x00008000, 0x0000", "0x00018000, 0x0002", "0x00008001, 0x0001",
            "0x00000001, 0x0000", "0x80000001, 0x8000", "0x007FFFFF, 0x0080", "0x007F7FFF, 0x007F",
            "0x807F8000, 0x8080", "0x00400000, 0x0040", "0x80018000, 0x8002",
            // smallest normal stays exact
            "0x00800000, 0x0080"
    })
    void bf16RoundsToNearestEven(String in, String out) {
        int bits = Integer.parseUnsignedInt(in.substring(2), 16);
        assertEquals(Integer.parseInt(out.substring(2), 16), bf16(bits), in);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"0x7F800001", "0xFF800001", "0x7F80FFFF", "0x7F810000", "0x7FC00000", "0xFFC00000", "0x7FFFFFFF",
            "0xFFFFFFFF", "0x7FBFFFFF", "0x7F807FFF", "0x7F808000"})
    void nanStaysNanWithSign(String in) {
        int bits = Integer.parseUnsignedInt(in.substring(2), 16);
        int out = bf16(bits);
        assertEquals(0x7F80, out & 0x7F80, "exponent all ones: " + Integer.toHexString(out));
        assertTrue((out & 0x007F) != 0, "mantissa non-zero (NaN, not Inf): " + Integer.toHexString(out));
        assertEquals(bits >>> 31, out >>> 15, "sign kept");
        assertTrue(Float.isNaN(FloatCodec.bf16ToFloat((short) out)));
        // the high payload bits survive
        assertEquals((bits >>> 16) & 0x7F | 0x40, out & 0x7F);
    }

    @Test
    void bf16ToFloatIsExactShiftForAllPatterns() {
        for (int s = 0; s < 0x10000; s++) {
            float f = FloatCodec.bf16ToFloat((short) s);
            int pattern = s;
            assertEquals(s << 16, Float.floatToRawIntBits(f), () -> Integer.toHexString(pattern));
            int back = bf16(s << 16);
            if (Float.isNaN(f)) {
                assertEquals(s | 0x40, back);
            } else {
                assertEquals(s, back, "non-NaN bf16 values round-trip");
            }
        }
    }

    /** Value of a bf16 pattern with an unbounded exponent, so 0x7F80 stands for 2^128 (the overflow candidate). */
    private static double bf16Value(int b) {
        if ((b & 0x7FFF) == 0x7F80) {
            return ((b & 0x8000) != 0 ? -1 : 1) * 0x1p128;
        }
        return FloatCodec.bf16ToFloat((short) b);
    }

    /** Oracle independent of the bit trick: pick the closer of the two neighbours in double arithmetic. */
    @Test
    void bf16MatchesNearestEvenOracleOnRandomFloats() {
        SplittableRandom r = new SplittableRandom(7);
        for (int k = 0; k < 200_000; k++) {
            int[] lows = {0x8000, 0x7FFF, 0x8001, 0x0000, 0xFFFF};
            int bits = k < 100_000 ? r.nextInt() : (r.nextInt() & 0xFFFF0000) | lows[k % lows.length];
            float f = Float.intBitsToFloat(bits);
            if (Float.isNaN(f) || Float.isInfinite(f)) {
                continue;
            }
            int down = bits >>> 16;
            int up = down + 1;
            double dd = Math.abs(f - bf16Value(down));
            double du = Math.abs(bf16Value(up) - f);
            int expected = dd < du ? down : du < dd ? up : (down & 1) == 0 ? down : up;
            assertEquals(expected, bf16(bits), Integer.toHexString(bits));
        }
    }

    @Test
    void roundToMatchesTypes() {
        float x = 1.00390625f + 0x1p-20f; // 1 + 2^-8 + a bit: above the bf16 tie
        assertEquals(1.0078125f, FloatCodec.roundTo(DType.BF16, x));
        assertEquals(1.00390625f, FloatCodec.roundTo(DType.F16, x)); // f16 has 10 mantissa bits
        assertEquals(x, FloatCodec.roundTo(DType.F32, x));
        assertEquals(x, FloatCodec.roundTo(DType.F64, x));
        assertEquals(Float.POSITIVE_INFINITY, FloatCodec.roundTo(DType.F16, 65520f));
        assertEquals(65504f, FloatCodec.roundTo(DType.F16, 65519f));
        assertTrue(Float.isNaN(FloatCodec.roundTo(DType.BF16, Float.intBitsToFloat(0x7F800001))));
        assertThrows(IllegalArgumentException.class, () -> FloatCodec.roundTo(DType.I32, 1f));
    }

    @Test
    void f16EncodeDecodeMatchesJdk() {
        float[] vals = {0f, -0f, 1f, -2.5f, 65504f, 65520f, 0x1p-24f, 0x1p-25f, 0x1.8p-25f, 1e-8f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 3.14159f};
        short[] expected = {0x0000, (short) 0x8000, 0x3C00, (short) 0xC100, 0x7BFF, 0x7C00, 0x0001, 0x0000, 0x0001,
                0x0000, 0x7C00, (short) 0xFC00, 0x7E00, 0x4248};
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(2L * vals.length);
            FloatCodec.encode(DType.F16, vals, vals.length, seg);
            for (int i = 0; i < vals.length; i++) {
                assertEquals(expected[i], seg.get(SHORT_LE, 2L * i), "f16 of " + vals[i]);
                assertEquals(Float.floatToFloat16(vals[i]), seg.get(SHORT_LE, 2L * i));
            }
            float[] back = new float[vals.length - 1];
            FloatCodec.decode(DType.F16, seg, 1, back, back.length);
            for (int i = 0; i < back.length; i++) {
                assertEquals(Float.float16ToFloat(expected[i + 1]), back[i], 0f);
            }
            assertEquals(-0f, back[0]);
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(back[0]));
            assertEquals(65504f, back[3]);
            assertEquals(0x1p-24f, back[5]);
        }
    }

    @Test
    void f32AndF64DecodeLittleEndian() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(64);
            for (int i = 0; i < 8; i++) {
                seg.set(DOUBLE_LE, 8L * i, i * 1.5 + 0.1);
            }
            float[] d = new float[5];
            FloatCodec.decode(DType.F64, seg, 2, d, 5);
            for (int i = 0; i < 5; i++) {
                assertEquals((float) ((i + 2) * 1.5 + 0.1), d[i]);
            }
            MemorySegment f = a.allocate(40);
            for (int i = 0; i < 10; i++) {
                f.set(FLOAT_LE, 4L * i, i - 4.25f);
            }
            // -4.25f = 0xC0880000, stored little-endian: 00 00 88 C0
            assertEquals((byte) 0x88, f.get(ValueLayout.JAVA_BYTE, 2));
            assertEquals((byte) 0xC0, f.get(ValueLayout.JAVA_BYTE, 3));
            float[] g = new float[3];
            FloatCodec.decode(DType.F32, f, 7, g, 3);
            assertArrayEquals(new float[] {2.75f, 3.75f, 4.75f}, g);
            float[] w = {1.1f, -0f, Float.NaN};
            MemorySegment f64 = a.allocate(24);
            FloatCodec.encode(DType.F64, w, 3, f64);
            assertEquals((double) 1.1f, f64.get(DOUBLE_LE, 0));
            assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(f64.get(DOUBLE_LE, 8)));
            assertTrue(Double.isNaN(f64.get(DOUBLE_LE, 16)));
            float[] h = {1f, -2f, 3.5f};
            FloatCodec.encode(DType.F32, h, 3, f);
            assertEquals(0x3F800000, f.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
            assertEquals(3.5f, f.get(FLOAT_LE, 8));
        }
    }

    @Test
    void nonFloatTypesRejected() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(16);
            float[] d = new float[2];
            assertThrows(IllegalArgumentException.class, () -> FloatCodec.decode(DType.I32, seg, 0, d, 2));
            assertThrows(IllegalArgumentException.class, () -> FloatCodec.encode(DType.I64, d, 2, seg));
        }
    }

    @Test
    void bf16ByteOrderIsLittleEndian() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(2 * 20);
            float[] src = new float[20];
            for (int i = 0; i < 20; i++) {
                src[i] = i == 19 ? -3f : 1f; // 1.0 = 0x3F80, -3.0 = 0xC040
            }
            FloatCodec.encode(DType.BF16, src, 20, seg);
            assertEquals((byte) 0x80, seg.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals((byte) 0x3F, seg.get(ValueLayout.JAVA_BYTE, 1));
            assertEquals((byte) 0x40, seg.get(ValueLayout.JAVA_BYTE, 38));
            assertEquals((byte) 0xC0, seg.get(ValueLayout.JAVA_BYTE, 39));
            float[] back = new float[20];
            FloatCodec.decode(DType.BF16, seg, 0, back, 20);
            assertArrayEquals(src, back);
        }
    }

    /** Random bit patterns, biased so NaN, Inf, subnormals, zeros and exact ties all occur often. */
    private static int[] patterns(SplittableRandom r, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int bits = r.nextInt();
            out[i] = switch (r.nextInt(8)) {
                case 0 -> bits | 0x7F800000; // Inf / NaN (incl. low-half-only payloads)
                case 1 -> bits & 0x807FFFFF; // subnormal / zero
                case 2 -> (bits & 0xFFFF0000) | 0x8000; // exact tie
                case 3 -> (bits & 0x80000000) | 0x7F800000 | (r.nextBoolean() ? 0 : 1 << r.nextInt(16));
                case 4 -> (bits & 0xFFFF0000) | (r.nextBoolean() ? 0x7FFF : 0x8001);
                default -> bits;
            };
        }
        return out;
    }

    @Test
    void vectorEncodeMatchesScalarBitForBit() {
        SplittableRandom r = new SplittableRandom(42);
        int[] lengths = {0, 1, 3, 7, 15, 16, 17, 31, 33, 63, 65, 127, 1000, 4099, 100_003};
        try (Arena a = Arena.ofConfined()) {
            for (int n : lengths) {
                int[] bits = patterns(r, n);
                float[] src = new float[n + 5];
                for (int i = 0; i < n; i++) {
                    src[i] = Float.intBitsToFloat(bits[i]);
                }
                for (DType t : new DType[] {DType.BF16, DType.F16, DType.F32, DType.F64}) {
                    long bytes = (long) n * t.width();
                    // odd base offset: unaligned access must work; guard bytes must stay untouched
                    MemorySegment vec = a.allocate(bytes + 9).fill((byte) 0xAB).asSlice(1, bytes + 8);
                    MemorySegment ref = a.allocate(bytes + 9).fill((byte) 0xAB).asSlice(1, bytes + 8);
                    vectorEncode(t, src, n, vec);
                    FloatCodec.encodeScalar(t, src, n, ref);
                    long mismatch = vec.mismatch(ref);
                    assertEquals(-1, mismatch, () -> t + " n=" + n + " differs at byte " + mismatch);
                    for (long b = bytes; b < bytes + 8; b++) {
                        assertEquals((byte) 0xAB, vec.get(ValueLayout.JAVA_BYTE, b), "wrote past n");
                    }
                }
                // spot-check against the scalar conversion itself
                MemorySegment seg = a.allocate(2L * n + 1);
                FloatCodec.encode(DType.BF16, src, n, seg);
                for (int i = 0; i < n; i += 97) {
                    assertEquals(FloatCodec.floatToBf16(src[i]), seg.get(SHORT_LE, 2L * i));
                }
            }
        }
    }

    @Test
    void vectorDecodeMatchesScalarBitForBit() {
        SplittableRandom r = new SplittableRandom(43);
        int total = 100_050;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment raw = a.allocate(8L * total + 1).asSlice(1); // odd address
            for (long i = 0; i < 8L * total; i += 4) {
                raw.set(ValueLayout.JAVA_INT_UNALIGNED, i, r.nextInt());
            }
            int[][] cases = {{0, 0}, {0, 1}, {1, 5}, {3, 16}, {5, 17}, {7, 33}, {13, 1000}, {1, 4099},
                    {11, 100_003}, {0, 100_050}};
            for (int[] c : cases) {
                int from = c[0], n = c[1];
                for (DType t : new DType[] {DType.BF16, DType.F16, DType.F32, DType.F64}) {
                    float[] vec = new float[n + 3];
                    float[] ref = new float[n + 3];
                    java.util.Arrays.fill(vec, 42f);
                    java.util.Arrays.fill(ref, 42f);
                    vectorDecode(t, raw, from, vec, n);
                    FloatCodec.decodeScalar(t, raw, from, ref, n);
                    for (int i = 0; i < n + 3; i++) {
                        if (Float.floatToRawIntBits(vec[i]) != Float.floatToRawIntBits(ref[i])) {
                            throw new AssertionError(t + " from=" + from + " n=" + n + " differs at " + i + ": "
                                    + Integer.toHexString(Float.floatToRawIntBits(vec[i])) + " vs "
                                    + Integer.toHexString(Float.floatToRawIntBits(ref[i])));
                        }
                    }
                    assertEquals(42f, vec[n], "wrote past n");
                    if (t == DType.BF16 && n > 0) {
                        int i = n - 1;
                        assertEquals(raw.get(SHORT_LE, 2L * (from + i)) << 16, Float.floatToRawIntBits(vec[i]));
                    }
                }
            }
        }
    }

    /**
     * The vector kernel for bf16 (whether or not the dispatching {@code encode} uses it yet), else the dispatch; checks
     * that the largest magnitude it reports is the scalar twin's and the plain one's.
     */
    private static void vectorEncode(DType t, float[] src, int n, MemorySegment dst) {
        int expected = FloatCodec.largestMagnitudeBits(src, 0, n);
        if (t == DType.BF16 && FloatCodec.VECTOR) {
            short[] bits = new short[n];
            short[] scalarBits = new short[n];
            assertEquals(expected, FloatCodec.encodeBf16Vector(src, 0, n, bits), "n=" + n);
            assertEquals(expected, FloatCodec.encodeBf16Scalar(src, 0, 0, n, scalarBits), "n=" + n);
            assertArrayEquals(scalarBits, bits);
            MemorySegment.copy(bits, 0, dst, SHORT_LE, 0, n);
        } else {
            assertEquals(expected, FloatCodec.encode(t, src, n, dst), t + " n=" + n);
        }
    }

    private static void vectorDecode(DType t, MemorySegment src, long from, float[] dst, int n) {
        int reported;
        if (t == DType.BF16 && FloatCodec.VECTOR) {
            short[] bits = new short[n];
            MemorySegment.copy(src, SHORT_LE, 2 * from, bits, 0, n);
            reported = FloatCodec.decodeBf16Vector(bits, n, dst, 0);
            float[] scalar = new float[n];
            assertEquals(reported, FloatCodec.decodeBf16Scalar(bits, 0, n, scalar, 0), "n=" + n);
        } else {
            reported = FloatCodec.decode(t, src, from, dst, n);
        }
        assertEquals(FloatCodec.largestMagnitudeBits(dst, 0, n), reported, t + " n=" + n);
    }

    /**
     * The dispatching calls switch to the vector kernels after the warm-up, and the bits stay the same across the
     * switch (scalar before, vector after), and so does the largest magnitude they report.
     */
    @Test
    void warmUpSwitchesToTheVectorKernelsWithTheSameBits() throws Exception {
        SplittableRandom r = new SplittableRandom(44);
        int n = 4099;
        int[] bits = patterns(r, n);
        float[] src = new float[n];
        for (int i = 0; i < n; i++) {
            src[i] = Float.intBitsToFloat(bits[i]);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment before = a.allocate(2L * n);
            MemorySegment after = a.allocate(2L * n);
            float[] decodedBefore = new float[n];
            float[] decodedAfter = new float[n];
            int encodedBefore = FloatCodec.encode(DType.BF16, src, n, before);
            int readBefore = FloatCodec.decode(DType.BF16, before, 0, decodedBefore, n);
            Thread other = new Thread(FloatCodec::warmUp);
            other.start();
            other.join();
            assertEquals(FloatCodec.VECTOR, FloatCodec.vectorReady());
            assertEquals(encodedBefore, FloatCodec.encode(DType.BF16, src, n, after));
            assertEquals(readBefore, FloatCodec.decode(DType.BF16, after, 0, decodedAfter, n));
            assertEquals(-1, before.mismatch(after));
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(decodedBefore[i]), Float.floatToRawIntBits(decodedAfter[i]));
            }
        }
    }

    /** A 64-bit preferred vector shape must not break class initialization; it just disables the vector path. */
    @Test
    void initializesWhenVectorsAreNarrow() throws Exception {
        Path launcher = Path.of(System.getProperty("java.home"), "bin", "java");
        String cp = Path.of(FloatCodec.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                + File.pathSeparator
                + Path.of(FloatCodecTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Process p = new ProcessBuilder(launcher.toString(), "-XX:+IgnoreUnrecognizedVMOptions", "-XX:MaxVectorSize=8",
                "--add-modules", "jdk.incubator.vector", "-cp", cp,
                NarrowMain.class.getName()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child JVM timed out");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeFalse(out.contains("Unrecognized VM option"), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("ok 3f80"), out);
    }

    /** Entry point of the child JVM of {@link #initializesWhenVectorsAreNarrow()}. */
    public static final class NarrowMain {
        public static void main(String[] args) throws IOException {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment seg = a.allocate(64);
                float[] src = new float[32];
                java.util.Arrays.fill(src, 1f);
                FloatCodec.encode(DType.BF16, src, 32, seg);
                float[] back = new float[32];
                FloatCodec.decode(DType.BF16, seg, 0, back, 32);
                System.out.println((back[31] == 1f ? "ok " : "bad ")
                        + Integer.toHexString(seg.get(SHORT_LE, 62) & 0xFFFF) + " vector=" + FloatCodec.VECTOR);
            }
        }
    }

    @Test
    void aCallSlowOnTheWallClockDemotesOnlyIfTheNextIsSlowOnTheCpuClock() {
        FloatCodec.PerThread t = new FloatCodec.PerThread();
        assertFalse(FloatCodec.demotes(t, false, true), "a fast call");
        assertFalse(FloatCodec.demotes(t, true, true), "slow on the wall clock: a thread switch, perhaps");
        assertTrue(t.suspect, "the next call is timed on the CPU clock");
        assertFalse(FloatCodec.demotes(t, false, true), "fast on the CPU clock: it was a switch");
        assertFalse(t.suspect);
        assertFalse(FloatCodec.demotes(t, true, true));
        assertTrue(FloatCodec.demotes(t, true, true), "slow on the CPU clock too: the kernel was thrown away");
        assertFalse(t.suspect, "after a demotion the wall clock again");
        assertTrue(FloatCodec.demotes(t, true, false), "without a CPU clock the wall clock decides");
        assertFalse(t.suspect);
    }
}
