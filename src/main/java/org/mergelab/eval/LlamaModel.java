package org.mergelab.eval;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.mergelab.BadInputException;
import org.mergelab.io.ModelFolder;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;

/**
 * One model (one weight set) in an ONNX Runtime session: runs forward passes over padded batches.
 *
 * <p>Each weight is read once, as float32, into native memory, hashed on the way ({@link #identity()}: SHA-256 over
 * names, shapes and float32 values, so a model has the same identity as bf16 on disk and as float32 in memory when
 * the values agree), and handed over with {@code addExternalInitializers}: the graph declares every weight as
 * external data, ORT copies the values in before optimizing, and the native buffers are freed as soon as the
 * session exists (peak ≈ 2× the float32 weights during creation, 1× after).
 *
 * <p>Why not {@code addInitializer}: ORT 1.29 validates the graph's own initializers before applying overrides
 * (embedded data must match the shape; external data must exist on disk), so it needed a full-size placeholder file
 * here; it measured no faster (≈100 ms either way for a 4-layer, 256-wide model), and since ORT prepacks the Gemm
 * weights anyway, the caller's buffers would stay alive beside the packed copy.
 */
public final class LlamaModel implements AutoCloseable {
    private final OrtRuntime runtime;
    private final LlamaConfig config;
    private final LlamaGraph.Variant variant;
    private final OrtSession session;
    private final String identity;
    private final long parameters;
    private final double sessionSeconds;

    private LlamaModel(OrtRuntime runtime, LlamaConfig config, LlamaGraph.Variant variant, OrtSession session,
            String identity, long parameters, double sessionSeconds) {
        this.runtime = runtime;
        this.config = config;
        this.variant = variant;
        this.session = session;
        this.identity = identity;
        this.parameters = parameters;
        this.sessionSeconds = sessionSeconds;
    }

