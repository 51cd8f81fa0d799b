package org.mergelab.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.BadInputException;
import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;

/**
 * Non-finite values through the engine: counted per input and output tensor in the merge's own pass, the same for
 * any thread count and chunk size, fatal with {@code strict}, and output overflow counted as the dtype writes it.
 */
class NonFiniteMergeTest {
    static final int N = 10_007; // not a multiple of any chunk or vector length
    static final String BAD = "bad.weight";
    static final String GOOD = "good.weight";

    @TempDir
    static Path dir;

    @BeforeAll
    static void models() throws IOException {
        for (DType t : new DType[] {DType.F32, DType.BF16}) {
            Map<String, float[]> a = new LinkedHashMap<>();
            a.put(GOOD, ToyModels.random(1, 300, 1));
            float[] bad = ToyModels.planted(ToyModels.random(2, N, 1), Float.NaN, 5, 4000);
            bad[9999] = Float.POSITIVE_INFINITY;
            bad[N - 1] = Float.NEGATIVE_INFINITY;
            a.put(BAD, bad);
            ToyModels.write(dir.resolve(t + "/a"), t, a);
            ToyModels.write(dir.resolve(t + "/b"), t, Map.of(GOOD, ToyModels.random(3, 300, 1), BAD,
                    ToyModels.random(4, N, 1)));
        }
    }

    static Path config(String name, String yaml) throws IOException {
        Path f = dir.resolve(name + ".yml");
        Files.writeString(f, yaml);
        return f;
    }

    static String linear(DType t) {
        return "merge_method: linear\nmodels:\n  - model: " + dir.resolve(t + "/a")
                + "\n    parameters: {weight: 0.5}\n  - model: " + dir.resolve(t + "/b")
                + "\n    parameters: {weight: 0.5}\n";
    }

    /** Keeps each output tensor's values as written in its dtype (so overflow shows as the encoder makes it). */
    static final class RoundingSink implements TensorSink {
        final List<float[]> tensors = new ArrayList<>();
        final List<DType> types = new ArrayList<>();

        RoundingSink(MergePlan plan) {
            plan.outputs().forEach(o -> {
                tensors.add(new float[Math.toIntExact(o.numel())]);
                types.add(o.dtype());
            });
        }

        @Override
        public int write(int tensor, long offset, float[] values, int n) {
            for (int i = 0; i < n; i++) {
                tensors.get(tensor)[(int) offset + i] = FloatCodec.roundTo(types.get(tensor), values[i]);
            }
            return FloatCodec.largestMagnitudeBits(values, 0, n);
        }

        @Override
        public void copy(int tensor, MemorySegment bytes) {
            throw new AssertionError("no integer tensors here");
        }
    }

    record Run(MergeEngine.Result result, RoundingSink sink) {}

    static Run run(Path config, int threads, int chunk, boolean strict) throws IOException {
        MergeConfig cfg = ConfigParser.parse(config);
        Planner.Checked checked = Planner.check(cfg);
        List<ModelFolder> folders = new ArrayList<>();
        try {
            for (Path p : checked.paths()) {
                folders.add(ModelFolder.open(p));
            }
            MergePlan plan = Planner.plan(checked, folders);
            RoundingSink sink = new RoundingSink(plan);
            try (MergeEngine engine = new MergeEngine(threads, chunk, 1)) {
                return new Run(engine.run(plan, sink, Progress.NONE, true, strict), sink);
            }
        } finally {
            folders.forEach(ModelFolder::close);
        }
    }

    static NonFinite count(float[] values) {
        return NonFiniteCounterTest.plain(values, values.length, Float.POSITIVE_INFINITY);
    }

    @Test
    void countsArePerTensorAndTheSameForAnyThreadsAndChunks() throws IOException {
        for (DType t : new DType[] {DType.F32, DType.BF16}) {
            Path cfg = config("linear-" + t, linear(t));
            Path fileA = dir.resolve(t + "/a/model.safetensors");
            NonFiniteTensor expected = new NonFiniteTensor(BAD, List.of(new NonFiniteTensor.Input(0, "a", fileA,
                    new NonFinite(2, 2))), new NonFinite(2, 2));
            for (int threads : new int[] {1, 2, 8}) {
                for (int chunk : new int[] {16, 1000, MergeEngine.DEFAULT_CHUNK}) {
                    Run run = run(cfg, threads, chunk, false);
                    String where = t + ", " + threads + " threads, chunk " + chunk;
                    assertEquals(List.of(expected), run.result().nonFinite(), where);
                    TensorStats good = run.result().stats().get(0);
                    TensorStats bad = run.result().stats().get(1);
                    assertEquals(GOOD, good.tensor());
                    assertEquals(List.of(NonFinite.NONE, NonFinite.NONE), good.inputNonFinite(), where);
                    assertEquals(NonFinite.NONE, good.outNonFinite(), where);
                    assertEquals(List.of(new NonFinite(2, 2), NonFinite.NONE), bad.inputNonFinite(), where);
                    assertEquals(count(run.sink().tensors.get(1)), bad.outNonFinite(), where + ": as written");
                }
            }
        }
    }

