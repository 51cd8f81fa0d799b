package org.mergelab.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.mergelab.BadInputException;
import org.mergelab.eval.Generator;
import org.mergelab.eval.LlamaConfig;
import org.mergelab.eval.LlamaGraph;
import org.mergelab.eval.LlamaModel;
import org.mergelab.eval.OrtRuntime;
import org.mergelab.eval.Scorer;
import org.mergelab.eval.Weights;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.io.OutTensor;

/**
 * Speed of the evaluation path on one model folder, measured in one run: graph build, session creation (weights held
 * in memory as a merge leaves them, and from the folder), scoring throughput over a batch × sequence grid through the
 * {@link Scorer} the evaluator uses, and greedy generation through the {@link Generator} with the KV-cache DECODER
 * graph against the uncached LOGITS graph, each for every ONNX Runtime intra-op thread count asked for.
 *
 * <p>Each sample times enough calls to last at least {@link Settings#minSampleSeconds()} (the count is fixed per
 * measurement after an untimed warm-up call), so the shortest cells are not timer noise. Repetitions interleave
 * everything: within one repetition every thread count runs every measurement, in ABBA order across repetitions, so
 * load from other work on a shared machine lands on all of them alike. Medians over the repetitions are reported.
 * Token ids are drawn from a fixed seed (speed does not depend on them); generation never stops early (no end token).
 */
public final class EvalBenchmark {
    /** Tokens of every generation prompt. */
    public static final int PROMPT_TOKENS = 16;

    /** What to run. */
    public record Settings(Path model, List<Integer> batches, List<Integer> seqs, List<Integer> genTokens,
            List<Integer> threads, int reps, double minSampleSeconds) {}

    /** The model measured, as config.json and the weights describe it. */
    public record Shape(String path, String architecture, int layers, int hidden, int intermediate, int heads,
            int kvHeads, int headDim, int vocab, int maxPositions, long parameters, String storedDtype,
            long storedBytes) {}

    /** One timed configuration: the median and every repetition's value. */
    public record Stat(double median, List<Double> samples) {
        static Stat of(List<Double> samples) {
            return new Stat(EvalBenchmark.median(samples), List.copyOf(samples));
        }
    }

    /** Serializing the ONNX graph of one variant (no ORT involved, so one value for every thread count). */
    public record GraphBuild(String variant, Stat ms) {}

    /**
     * Creating one session: reading the weights as float32 (hashed on the way), handing them to ORT as overridden
     * initializers and optimizing the graph; {@code source} "memory" holds them as the stored dtype in memory (what a
     * sweep's merge leaves), "folder" opens the model folder first (memory-mapped safetensors, page cache warm).
     */
    public record Session(int threads, String variant, String source, Stat ms) {}

    /** Scoring {@code batch} sequences of {@code seq} tokens in one padded batch; tokens scored per second. */
    public record Scoring(int threads, int batch, int seq, Stat tokensPerSecond) {}

    /**
     * Greedy generation of {@code newTokens} after a {@value #PROMPT_TOKENS}-token prompt for {@code batch} rows; new
     * tokens per second (the prompt's pass included in the time), with and without the KV cache.
     */
    public record Generation(int threads, int batch, int prompt, int newTokens, Stat uncached, Stat cached) {
        public double speedup() {
            return cached.median() / uncached.median();
        }
    }

    /**
     * @param cores available processors
     * @param loadStart the 1-minute load average when the run started (NaN where unknown): other work on the machine
     * @param loadEnd the same when it ended
     */
    public record Report(String machine, String ortVersion, int cores, double loadStart, double loadEnd, Shape model,
            int reps,
            List<Integer> threads, double minSampleSeconds, List<GraphBuild> graphs, List<Session> sessions,
            List<Scoring> scoring, List<Generation> generation) {}

    private final Settings settings;
    private final Consumer<String> log;

    public EvalBenchmark(Settings settings, Consumer<String> log) {
        this.settings = settings;
        this.log = log;
    }

    /** One call of a measured operation. */
    private interface Work {
        void run() throws Exception;
    }

    /** Calls per sample, fixed after the warm-up, and the samples (values per second, or ms per call). */
    private static final class Timed {
        final Work work;
        final double units;
        int calls;
        final List<Double> samples = new ArrayList<>();

        Timed(Work work, double units) {
            this.work = work;
            this.units = units;
        }
    }