    /**
     * Opens a session of {@code variant} on {@code weights}. Every tensor {@code config} needs must be present with
     * its shape ({@link BadInputException} otherwise); other tensors are ignored.
     */
    public static LlamaModel open(OrtRuntime runtime, LlamaConfig config, Weights weights,
            LlamaGraph.Variant variant) throws OrtException {
        Map<String, long[]> needed = config.tensors();
        check(config, weights, needed);
        byte[] graph = runtime.graph(config, variant);
        long started = System.nanoTime();
        Arena arena = Arena.ofShared();
        List<OnnxTensor> tensors = new ArrayList<>();
        try {
            MessageDigest sha = sha256();
            Map<String, OnnxTensorLike> byName = new LinkedHashMap<>();
            long params = 0;
            for (var e : needed.entrySet()) {
                long numel = numel(e.getValue());
                if (numel * 4 > Integer.MAX_VALUE) {
                    throw new BadInputException(weights.source() + ": tensor '" + e.getKey() + "' is over 2 GiB as"
                            + " float32; ONNX Runtime's Java API takes at most 2 GiB per buffer");
                }
                MemorySegment seg = arena.allocate(numel * 4, 64);
                weights.read(e.getKey(), seg);
                sha.update((e.getKey() + Arrays.toString(e.getValue())).getBytes(StandardCharsets.UTF_8));
                var bytes = seg.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                sha.update(bytes.duplicate());
                FloatBuffer fb = bytes.order(ByteOrder.nativeOrder()).asFloatBuffer();
                OnnxTensor t = OnnxTensor.createTensor(runtime.env(), fb, e.getValue());
                tensors.add(t);
                byName.put(e.getKey(), t);
                params += numel;
            }
            OrtSession session;
            try (SessionOptions opts = runtime.options()) {
                opts.addExternalInitializers(byName);
                session = runtime.env().createSession(graph, opts);
            }
            return new LlamaModel(runtime, config, variant, session, "sha256:" + HexFormat.of().formatHex(sha.digest()),
                    params, (System.nanoTime() - started) / 1e9);
        } finally {
            tensors.forEach(OnnxTensor::close);
            arena.close();
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A model folder's weights under its own config.json (biases the checkpoint carries switched on). */
    public static LlamaModel open(OrtRuntime runtime, ModelFolder folder, LlamaGraph.Variant variant)
            throws OrtException {
        return open(runtime, LlamaConfig.of(folder), Weights.of(folder), variant);
    }

    /** What a results file records about the model. */
    public record Info(String architecture, String identity, long parameters, LlamaGraph.Variant variant,
            double sessionSeconds) {}

    public Info info() {
        return new Info(config.architecture(), identity, parameters, variant, sessionSeconds);
    }

    private static void check(LlamaConfig config, Weights weights, Map<String, long[]> needed) {
        Map<String, long[]> have = weights.shapes();
        List<String> missing = new ArrayList<>();
        for (var e : needed.entrySet()) {
            long[] shape = have.get(e.getKey());
            if (shape == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(shape, e.getValue())) {
                throw new BadInputException(weights.source() + ": tensor '" + e.getKey() + "' has shape "
                        + Arrays.toString(shape) + "; config.json (" + config.architecture() + ") implies "
                        + Arrays.toString(e.getValue()));
            }
        }
        if (!missing.isEmpty()) {
            throw new BadInputException(weights.source() + ": missing tensor '" + missing.get(0) + "'"
                    + (missing.size() > 1 ? " and " + (missing.size() - 1) + " more" : "")
                    + " required by config.json (" + config.architecture() + ", " + config.numLayers() + " layers)");
        }
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaGraph.Variant variant() {
        return variant;
    }

    /** SHA-256 over the tensors the graph reads (name, shape, float32 values). */
    public String identity() {
        return identity;
    }

    public long parameters() {
        return parameters;
    }

    /** Seconds to read the weights (as float32, hashed) and create the session. */
    public double sessionSeconds() {
        return sessionSeconds;
    }

    /** Keys and values of every layer after a forward pass; feed it to the next one, close it when done. */
    public static final class KvCache implements AutoCloseable {
        private final OrtSession.Result result;
        private final int length;

        private KvCache(OrtSession.Result result, int length) {
            this.result = result;
            this.length = length;
        }

        /** Positions held (past + the tokens of the pass that produced it). */
        public int length() {
            return length;
        }

        OnnxTensorLike key(int layer) {
            return (OnnxTensorLike) result.get("present." + layer + ".key").orElseThrow();
        }

        OnnxTensorLike value(int layer) {
            return (OnnxTensorLike) result.get("present." + layer + ".value").orElseThrow();
        }

        @Override
        public void close() {
            result.close();
        }
    }

    /** Logits [batch, seq, vocab] row-major, and with the DECODER variant the cache including this pass. */
    public record Step(float[] logits, int batch, int seq, int vocab, KvCache cache) {
        /** Offset of the logits of (row, position) in {@link #logits()}. */
        public int offset(int row, int position) {
            return (row * seq + position) * vocab;
        }
    }

    /**
     * One forward pass. {@code ids} and {@code positions} are [batch, seq] row-major; {@code mask} is
     * [batch, past + seq] (1 for real tokens); {@code past} is null for none. With the DECODER variant the returned
     * step holds the new cache (close it); {@link #logitsOnly} skips it.
     */
    public Step run(long[] ids, long[] positions, long[] mask, int batch, KvCache past) throws OrtException {
        return run(ids, positions, mask, batch, past, true);
    }

    /** A forward pass that returns only logits, whatever the variant (no cache is kept). */
    public Step logitsOnly(long[] ids, long[] positions, long[] mask, int batch) throws OrtException {
        return run(ids, positions, mask, batch, null, false);
    }

    private Step run(long[] ids, long[] positions, long[] mask, int batch, KvCache past, boolean keepCache)
            throws OrtException {
        int seq = ids.length / batch;
        int total = mask.length / batch;
        int pastLen = past == null ? 0 : past.length();
        if (ids.length != batch * seq || positions.length != ids.length || mask.length != batch * total
                || total != pastLen + seq) {
            throw new IllegalArgumentException("inconsistent batch: ids " + ids.length + ", positions "
                    + positions.length + ", mask " + mask.length + ", batch " + batch + ", past " + pastLen);
        }
        if (past != null && variant != LlamaGraph.Variant.DECODER) {
            throw new IllegalStateException("a KV cache needs the DECODER variant");
        }
        for (long id : ids) {
            if (id < 0 || id >= config.vocabSize()) {
                // e.g. a tokenizer.json with more tokens than the model's vocab_size
                throw new BadInputException("token id " + id + " is outside the model's vocabulary (0.."
                        + (config.vocabSize() - 1) + ")");
            }
        }
        List<OnnxTensor> owned = new ArrayList<>();
        try {
            Map<String, OnnxTensorLike> in = new LinkedHashMap<>();
            in.put("input_ids", own(owned, longs(ids, new long[] {batch, seq})));
            in.put("position_ids", own(owned, longs(positions, new long[] {batch, seq})));
            in.put("attention_mask", own(owned, longs(mask, new long[] {batch, total})));
            if (variant == LlamaGraph.Variant.DECODER) {
                OnnxTensor empty = past == null ? own(owned, OnnxTensor.createTensor(runtime.env(),
                        FloatBuffer.allocate(0), new long[] {batch, config.numKvHeads(), 0, config.headDim()})) : null;
                for (int l = 0; l < config.numLayers(); l++) {
                    in.put("past_key_values." + l + ".key", past == null ? empty : past.key(l));
                    in.put("past_key_values." + l + ".value", past == null ? empty : past.value(l));
                }
            }
            boolean cache = keepCache && variant == LlamaGraph.Variant.DECODER;
            // only the requested outputs are kept to the end of the run: scoring need not hold every layer's K/V
            OrtSession.Result r = cache ? session.run(in) : session.run(in, Set.of("logits"));
            float[] logits;
            try {
                FloatBuffer fb = ((OnnxTensor) r.get("logits").orElseThrow()).getFloatBuffer();
                logits = fb.hasArray() && fb.arrayOffset() == 0 && fb.array().length == fb.remaining() ? fb.array()
                        : copy(fb);
            } catch (RuntimeException e) {
                r.close();
                throw e;
            }
            if (cache) {
                return new Step(logits, batch, seq, config.vocabSize(), new KvCache(r, total));
            }
            r.close();
            return new Step(logits, batch, seq, config.vocabSize(), null);
        } finally {
            owned.forEach(OnnxTensor::close);
        }
    }

    private static float[] copy(FloatBuffer fb) {
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    private OnnxTensor longs(long[] values, long[] shape) throws OrtException {
        return OnnxTensor.createTensor(runtime.env(), LongBuffer.wrap(values), shape);
    }

    private static OnnxTensor own(List<OnnxTensor> owned, OnnxTensor t) {
        owned.add(t);
        return t;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the ONNX Runtime session: " + e.getMessage(), e);
        }
    }
}
