package org.mergelab.io;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Converts stored tensor elements to float32 and back. Safetensors data is little-endian.
 *
 * <pre>
 * bf16:  s eeeeeeee mmmmmmm            = the top 16 bits of a float32
 * f32:   s eeeeeeee mmmmmmm mmmmmmmmmmmmmmmm
 * </pre>
 *
 * bf16 → f32 is exact (shift left 16). f32 → bf16 rounds to nearest, ties to even, and keeps NaN a NaN (a plain
 * rounding of a NaN whose payload sits in the low half would turn it into ±Inf). The vector path (Vector API) and the
 * scalar path give identical bits; {@code -Dmergelab.vector=false} forces the scalar path.
 *
 * <p>The bf16 vector kernels are used only once {@link #warmUp()} has had C2 compile them: before that
 * the Vector API runs interpreted or in C1, ~100× slower than the scalar loops (measured: 64M elements took 3.2 s
 * cold against 0.015 s compiled), and compiling takes ~1.4 s of one core. So callers get the scalar path until then,
 * and a process that has pushed {@link #AUTO_WARM_UP_AFTER} elements through the scalar path starts the warm-up on a
 * background thread itself; as both paths give the same bits, the switch is invisible in the output.
 */
public final class FloatCodec {
    private static final ValueLayout.OfShort SHORT_LE = JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE_LE = JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /**
     * Shorts at half the float width, so one short vector widens to one float vector; null when no such shape exists
     * (a 64-bit preferred float shape, e.g. {@code -XX:MaxVectorSize=8}, or an odd max shape), which disables the
     * vector path instead of failing class initialization.
     */
    private static final VectorSpecies<Short> S = halfWidthShorts();

    /** Whether the Vector API path is used; the scalar path is the reference it is tested against. */
    public static final boolean VECTOR = Boolean.parseBoolean(System.getProperty("mergelab.vector", "true"))
            && F.length() >= 4 && S != null;

    private FloatCodec() {}

    /** Whether the bf16 vector kernels are compiled; until then {@link #decode} and {@link #encode} run scalar twins. */
    private static volatile boolean warm;

    /** Scalar bf16 elements after which the process warms the vector kernels up by itself (~0.1 s of scalar work). */
    public static final long AUTO_WARM_UP_AFTER = 64L << 20;

    private static final WarmUpTrigger WARM_UP = new WarmUpTrigger(AUTO_WARM_UP_AFTER);

    /** Whether {@link #decode} and {@link #encode} use the Vector API for bf16 now. */
    public static boolean vectorReady() {
        return warm;
    }

    /**
     * Runs the bf16 vector kernels until C2 has compiled them, then switches {@link #decode} and {@link #encode} to
     * them. They work on Java arrays only (the segment side is a bulk copy), so this warm-up on arrays is the code the
     * merge runs; a warm-up through a heap segment was thrown away (deoptimised) at the first mapped file. Idempotent;
     * a second caller waits for the first.
     */
    public static synchronized void warmUp() {
        if (warm || !VECTOR) {
            return;
        }
        short[] bits = new short[256];
        float[] values = new float[bits.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.37f - 11f;
        }
        int[] largest = {0};
        // 100 calls per batch; 120 batches (12,000 calls) always got C2 to compile them here
        WarmUpTrigger.runUntilCompiled(() -> {
            for (int rep = 0; rep < 100; rep++) {
                largest[0] |= encodeBf16Vector(values, 0, values.length, bits);
                largest[0] |= decodeBf16Vector(bits, values.length, values, 0);
            }
        }, 100L * 2 * values.length, 120);
        if (largest[0] == 0) {
            throw new AssertionError("warm-up values vanished");
        }
        warm = true;
    }

    /** Starts {@link #warmUp()} on the warm-up thread unless it has started already; returns at once. */
    public static void warmUpInBackground() {
        if (VECTOR && !warm) {
            WARM_UP.start(FloatCodec::warmUp);
        }
    }

    private static VectorSpecies<Short> halfWidthShorts() {
        int bits = F.vectorBitSize() / 2;
        if (bits < 64) {
            return null;
        }
        try {
            VectorSpecies<Short> s = VectorSpecies.of(short.class, VectorShape.forBitSize(bits));
            return s.length() == F.length() ? s : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * The float32 values of the {@code FloatVector.SPECIES_PREFERRED.length()} bf16 elements of {@code src} from element
     * {@code index} on, as one vector: for kernels that read stored bf16 straight from a file's mapping. Only when
     * {@link #VECTOR}.
     */
    public static FloatVector bf16Lanes(MemorySegment src, long index) {
        return ((IntVector) ShortVector.fromMemorySegment(S, src, 2 * index, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** The float32 bits of bf16 element {@code index} of {@code src} (the lane loaders' scalar tail). */
    public static int bf16Bits(MemorySegment src, long index) {
        return src.get(SHORT_LE, 2 * index) << 16;
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040); // force a quiet-NaN mantissa bit so it stays NaN
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** Rounds a float32 to the nearest value representable in {@code type} (identity for F32). */
    public static float roundTo(DType type, float value) {
        return switch (type) {
            case BF16 -> bf16ToFloat(floatToBf16(value));
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(value));
            case F32, F64 -> value;
            default -> throw new IllegalArgumentException("not a float type: " + type);
        };
    }

    /**
     * Reads {@code n} elements starting at element {@code from} of {@code src} into {@code dst[0..n)}; returns the
     * largest {@code |dst[i]|} as float bits without the sign (see {@link #largestMagnitudeBits}), found in the same
     * pass, for the merge's non-finite check.
     */
    public static int decode(DType type, MemorySegment src, long from, float[] dst, int n) {
        if (type == DType.BF16) {
            return decodeBf16(src, from, dst, n);
        }
        decodeScalar(type, src, from, dst, n);
        return largestMagnitudeBits(dst, 0, n);
    }

    /**
     * Writes {@code src[0..n)} as {@code type} into {@code dst} starting at byte 0; returns the largest
     * {@code |src[i]|} as float bits without the sign, found in the same pass.
     */
    public static int encode(DType type, float[] src, int n, MemorySegment dst) {
        if (type == DType.BF16) {
            return encodeBf16(src, n, dst);
        }
        encodeScalar(type, src, n, dst);
        return largestMagnitudeBits(src, 0, n);
    }

    /**
     * The largest of {@code |x[i]|}'s bits as an int over {@code [from, to)}: without the sign bit, float bits order as
     * magnitudes do, with +Inf above every finite value and NaN above +Inf, so one integer max tells whether a chunk
     * holds anything non-finite (or above a threshold).
     */
    public static int largestMagnitudeBits(float[] x, int from, int to) {
        int largest = 0;
        for (int i = from; i < to; i++) {
            largest = Math.max(largest, Float.floatToRawIntBits(x[i]) & 0x7FFFFFFF);
        }
        return largest;
    }

    /**
     * bf16 goes through a per-thread array of this many shorts (8 KiB, L1-sized): one bulk copy between it and the
     * file or buffer, then an array loop, so the vector kernels never see a segment.
     */
    private static final int PIECE = 1 << 12;
    private static final ThreadLocal<PerThread> PER_THREAD = ThreadLocal.withInitial(PerThread::new);

    /** A worker's piece of bf16 bits, and whether its last vector call looked slow on the wall clock. */
    static final class PerThread {
        final short[] bits = new short[PIECE];
        boolean suspect;

        /** The clock for this call: CPU time after a call that looked slow (see {@link #checkSpeed}), else wall time. */
        long now() {
            return suspect ? cpuTime() : System.nanoTime();
        }
    }

    private static int decodeBf16(MemorySegment src, long from, float[] dst, int n) {
        PerThread thread = PER_THREAD.get();
        short[] bits = thread.bits;
        boolean vector = warm;
        long start = vector ? thread.now() : 0;
        int largest = 0;
        for (int done = 0; done < n; done += PIECE) {
            int len = Math.min(PIECE, n - done);
            MemorySegment.copy(src, SHORT_LE, (from + done) * 2, bits, 0, len);
            largest = Math.max(largest, vector ? decodeBf16Vector(bits, len, dst, done)
                    : decodeBf16Scalar(bits, 0, len, dst, done));
        }
        checkSpeed(thread, vector, start, n);
        return largest;
    }

    private static int encodeBf16(float[] src, int n, MemorySegment dst) {
        PerThread thread = PER_THREAD.get();
        short[] bits = thread.bits;
        boolean vector = warm;
        long start = vector ? thread.now() : 0;
        int largest = 0;
        for (int done = 0; done < n; done += PIECE) {
            int len = Math.min(PIECE, n - done);
            largest = Math.max(largest, vector ? encodeBf16Vector(src, done, len, bits)
                    : encodeBf16Scalar(src, done, 0, len, bits));
            MemorySegment.copy(bits, 0, dst, SHORT_LE, 2L * done, len);
        }
        checkSpeed(thread, vector, start, n);
        return largest;
    }

    private static final Object DEMOTION = new Object();

    /** Above this, a vector call is taken to have run as interpreted or C1 code (see {@link #checkSpeed}). */
    private static final double SLOW_NANOS_PER_ELEMENT = 3;

    /**
     * Counts scalar work towards the automatic warm-up; after a vector call, checks that it ran at compiled speed.
     * When C2 throws the compiled kernel away (a deoptimisation; seen here once in a few 1 GB merges), the Vector API
     * runs ~100× slower until it is compiled again, which made a 1.5 s merge take 7 s: so a slow call sends the
     * codec back to the scalar twins and queues the warm-up again, which recompiles the kernel off the merge's path.
     *
     * <p>A call that is slow on the wall clock is only a suspicion: on 2 busy cores a thread switch in the middle of a
     * call is common, and demoting on the wall clock alone sent 4 GB merges back to the scalar twins 50-150 times each
     * (and through the warm-up as often). So the thread's next call is timed on its CPU clock (~0.5 µs to read; a
     * switch does not count there), and only a call slow on that clock demotes the codec.
     */
    private static void checkSpeed(PerThread thread, boolean vector, long start, int n) {
        if (!VECTOR) {
            return;
        }
        if (!vector) {
            WARM_UP.count(n, FloatCodec::warmUp);
            return;
        }
        if (n < PIECE) {
            return;
        }
        if (demotes(thread, thread.now() - start > n * SLOW_NANOS_PER_ELEMENT, CPU_CLOCK)) {
            synchronized (DEMOTION) { // not the warm-up's lock: a worker must never wait for a warm-up
                if (warm) {
                    warm = false;
                    WARM_UP.again(FloatCodec::warmUp);
                }
            }
        }
    }

    /**
     * Whether a vector call that was {@code slow} demotes the codec: a call timed on the wall clock only makes the
     * thread time its next call on the CPU clock, whose verdict stands (without a CPU clock the wall clock's does).
     */
    static boolean demotes(PerThread thread, boolean slow, boolean cpuClock) {
        if (!thread.suspect) {
            thread.suspect = slow && cpuClock;
            return slow && !cpuClock;
        }
        thread.suspect = false;
        return slow;
    }

    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    /** Whether this JVM reads a thread's CPU time; without it a call slow on the wall clock demotes at once. */
    private static final boolean CPU_CLOCK = THREADS.isCurrentThreadCpuTimeSupported();

    /** The current thread's CPU time (user + system), in nanoseconds. */
    private static long cpuTime() {
        return THREADS.getCurrentThreadCpuTime();
    }

    public static void decodeScalar(DType type, MemorySegment src, long from, float[] dst, int n) {
        switch (type) {
            case F32 -> MemorySegment.copy(src, FLOAT_LE, from * 4, dst, 0, n);
            case BF16 -> {
                long base = from * 2;
                for (int i = 0; i < n; i++) {
                    dst[i] = Float.intBitsToFloat(src.get(SHORT_LE, base + 2L * i) << 16);
                }
            }
            case F16 -> {
                long base = from * 2;
                for (int i = 0; i < n; i++) {
                    dst[i] = Float.float16ToFloat(src.get(SHORT_LE, base + 2L * i));
                }
            }
            case F64 -> {
                long base = from * 8;
                for (int i = 0; i < n; i++) {
                    dst[i] = (float) src.get(DOUBLE_LE, base + 8L * i);
                }
            }
            default -> throw new IllegalArgumentException("not a float type: " + type);
        }
    }

    public static void encodeScalar(DType type, float[] src, int n, MemorySegment dst) {
        switch (type) {
            case F32 -> MemorySegment.copy(src, 0, dst, FLOAT_LE, 0, n);
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(SHORT_LE, 2L * i, floatToBf16(src[i]));
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(SHORT_LE, 2L * i, Float.floatToFloat16(src[i]));
                }
            }
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(DOUBLE_LE, 8L * i, src[i]);
                }
            }
            default -> throw new IllegalArgumentException("cannot write " + type);
        }
    }

    /** {@code dst[at + i] = bits[i]} widened, for {@code i} in {@code [from, len)}; returns the largest magnitude bits. */
    static int decodeBf16Scalar(short[] bits, int from, int len, float[] dst, int at) {
        int largest = 0;
        for (int i = from; i < len; i++) {
            int b = bits[i] << 16;
            dst[at + i] = Float.intBitsToFloat(b);
            largest = Math.max(largest, b & 0x7FFFFFFF);
        }
        return largest;
    }

    /** The vector twin of {@link #decodeBf16Scalar} over {@code [0, len)}: the same bits and the same result. */
    static int decodeBf16Vector(short[] bits, int len, float[] dst, int at) {
        IntVector largest = IntVector.zero(I);
        int step = F.length();
        int i = 0;
        for (int upper = len - step + 1; i < upper; i += step) {
            IntVector wide = (IntVector) ShortVector.fromArray(S, bits, i).convertShape(VectorOperators.S2I, I, 0);
            IntVector b = wide.lanewise(VectorOperators.LSHL, 16);
            largest = largest.max(b.and(0x7FFFFFFF));
            b.reinterpretAsFloats().intoArray(dst, at + i);
        }
        return Math.max(largest.reduceLanes(VectorOperators.MAX), decodeBf16Scalar(bits, i, len, dst, at));
    }

    /**
     * {@code bits[i] = bf16(src[at + i])} for {@code i} in {@code [from, len)}; returns the largest magnitude bits of
     * the float inputs.
     */
    static int encodeBf16Scalar(float[] src, int at, int from, int len, short[] bits) {
        int largest = 0;
        for (int i = from; i < len; i++) {
            float v = src[at + i];
            largest = Math.max(largest, Float.floatToRawIntBits(v) & 0x7FFFFFFF);
            bits[i] = floatToBf16(v);
        }
        return largest;
    }

    /** The vector twin of {@link #encodeBf16Scalar} over {@code [0, len)}: the same bits and the same result. */
    static int encodeBf16Vector(float[] src, int at, int len, short[] bits) {
        IntVector largest = IntVector.zero(I);
        int step = F.length();
        int i = 0;
        for (int upper = len - step + 1; i < upper; i += step) {
            IntVector b = FloatVector.fromArray(F, src, at + i).reinterpretAsInts();
            IntVector magnitude = b.and(0x7FFFFFFF);
            // NaN: the magnitude's bits above infinity's. Not test(IS_NAN).cast(I): in about 1 in 5 4 GB DARE-TIES
            // merges C2 compiled that float test's view as integer lanes into the Java fallback, an int[] allocated
            // per vector (8 GB of garbage, 26 GCs, the heap at 0.86 GB: JFR)
            VectorMask<Integer> nan = magnitude.compare(VectorOperators.GT, 0x7F800000);
            largest = largest.max(magnitude);
            IntVector odd = b.lanewise(VectorOperators.LSHR, 16).and(1);
            IntVector rounded = b.add(0x7FFF).add(odd).lanewise(VectorOperators.LSHR, 16);
            IntVector quietNan = b.lanewise(VectorOperators.LSHR, 16).or(0x0040);
            IntVector out = rounded.blend(quietNan, nan);
            ((ShortVector) out.convertShape(VectorOperators.I2S, S, 0)).intoArray(bits, i);
        }
        return Math.max(largest.reduceLanes(VectorOperators.MAX), encodeBf16Scalar(src, at, i, len, bits));
    }
}
