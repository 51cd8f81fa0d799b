package org.mergelab.merge;

import java.lang.foreign.MemorySegment;

import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelTensor;

/** An input tensor read as float32 one chunk at a time, whatever its stored dtype. */
public interface TensorSource {
    long numel();

    /**
     * Reads elements {@code [from, from + n)} into {@code dst[0..n)}; returns their largest magnitude as float bits
     * without the sign ({@link FloatCodec#largestMagnitudeBits}), for the non-finite check. Thread-safe.
     */
    int read(long from, float[] dst, int n);

    /**
     * The stored bf16 elements, when this source reads them unchanged (element {@code i} at byte {@code 2i}); else null.
     */
    default MemorySegment bf16() {
        return null;
    }

    /**
     * A tensor of a model folder. When {@code loadDtype} is a float type other than the stored one, every value is
     * rounded to it on load, as mergekit's {@code dtype:} casts inputs at load time.
     */
    static TensorSource of(ModelTensor tensor, DType loadDtype) {
        DType stored = tensor.dtype();
        MemorySegment data = tensor.data();
        long numel = tensor.info().numel();
        boolean round = roundsOnLoad(stored, loadDtype);
        return new TensorSource() {
            @Override
            public long numel() {
                return numel;
            }

            @Override
            public int read(long from, float[] dst, int n) {
                int largest = FloatCodec.decode(stored, data, from, dst, n);
                if (!round) {
                    return largest;
                }
                for (int i = 0; i < n; i++) {
                    dst[i] = FloatCodec.roundTo(loadDtype, dst[i]);
                }
                return FloatCodec.largestMagnitudeBits(dst, 0, n); // rounding can overflow (f32 to float16)
            }

            @Override
            public MemorySegment bf16() {
                return readsStoredBf16(stored, loadDtype) ? data : null;
            }
        };
    }

    /** Whether values stored as {@code stored} are rounded to {@code loadDtype} (the config's {@code dtype:}) on load. */
    static boolean roundsOnLoad(DType stored, DType loadDtype) {
        return loadDtype != null && loadDtype != stored && loadDtype != DType.F32;
    }

    /** Whether a tensor stored as {@code stored} is read as its stored bf16 elements, unchanged ({@link #bf16}). */
    static boolean readsStoredBf16(DType stored, DType loadDtype) {
        return stored == DType.BF16 && !roundsOnLoad(stored, loadDtype);
    }

    /**
     * As {@link #of(ModelTensor, DType)}, read as {@code shape}: an input with more rows or columns (a larger
     * vocabulary) is cropped to its top-left {@code shape} corner.
     */
    static TensorSource of(ModelTensor tensor, DType loadDtype, long[] shape) {
        TensorSource whole = of(tensor, loadDtype);
        long[] own = tensor.info().shape();
        if (java.util.Arrays.equals(own, shape)) {
            return whole;
        }
        long cols = shape[1];
        long ownCols = own[1];
        long numel = shape[0] * cols;
        if (cols == ownCols) {
            return new TensorSource() { // fewer rows only: the crop is a prefix
                @Override
                public long numel() {
                    return numel;
                }

                @Override
                public int read(long from, float[] dst, int n) {
                    return whole.read(from, dst, n);
                }

                @Override
                public MemorySegment bf16() {
                    return whole.bf16();
                }
            };
        }
        return new TensorSource() {
            @Override
            public long numel() {
                return numel;
            }

            @Override
            public int read(long from, float[] dst, int n) {
                float[] piece = new float[(int) Math.min(n, cols)];
                int largest = 0;
                int done = 0;
                while (done < n) {
                    long flat = from + done;
                    long row = flat / cols;
                    long col = flat % cols;
                    int len = (int) Math.min(n - done, cols - col);
                    largest = Math.max(largest, whole.read(row * ownCols + col, piece, len));
                    System.arraycopy(piece, 0, dst, done, len);
                    done += len;
                }
                return largest;
            }
        };
    }

    /** In-memory values (tests, and merged tensors handed on without touching disk). */
    static TensorSource of(float[] values) {
        return new TensorSource() {
            @Override
            public long numel() {
                return values.length;
            }

            @Override
            public int read(long from, float[] dst, int n) {
                System.arraycopy(values, (int) from, dst, 0, n);
                return FloatCodec.largestMagnitudeBits(dst, 0, n);
            }
        };
    }
}