    @Test
    void strictStopsAtTheTensorAndNamesTheFileAndCounts() throws IOException {
        Path cfg = config("strict", linear(DType.BF16));
        BadInputException e = assertThrows(BadInputException.class, () -> run(cfg, 2, 1000, true));
        assertEquals(dir.resolve("BF16/a/model.safetensors") + ": tensor '" + BAD + "' of model a holds 2 NaN, 2 Inf"
                + " (of " + N + " values merged); --strict refuses non-finite inputs", e.getMessage());
    }

    @Test
    void roundingToTheConfigsDtypeOnLoadIsNamedAsTheCause() throws IOException {
        Path big = ToyModels.write(dir.resolve("big"), DType.F32, Map.of(GOOD, new float[] {1, 70_000f, 2}));
        Path cfg = config("load-f16", "merge_method: passthrough\nmodels:\n  - model: " + big
                + "\ndtype: float16\nout_dtype: float32\n");
        Run warned = run(cfg, 1, 16, false);
        assertEquals(List.of(new NonFinite(0, 1)), warned.result().stats().get(0).inputNonFinite());
        BadInputException e = assertThrows(BadInputException.class, () -> run(cfg, 1, 16, true));
        assertTrue(e.getMessage().contains("holds 0 NaN, 1 Inf when read as float16 (the config's dtype)"),
                e.getMessage());
    }

    @Test
    void outputOverflowIsCountedAsTheOutputDtypeWritesIt() throws IOException {
        // finite inputs whose weighted sum is finite in float32 but too large for the output dtype
        Map<String, float[]> a = new LinkedHashMap<>();
        a.put(GOOD, ToyModels.random(5, 5000, 100));
        a.put(BAD, ToyModels.planted(ToyModels.random(6, 500, 1), 3.3e38f, 10, 20, 30));
        Path big = ToyModels.write(dir.resolve("overflow/a"), DType.F32, a);
        Path small = ToyModels.write(dir.resolve("overflow/b"), DType.F32, Map.of(GOOD, ToyModels.random(7, 5000,
                100), BAD, ToyModels.random(8, 500, 1)));
        for (String out : new String[] {"float16", "bfloat16"}) {
            // float16: |1000·x| reaches 65520 for most values; bfloat16: 1.03·3.3e38 ≈ 3.4e38 > 3.3961e38
            double w = out.equals("float16") ? 1000 : 1.03;
            Path cfg = config("overflow-" + out, "merge_method: linear\nmodels:\n  - model: " + big
                    + "\n    parameters: {weight: " + w + "}\n  - model: " + small + "\n    parameters: {weight: 0}\n"
                    + "parameters: {normalize: false}\ndtype: float32\nout_dtype: " + out + "\n");
            for (int threads : new int[] {1, 8}) {
                Run run = run(cfg, threads, 64, false);
                Map<String, NonFinite> written = new LinkedHashMap<>();
                for (int i = 0; i < 2; i++) {
                    TensorStats s = run.result().stats().get(i);
                    written.put(s.tensor(), count(run.sink().tensors.get(i)));
                    assertEquals(written.get(s.tensor()), s.outNonFinite(), out + " " + s.tensor());
                    assertEquals(List.of(NonFinite.NONE, NonFinite.NONE), s.inputNonFinite());
                }
                assertTrue(written.get(out.equals("float16") ? GOOD : BAD).inf() > 0, out + ": the case overflows");
                NonFiniteTensor first = run.result().nonFinite().getFirst();
                assertTrue(first.describe().endsWith("(overflow)"), first.describe());
            }
            BadInputException e = assertThrows(BadInputException.class, () -> run(cfg, 2, 64, true));
            assertTrue(e.getMessage().startsWith(cfg + ": merging tensor '"), e.getMessage());
            assertTrue(e.getMessage().contains(" as " + out + " (overflow"), e.getMessage());
        }
    }

    @Test
    void warningsListTheFirstTensorsThenSumUpTheRest() {
        List<NonFiniteTensor> many = new ArrayList<>();
        for (int i = 0; i < 13; i++) {
            many.add(new NonFiniteTensor("t" + i, List.of(new NonFiniteTensor.Input(1, "m", Path.of("m/x"),
                    new NonFinite(1, 2))), new NonFinite(1, 0)));
        }
        List<String> lines = NonFiniteTensor.warnings(many, 10);
        assertEquals(11, lines.size());
        assertEquals("warning: non-finite values in t0: input m has 1 NaN, 2 Inf; the output has 1 NaN, 0 Inf",
                lines.get(0));
        assertEquals("warning: and 3 more tensors with non-finite values (inputs 3 NaN, 6 Inf; outputs 3 NaN, 0 Inf)",
                lines.get(10));
        assertEquals(many.subList(0, 2).stream().map(t -> "warning: non-finite values in " + t.describe()).toList(),
                NonFiniteTensor.warnings(many.subList(0, 2), 10));
    }
}