    public Report run() throws Exception {
        double loadBefore = Machine.loadAverage();
        try (ModelFolder folder = ModelFolder.open(settings.model()); Arena arena = Arena.ofShared()) {
            LlamaConfig config = LlamaConfig.of(folder);
            check(config);
            Weights memory = inMemory(folder, arena);
            Shape shape = shape(folder, config);
            Map<Integer, OrtRuntime> runtimes = new LinkedHashMap<>();
            for (int t : settings.threads()) {
                runtimes.put(t, OrtRuntime.create(t));
            }
            List<LlamaModel> open = new ArrayList<>();
            try {
                return measure(folder, config, memory, shape, runtimes, open, loadBefore);
            } finally {
                open.forEach(LlamaModel::close);
            }
        }
    }

    private Report measure(ModelFolder folder, LlamaConfig config, Weights memory, Shape shape,
            Map<Integer, OrtRuntime> runtimes, List<LlamaModel> open, double loadBefore) throws Exception {
        Path dir = folder.dir();
        // one list of measurements per thread count, run in this order within a repetition
        Map<Integer, Map<String, Timed>> byThreads = new LinkedHashMap<>();
        Map<String, Timed> graphs = new LinkedHashMap<>();
        for (LlamaGraph.Variant v : LlamaGraph.Variant.values()) {
            graphs.put(v.name(), new Timed(() -> LlamaGraph.build(config, v), 0));
        }
        for (var e : runtimes.entrySet()) {
            OrtRuntime rt = e.getValue();
            Map<String, Timed> m = new LinkedHashMap<>();
            for (LlamaGraph.Variant v : LlamaGraph.Variant.values()) {
                rt.graph(config, v); // built once per runtime, as in a sweep: sessions below exclude it
                m.put("session " + v + " memory", new Timed(() -> LlamaModel.open(rt, config, memory, v).close(), 0));
                m.put("session " + v + " folder", new Timed(() -> {
                    try (ModelFolder f = ModelFolder.open(dir)) {
                        LlamaModel.open(rt, LlamaConfig.of(f), Weights.of(f), v).close();
                    }
                }, 0));
            }
            LlamaModel logits = LlamaModel.open(rt, config, memory, LlamaGraph.Variant.LOGITS);
            open.add(logits);
            LlamaModel decoder = LlamaModel.open(rt, config, memory, LlamaGraph.Variant.DECODER);
            open.add(decoder);
            for (int batch : settings.batches()) {
                for (int seq : settings.seqs()) {
                    List<Scorer.Request> requests = new ArrayList<>();
                    SplittableRandom r = new SplittableRandom(seq * 1000L + batch);
                    for (int i = 0; i < batch; i++) {
                        requests.add(new Scorer.Request(tokens(r, seq + 1, config.vocabSize()), 1));
                    }
                    Scorer scorer = new Scorer(logits, batch);
                    m.put("score " + batch + "x" + seq, new Timed(() -> scorer.score(requests), batch * seq));
                }
            }
            for (int batch : settings.batches()) {
                List<long[]> prompts = new ArrayList<>();
                SplittableRandom r = new SplittableRandom(7L * batch);
                for (int i = 0; i < batch; i++) {
                    prompts.add(tokens(r, PROMPT_TOKENS, config.vocabSize()));
                }
                Generator uncached = new Generator(logits, batch);
                Generator cached = new Generator(decoder, batch);
                for (int n : settings.genTokens()) {
                    m.put("generate " + batch + "x" + n + " LOGITS", new Timed(() -> uncached.greedy(prompts, n,
                            Set.of(), t -> false), batch * n));
                    m.put("generate " + batch + "x" + n + " DECODER", new Timed(() -> cached.greedy(prompts, n,
                            Set.of(), t -> false), batch * n));
                }
            }
            byThreads.put(e.getKey(), m);
        }

        log.accept("warming up and sizing the samples (at least " + settings.minSampleSeconds() + " s each)");
        for (Timed t : graphs.values()) {
            calibrate(t);
        }
        for (var m : byThreads.values()) {
            for (Timed t : m.values()) {
                calibrate(t);
            }
        }
        List<Integer> order = new ArrayList<>(byThreads.keySet());
        List<Timed> builds = new ArrayList<>(graphs.values());
        for (int rep = 0; rep < settings.reps(); rep++) {
            log.accept("repetition " + (rep + 1) + " of " + settings.reps() + ", threads " + order);
            for (Timed t : builds) {
                sample(t);
            }
            builds = builds.reversed();
            for (int threads : order) {
                for (Timed t : byThreads.get(threads).values()) {
                    sample(t);
                }
            }
            order = order.reversed();
        }

        List<GraphBuild> graphBuilds = new ArrayList<>();
        graphs.forEach((v, t) -> graphBuilds.add(new GraphBuild(v, Stat.of(t.samples))));
        List<Session> sessions = new ArrayList<>();
        List<Scoring> scoring = new ArrayList<>();
        List<Generation> generation = new ArrayList<>();
        for (var e : byThreads.entrySet()) {
            int threads = e.getKey();
            Map<String, Timed> m = e.getValue();
            for (LlamaGraph.Variant v : LlamaGraph.Variant.values()) {
                for (String source : List.of("memory", "folder")) {
                    sessions.add(new Session(threads, v.name(), source,
                            Stat.of(m.get("session " + v + " " + source).samples)));
                }
            }
            for (int batch : settings.batches()) {
                for (int seq : settings.seqs()) {
                    scoring.add(new Scoring(threads, batch, seq, Stat.of(m.get("score " + batch + "x" + seq)
                            .samples)));
                }
            }
            for (int batch : settings.batches()) {
                for (int n : settings.genTokens()) {
                    generation.add(new Generation(threads, batch, PROMPT_TOKENS, n,
                            Stat.of(m.get("generate " + batch + "x" + n + " LOGITS").samples),
                            Stat.of(m.get("generate " + batch + "x" + n + " DECODER").samples)));
                }
            }
        }
        return new Report(Machine.describe(), OrtRuntime.version(), Runtime.getRuntime().availableProcessors(),
                loadBefore, Machine.loadAverage(), shape, settings.reps(),
                List.copyOf(settings.threads()), settings.minSampleSeconds(), graphBuilds, sessions, scoring,
                generation);
    }

