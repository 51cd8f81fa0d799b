package org.mergelab.eval;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import org.mergelab.BadInputException;
import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.io.OutTensor;

/**
 * A model's tensors by HF name, read as float32 whatever they are stored as: a model folder on disk (bf16 and f16
 * widen exactly), or tensors in memory such as a merge's output (as float32 arrays, or in their stored dtype). Only
 * the tensors a graph needs are ever read.
 */
public interface Weights {
    /** Names and shapes, HF layout. */
    Map<String, long[]> shapes();

    /** Writes the float32 values of {@code name} into {@code dst} (native order, exactly numel floats). */
    void read(String name, MemorySegment dst);

    /** Where the weights come from, for messages. */
    String source();

    /** The float tensors of an open model folder (the folder must stay open while these are read). */
    static Weights of(ModelFolder folder) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (ModelTensor t : folder.tensors()) {
            if (t.dtype().isFloat()) {
                shapes.put(t.name(), t.info().shape());
            }
        }
        Map<String, long[]> view = Collections.unmodifiableMap(shapes);
        return new Weights() {
            @Override
            public Map<String, long[]> shapes() {
                return view;
            }

            @Override
            public void read(String name, MemorySegment dst) {
                ModelTensor t = folder.tensor(name);
                decode(t.dtype(), t.data(), t.info().numel(), dst);
            }

            @Override
            public String source() {
                return folder.dir().toString();
            }
        };
    }

    /**
     * Tensors held in memory as they would be stored: each segment holds its tensor's values in the tensor's dtype,
     * little-endian, row-major (a merge's output before, or instead of, being written to disk).
     */
    static Weights of(Map<OutTensor, MemorySegment> stored, String source) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, OutTensor> byName = new LinkedHashMap<>();
        stored.forEach((t, data) -> {
            if (data.byteSize() != t.byteSize()) {
                throw new IllegalArgumentException(source + ": tensor '" + t.name() + "' has " + data.byteSize()
                        + " bytes; " + t.dtype() + " " + Arrays.toString(t.shape()) + " needs " + t.byteSize());
            }
            shapes.put(t.name(), t.shape());
            byName.put(t.name(), t);
        });
        Map<String, long[]> view = Collections.unmodifiableMap(shapes);
        return new Weights() {
            @Override
            public Map<String, long[]> shapes() {
                return view;
            }

            @Override
            public void read(String name, MemorySegment dst) {
                OutTensor t = byName.get(name);
                decode(t.dtype(), stored.get(t), t.numel(), dst);
            }

            @Override
            public String source() {
                return source;
            }
        };
    }

    /** Widens {@code numel} stored values of {@code type} to float32 in {@code dst}, a chunk at a time. */
    private static void decode(DType type, MemorySegment src, long numel, MemorySegment dst) {
        float[] chunk = new float[(int) Math.min(numel, 1 << 16)];
        for (long off = 0; off < numel; off += chunk.length) {
            int n = (int) Math.min(chunk.length, numel - off);
            FloatCodec.decode(type, src, off, chunk, n);
            MemorySegment.copy(chunk, 0, dst, JAVA_FLOAT, off * 4, n);
        }
    }

    /** Tensors held in memory: {@code values.get(name)} in row-major order of {@code shapes.get(name)}. */
    static Weights of(Map<String, float[]> values, Map<String, long[]> shapes, String source) {
        for (var e : shapes.entrySet()) {
            float[] v = values.get(e.getKey());
            long numel = 1;
            for (long d : e.getValue()) {
                numel *= d;
            }
            if (v == null || v.length != numel) {
                throw new BadInputException(source + ": tensor '" + e.getKey() + "' has "
                        + (v == null ? "no values" : v.length + " values") + "; its shape needs " + numel);
            }
        }
        Map<String, long[]> view = Collections.unmodifiableMap(new LinkedHashMap<>(shapes));
        return new Weights() {
            @Override
            public Map<String, long[]> shapes() {
                return view;
            }

            @Override
            public void read(String name, MemorySegment dst) {
                float[] v = values.get(name);
                MemorySegment.copy(v, 0, dst, JAVA_FLOAT, 0, v.length);
            }

            @Override
            public String source() {
                return source;
            }
        };
    }
}
