package org.mergelab.zoo.train;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.mergelab.zoo.CharTokenizer;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Trains a model of the family in DL4J SameDiff. The graph's variables are the HF tensors themselves (same names,
 * same shapes), so exporting is writing them out, and the exported folder scored by the evaluation's ONNX graph gives
 * the log-probs of {@link #tokenLogprobs} (up to float rounding and the bf16 storage).
 *
 * <p>A step is one forward and backward pass ({@code calculateGradientsAndOutputs}, which also returns the loss)
 * followed by an {@link AdamW} update at the learning rate the caller passes, so any schedule is the caller's loop.
 * Not thread-safe.
 */
public final class LlamaTrainer implements AutoCloseable {
    static {
        // ND4J logs its backend, build information and op-mapping warnings at INFO/WARN on every start: noise on a
        // CLI's stderr (java-stack.md G15). An explicit setting of the property wins.
        if (System.getProperty("org.slf4j.simpleLogger.log.org.nd4j") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.org.nd4j", "error");
        }
    }

    /** Standard deviation of the initial matrices (HF's {@code initializer_range}). */
    static final double INIT_STD = 0.02;
    /**
     * Rows of work after which the garbage collector is run: a training row counts 3 (forward and backward), a
     * forward-only row 1. SameDiff's intermediate arrays live in native memory that is freed only when the garbage
     * collector finds their small Java wrappers, and the Java heap grows too slowly to trigger it: measured at batch
     * 32 × 128 (default shape), resident memory grew by 1.1 GB per step to 9.9 GB before the first collection, and
     * steps took 1.8–2.0 s while touching fresh pages; with a collection (~50 ms) after each step it stayed at 2.3 GB
     * and steps took 0.9–1.3 s on the same, busy machine.
     */
    static final int WORK_PER_COLLECTION = 48;

    private final ModelShape shape;
    private final SameDiff sd;
    private final Map<String, INDArray> params = new LinkedHashMap<>();
    private final List<String> names;
    private final AdamW optimizer;
    private boolean backwardBuilt;
    private double lastGradientNorm = Double.NaN;
    private int workSinceCollection;

    private LlamaTrainer(ModelShape shape, Map<String, float[]> weights, AdamW.Settings settings) {
        this.shape = shape;
        this.sd = SameDiffLlama.build(shape, weights);
        this.names = List.copyOf(shape.tensors().keySet());
        for (String name : names) {
            params.put(name, sd.getVariable(name).getArr());
        }
        this.optimizer = new AdamW(settings, params);
    }

    /**
     * A new model: matrices drawn from normal(0, {@value #INIT_STD}), norm weights 1, as HF initializes a Llama. The
     * draws depend on the seed only (not on ND4J's RNG).
     */
    public static LlamaTrainer create(ModelShape shape, long seed) {
        return create(shape, seed, AdamW.Settings.defaults());
    }

    public static LlamaTrainer create(ModelShape shape, long seed, AdamW.Settings settings) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, float[]> weights = new LinkedHashMap<>();
        shape.tensors().forEach((name, dims) -> {
            float[] v = new float[(int) numel(dims)];
            if (dims.length == 1) {
                Arrays.fill(v, 1f);
            } else {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (random.nextGaussian() * INIT_STD);
                }
            }
            weights.put(name, v);
        });
        return new LlamaTrainer(shape, weights, settings);
    }

    /** Continues a model of the family from its folder (e.g. a fine-tune from the base), with fresh optimizer state. */
    public static LlamaTrainer load(Path folder) throws IOException {
        return load(folder, AdamW.Settings.defaults());
    }

    public static LlamaTrainer load(Path folder, AdamW.Settings settings) throws IOException {
        Checkpoint.Loaded loaded = Checkpoint.read(folder);
        return new LlamaTrainer(loaded.shape(), loaded.weights(), settings);
    }

    public ModelShape shape() {
        return shape;
    }

    /** Optimizer steps taken so far. */
    public long steps() {
        return optimizer.steps();
    }

    /** The global L2 norm of the last step's gradient, before clipping (NaN before the first step). */
    public double lastGradientNorm() {
        return lastGradientNorm;
    }

    /**
     * One AdamW step on {@code batch} at learning rate {@code lr}.
     *
     * @return the batch's loss before the update
     */
    public double step(Batch batch, double lr) {
        Map<String, INDArray> inputs = placeholders(batch);
        if (!backwardBuilt) {
            buildBackward();
        }
        OutAndGrad result = sd.calculateGradientsAndOutputs(inputs, List.of(SameDiffLlama.LOSS), names);
        double loss = result.getOutputs().get(SameDiffLlama.LOSS).getDouble(0);
        lastGradientNorm = optimizer.update(params, result.getGradients(), lr);
        // the results are ours: freed now instead of piling up off-heap until the garbage collector runs
        result.getGradients().values().forEach(LlamaTrainer::free);
        result.getOutputs().values().forEach(LlamaTrainer::free);
        inputs.values().forEach(LlamaTrainer::free);
        worked(3 * batch.rows());
        return loss;
    }

    /**
     * Builds the backward graph with System.out muted: SameDiff prints one "Added differentiated op" line per op to
     * stdout while it does (G15), which would end up in a CLI's output. Output of other threads during these few
     * hundred milliseconds is lost too; training runs on one thread.
     */
    private void buildBackward() {
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            sd.createGradFunction();
        } finally {
            System.setOut(stdout);
        }
        backwardBuilt = true;
    }

    /** The loss on {@code batch} without any update. */
    public double loss(Batch batch) {
        double loss = sd.output(placeholders(batch), SameDiffLlama.LOSS).get(SameDiffLlama.LOSS).getDouble(0);
        worked(batch.rows());
        return loss;
    }

    /** Counts work done and runs the garbage collector when enough native garbage has piled up (see above). */
    private void worked(int rows) {
        workSinceCollection += rows;
        if (workSinceCollection >= WORK_PER_COLLECTION) {
            System.gc();
            workSinceCollection = 0;
        }
    }

    /**
     * {@code [NaN, log P(t₁ | t₀), log P(t₂ | t₀ t₁), …]} for one sequence of at most context + 1 tokens, from the
     * SameDiff forward pass.
     */
    public double[] tokenLogprobs(int[] tokens) {
        int t = shape.context();
        if (tokens.length < 1 || tokens.length > t + 1) {
            throw new IllegalArgumentException(tokens.length + " tokens; this model scores 1.." + (t + 1));
        }
        checkIds(tokens);
        int[][] input = new int[1][t];
        Arrays.fill(input[0], CharTokenizer.PAD); // after the last real token: never seen by the earlier positions
        System.arraycopy(tokens, 0, input[0], 0, tokens.length - 1);
        Map<String, INDArray> ph = Map.of(SameDiffLlama.INPUT, Nd4j.createFromArray(input));
        float[] logProbs = sd.output(ph, SameDiffLlama.LOG_PROBS).get(SameDiffLlama.LOG_PROBS).data().asFloat();
        worked(1);
        double[] lp = new double[tokens.length];
        lp[0] = Double.NaN;
        for (int i = 1; i < tokens.length; i++) {
            lp[i] = logProbs[(i - 1) * shape.vocab() + tokens[i]];
        }
        return lp;
    }

    /** A copy of every weight, HF name → row-major float32 values, in HF order. */
    public Map<String, float[]> weights() {
        Map<String, float[]> out = new LinkedHashMap<>();
        params.forEach((name, arr) -> out.put(name, arr.dup('c').data().asFloat()));
        return out;
    }

    /** Writes the model as an HF folder (bf16); {@code dir} must not exist or be empty. */
    public void export(Path dir, ObjectNode extraConfig) throws IOException {
        export(dir, extraConfig, false);
    }

    /** As {@link #export(Path, ObjectNode)}, replacing an existing folder when {@code overwrite}. */
    public void export(Path dir, ObjectNode extraConfig, boolean overwrite) throws IOException {
        Checkpoint.write(dir, shape, weights(), extraConfig, overwrite);
    }

    private Map<String, INDArray> placeholders(Batch b) {
        if (b.length() != shape.context()) {
            throw new IllegalArgumentException("batch rows of " + b.length() + " tokens; this model trains on rows"
                    + " of " + shape.context() + " (its context)");
        }
        for (int r = 0; r < b.rows(); r++) {
            checkIds(b.input()[r]);
            checkIds(b.target()[r]);
        }
        if (!(b.weight() > 0)) {
            // Σ mask = 0 makes the loss 0/0: NaN gradients would wreck every weight
            throw new IllegalArgumentException("the batch's loss weights sum to " + b.weight() + "; nothing to learn");
        }
        return Map.of(SameDiffLlama.INPUT, Nd4j.createFromArray(b.input()), SameDiffLlama.TARGET,
                Nd4j.createFromArray(b.target()), SameDiffLlama.MASK, Nd4j.createFromArray(b.mask()));
    }

    /** One-hot of an out-of-range id is a zero row: it would train silently on nothing, so refuse it. */
    private void checkIds(int[] row) {
        for (int id : row) {
            if (id < 0 || id >= shape.vocab()) {
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary 0.."
                        + (shape.vocab() - 1));
            }
        }
    }

    private static long numel(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /**
     * Frees the native memory of the weights and the optimizer state now rather than when the garbage collector gets
     * to it (a training run makes several trainers in one JVM). The trainer is unusable afterwards.
     */
    @Override
    public void close() {
        optimizer.close();
        params.values().forEach(LlamaTrainer::free);
    }

    static void free(INDArray a) {
        if (a.closeable()) {
            a.close();
        }
    }
}