    /** An untimed warm-up call, then one timed call to fix how many calls a sample takes. */
    private void calibrate(Timed t) throws Exception {
        t.work.run();
        long start = System.nanoTime();
        t.work.run();
        double seconds = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
        t.calls = (int) Math.max(1, Math.min(10_000, Math.ceil(settings.minSampleSeconds() / seconds)));
    }

    /** One sample: units per second, or milliseconds per call when the work has no units. */
    private static void sample(Timed t) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < t.calls; i++) {
            t.work.run();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        t.samples.add(t.units > 0 ? t.units * t.calls / seconds : seconds * 1e3 / t.calls);
    }

    private void check(LlamaConfig config) {
        int longest = settings.seqs().stream().mapToInt(Integer::intValue).max().orElse(0);
        if (longest > config.maxPositions()) {
            throw new BadInputException("--seqs " + longest + " is longer than " + settings.model()
                    + " allows (max_position_embeddings " + config.maxPositions() + ")");
        }
        int generated = PROMPT_TOKENS + settings.genTokens().stream().mapToInt(Integer::intValue).max().orElse(0);
        if (generated > config.maxPositions()) {
            throw new BadInputException("--gen-tokens: a " + PROMPT_TOKENS + "-token prompt plus "
                    + (generated - PROMPT_TOKENS) + " new tokens is longer than " + settings.model()
                    + " allows (max_position_embeddings " + config.maxPositions() + ")");
        }
    }

    /** The folder's float tensors copied into memory as stored, the way a sweep holds a merge it evaluates. */
    private static Weights inMemory(ModelFolder folder, Arena arena) {
        Map<OutTensor, MemorySegment> stored = new LinkedHashMap<>();
        for (ModelTensor t : folder.tensors()) {
            if (t.dtype().isFloat()) {
                MemorySegment copy = arena.allocate(t.data().byteSize(), 64);
                copy.copyFrom(t.data());
                stored.put(new OutTensor(t.name(), t.dtype(), t.info().shape()), copy);
            }
        }
        return Weights.of(stored, folder.dir() + " (in memory)");
    }

    private Shape shape(ModelFolder folder, LlamaConfig config) {
        long params = 0;
        for (long[] s : config.tensors().values()) {
            long n = 1;
            for (long d : s) {
                n *= d;
            }
            params += n;
        }
        long bytes = 0;
        Set<String> dtypes = new TreeSet<>();
        for (ModelTensor t : folder.tensors()) {
            bytes += t.data().byteSize();
            dtypes.add(t.dtype().toString().toLowerCase(Locale.ROOT));
        }
        return new Shape(settings.model().toString(), config.architecture(), config.numLayers(), config.hiddenSize(),
                config.intermediateSize(), config.numHeads(), config.numKvHeads(), config.headDim(),
                config.vocabSize(), config.maxPositions(), params, String.join("+", dtypes), bytes);
    }

    /** Token ids that are neither padding, BOS nor EOS where the vocabulary allows. */
    private static long[] tokens(SplittableRandom r, int n, int vocab) {
        int low = vocab > 3 ? 3 : 0;
        return r.longs(n, low, vocab).toArray();
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
