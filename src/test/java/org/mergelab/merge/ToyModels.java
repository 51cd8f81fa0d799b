package org.mergelab.merge;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.io.ModelWriter;
import org.mergelab.io.OutTensor;

/** Small non-Llama model folders with chosen float values (NaN and infinities included), for merge tests. */
public final class ToyModels {
    private ToyModels() {}

    /** Writes {@code tensors} (1-D, in map order) as {@code type} into a model folder {@code dir}. */
    public static Path write(Path dir, DType type, Map<String, float[]> tensors) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(ModelFolder.CONFIG), "{\"model_type\": \"toy\"}\n");
        List<OutTensor> specs = new ArrayList<>();
        tensors.forEach((name, v) -> specs.add(new OutTensor(name, type, new long[] {v.length})));
        try (ModelWriter w = ModelWriter.create(dir, specs, Long.MAX_VALUE, Map.of("format", "pt"))) {
            int i = 0;
            for (float[] v : tensors.values()) {
                ByteBuffer buf = ByteBuffer.allocateDirect(v.length * type.width()).order(ByteOrder.LITTLE_ENDIAN);
                FloatCodec.encodeScalar(type, v, v.length, MemorySegment.ofBuffer(buf));
                w.write(i++, 0, buf);
            }
            w.finish();
        }
        return dir;
    }

    /** {@code n} values uniform in [-scale, scale), the same for the same seed. */
    public static float[] random(long seed, int n, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-scale, scale);
        }
        return v;
    }

    /** A copy of {@code values} with {@code value} at each of {@code at}. */
    public static float[] planted(float[] values, float value, int... at) {
        float[] v = values.clone();
        for (int i : at) {
            v[i] = value;
        }
        return v;
    }

    /** The NaN and infinite values a model folder's tensor holds, read back from disk. */
    public static NonFinite countOnDisk(Path model, String tensor) throws IOException {
        try (ModelFolder m = ModelFolder.open(model)) {
            ModelTensor t = m.tensor(tensor);
            int n = Math.toIntExact(t.info().numel());
            float[] v = new float[n];
            FloatCodec.decodeScalar(t.dtype(), t.data(), 0, v, n);
            long nan = 0;
            long inf = 0;
            for (float x : v) {
                nan += Float.isNaN(x) ? 1 : 0;
                inf += Float.isInfinite(x) ? 1 : 0;
            }
            return new NonFinite(nan, inf);
        }
    }
}
