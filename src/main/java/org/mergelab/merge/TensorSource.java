package org.mergelab.merge;

import java.lang.foreign.MemorySegment;

import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelTensor;

/** An input tensor read as float32 one chunk at a time, whatever its stored dtype. */
public interface TensorSource {
    long numel();

    /** Reads elements {@code [from, from + n)} into {@code dst[0..n)}. Thread-safe. */
    void read(long from, float[] dst, int n);

    /**
     * A tensor of a model folder. When {@code loadDtype} is a float type other than the stored one, every value is
     * rounded to it on load, as mergekit's {@code dtype:} casts inputs at load time.
     */
    static TensorSource of(ModelTensor tensor, DType loadDtype) {
        DType stored = tensor.dtype();
        MemorySegment data = tensor.data();
        long numel = tensor.info().numel();
        boolean round = loadDtype != null && loadDtype != stored && loadDtype != DType.F32;
        return new TensorSource() {
            @Override
            public long numel() {
                return numel;
            }

            @Override
            public void read(long from, float[] dst, int n) {
                FloatCodec.decode(stored, data, from, dst, n);
                if (round) {
                    for (int i = 0; i < n; i++) {
                        dst[i] = FloatCodec.roundTo(loadDtype, dst[i]);
                    }
                }
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
            public void read(long from, float[] dst, int n) {
                System.arraycopy(values, (int) from, dst, 0, n);
            }
        };
    }
}
