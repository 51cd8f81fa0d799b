package org.mergelab.eval;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import org.mergelab.BadInputException;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;

/**
 * A model's tensors by HF name, read as float32 whatever they are stored as: a model folder on disk (bf16 and f16
 * widen exactly), or tensors in memory such as a merge's output. Only the tensors a graph needs are ever read.
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
                MemorySegment src = t.data();
                long numel = t.info().numel();
                float[] chunk = new float[(int) Math.min(numel, 1 << 16)];
                for (long off = 0; off < numel; off += chunk.length) {
                    int n = (int) Math.min(chunk.length, numel - off);
                    FloatCodec.decode(t.dtype(), src, off, chunk, n);
                    MemorySegment.copy(chunk, 0, dst, JAVA_FLOAT, off * 4, n);
                }
            }

            @Override
            public String source() {
                return folder.dir().toString();
            }
        };
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
