package org.mergelab.eval;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession.SessionOptions;

/**
 * The one place that configures ONNX Runtime: the process-wide environment (native libraries from a persistent cache,
 * warnings and errors only), session options (intra-op threads from {@code --threads}, full graph optimization), and
 * the built graphs, kept per (config, variant) so a sweep builds each graph once and only swaps weights.
 */
public final class OrtRuntime {
    private record GraphKey(LlamaConfig config, LlamaGraph.Variant variant) {}

    private final OrtEnvironment env;
    private final int threads;
    private final Map<GraphKey, byte[]> graphs = new ConcurrentHashMap<>();

    private OrtRuntime(OrtEnvironment env, int threads) {
        this.env = env;
        this.threads = threads;
    }

    /** @param threads intra-op threads per session (≥ 1) */
    public static OrtRuntime create(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1");
        }
        OrtNatives.prepare();
        return new OrtRuntime(OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "mergelab"),
                threads);
    }

    /** The ONNX Runtime Java package's version (as its jar states it), for reports. */
    public static String version() {
        String v = OrtEnvironment.class.getPackage().getImplementationVersion();
        return v != null ? v : "unknown";
    }

    public OrtEnvironment env() {
        return env;
    }

    public int threads() {
        return threads;
    }

    /** The serialized graph for this architecture and variant, built on first use. */
    public byte[] graph(LlamaConfig config, LlamaGraph.Variant variant) {
        return graphs.computeIfAbsent(new GraphKey(config, variant), k -> LlamaGraph.build(k.config(),
                k.variant()));
    }

    /** Fresh options for one session; the caller adds the weights and closes them. */
    SessionOptions options() throws OrtException {
        SessionOptions o = new SessionOptions();
        o.setIntraOpNumThreads(threads);
        o.setInterOpNumThreads(1);
        o.setOptimizationLevel(SessionOptions.OptLevel.ALL_OPT);
        o.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
        return o;
    }
}
