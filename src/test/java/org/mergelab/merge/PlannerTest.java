package org.mergelab.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.BadInputException;
import org.mergelab.io.DType;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelWriter;
import org.mergelab.io.OutTensor;
import org.mergelab.merge.methods.MethodRegistry;
import org.mergelab.zoo.SyntheticLlama;

/**
 * {@link Planner#check} (config only) and {@link Planner#plan}/{@link Planner#resolve} over tiny 2-layer Llama folders:
 * model sets, parameter names and types, gradients over layers, filters, precedence, dtypes, copies and mismatches.
 */
class PlannerTest {
    static final Path FILE = Path.of("/configs/plan.yml");

    @TempDir
    static Path dir;

    static Path base;
    static Path a;
    static Path b;
    static Path base32;
    static Path a32;
    static Path wide;
    static Path tied;
    static Path int1;
    static Path int2;
    static Path intAsFloat;

    static final String EMBED = "model.embed_tokens.weight";
    static final String Q0 = "model.layers.0.self_attn.q_proj.weight";
    static final String Q1 = "model.layers.1.self_attn.q_proj.weight";
    static final String UP0 = "model.layers.0.mlp.up_proj.weight";
    static final String UP1 = "model.layers.1.mlp.up_proj.weight";
    static final String NORM = "model.norm.weight";
    static final String HEAD = "lm_head.weight";

    @BeforeAll
    static void models() throws IOException {
        var tiny = SyntheticLlama.Spec.tiny();
        base = dir.resolve("base");
        a = dir.resolve("ft-a");
        b = dir.resolve("ft-b");
        base32 = dir.resolve("base-f32");
        a32 = dir.resolve("ft-a-f32");
        wide = dir.resolve("wide");
        tied = dir.resolve("tied");
        SyntheticLlama.write(base, tiny, 1, 0, 0);
        SyntheticLlama.write(a, tiny, 1, 2, 0.3);
        SyntheticLlama.write(b, tiny, 1, 3, 0.3);
        SyntheticLlama.write(base32, tiny.withDtype(DType.F32), 1, 0, 0);
        SyntheticLlama.write(a32, tiny.withDtype(DType.F32), 1, 2, 0.3);
        SyntheticLlama.write(wide, new SyntheticLlama.Spec(2, 48, 64, 4, 2, 96, DType.BF16, Long.MAX_VALUE, false),
                1, 4, 0.3);
        SyntheticLlama.write(tied, new SyntheticLlama.Spec(2, 32, 64, 4, 2, 96, DType.BF16, Long.MAX_VALUE, true),
                1, 5, 0.3);
        int1 = dir.resolve("int-1");
        int2 = dir.resolve("int-2");
        intAsFloat = dir.resolve("int-as-float");
        writeIntModel(int1, DType.I64, 0, 1f);
        writeIntModel(int2, DType.I64, 10, 2f);
        writeIntModel(intAsFloat, DType.F32, 20, 3f);
    }

    /** A hand-made model: {@code w.weight} F32 [2, 3] filled with {@code w}, {@code pos_ids} [4] = start..start+3. */
    static void writeIntModel(Path d, DType idType, long start, float w) throws IOException {
        Files.createDirectories(d);
        Files.writeString(d.resolve(ModelFolder.CONFIG), "{\"model_type\": \"toy\", \"num_hidden_layers\": 1}\n");
        List<OutTensor> tensors = List.of(new OutTensor("w.weight", DType.F32, new long[] {2, 3}),
                new OutTensor("pos_ids", idType, new long[] {4}));
        try (ModelWriter mw = ModelWriter.create(d, tensors, Long.MAX_VALUE, Map.of("format", "pt"))) {
            ByteBuffer wb = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 6; i++) {
                wb.putFloat(w);
            }
            mw.write(0, 0, wb.flip());
            ByteBuffer ib = ByteBuffer.allocate((int) tensors.get(1).byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 4; i++) {
                if (idType == DType.I64) {
                    ib.putLong(start + i);
                } else {
                    ib.putFloat(start + i);
                }
            }
            mw.write(1, 0, ib.flip());
            mw.finish();
        }
    }

    private final List<ModelFolder> opened = new ArrayList<>();

    @AfterEach
    void closeFolders() {
        opened.forEach(ModelFolder::close);
        opened.clear();
    }

    /** BASE, A, B, ... in the YAML become the test models' absolute paths. */
    static String sub(String yaml) {
        return yaml.replace("BASE32", base32.toString()).replace("A32", a32.toString())
                .replace("BASE", base.toString()).replace("WIDE", wide.toString()).replace("TIED", tied.toString())
                .replace("INT1", int1.toString()).replace("INT2", int2.toString())
                .replace("INTF", intAsFloat.toString())
                .replaceAll("\\bA\\b", a.toString()).replaceAll("\\bB\\b", b.toString());
    }

    static Planner.Checked check(String yaml) {
        return Planner.check(ConfigParser.parse(FILE, sub(yaml)));
    }

    MergePlan plan(String yaml) throws IOException {
        Planner.Checked c = check(yaml);
        List<ModelFolder> folders = new ArrayList<>();
        for (Path p : c.paths()) {
            ModelFolder f = ModelFolder.open(p);
            opened.add(f);
            folders.add(f);
        }
        return Planner.plan(c, folders);
    }

    static TensorTask task(MergePlan plan, String name) {
        return plan.tasks().stream().filter(t -> t.out().name().equals(name)).findFirst().orElseThrow();
    }

    /** Asserts a one-line BadInputException containing every fragment. */
    static String bad(Executable body, String... fragments) {
        BadInputException e = assertThrows(BadInputException.class, body);
        String m = e.getMessage();
        for (String f : fragments) {
            assertTrue(m.contains(f), () -> "message should contain '" + f + "': " + m);
        }
        assertFalse(m.contains("\n"), () -> "one line: " + m);
        return m;
    }

    static void badCheck(String yaml, String... fragments) {
        String m = bad(() -> check(yaml), fragments);
        assertTrue(m.startsWith(FILE.toString()), () -> "message should name the config file: " + m);
    }

    // ============================================================== check: method and model set

    @Test
    void unknownMethodListsTheAvailableNames() {
        String m = bad(() -> check("merge_method: frankenmerge\nmodels: [/m/a]\n"), FILE.toString(),
                "'frankenmerge'");
        assertFalse(MethodRegistry.names().isEmpty());
        for (String name : MethodRegistry.names()) {
            assertTrue(m.contains(name), () -> "should list " + name + ": " + m);
        }
        assertTrue(m.contains("slerp") && m.contains("linear") && m.contains("karcher"), m);
    }

    @Test
    void modelListedTwiceIsAnError() {
        badCheck("merge_method: linear\nmodels: [/m/a, /m/b, /m/a]\n", "models[2]", "/m/a", "twice", "models[0]");
        // the same folder spelled differently
        badCheck("merge_method: linear\nmodels: [/m/x/../a, /m/./a]\n", "models[1]", "twice");
    }

    @Test
    void baseIsAppendedWhenNotListed() {
        Planner.Checked c = check("merge_method: multislerp\nbase_model: /m/base\nmodels: [/m/a, /m/b]\n");
        assertEquals(List.of("/m/a", "/m/b", "/m/base"), c.models().names());
        assertEquals(2, c.models().baseIndex());
        assertEquals(List.of(Path.of("/m/a"), Path.of("/m/b"), Path.of("/m/base")), c.paths());
        assertEquals(2, c.models().nonBaseCount());

        Planner.Checked listed = check("merge_method: multislerp\nbase_model: /m/b\nmodels: [/m/a, /m/b]\n");
        assertEquals(List.of("/m/a", "/m/b"), listed.models().names());
        assertEquals(1, listed.models().baseIndex());

        Planner.Checked none = check("merge_method: linear\nmodels: [/m/a, /m/b]\n");
        assertFalse(none.models().hasBase());
        assertEquals(-1, none.models().baseIndex());
    }

    @Test
    void relativeModelPathsResolveAgainstTheWorkingDirectory() {
        Planner.Checked c = check("merge_method: linear\nmodels: [some/model]\n");
        assertEquals(Path.of("some/model").toAbsolutePath().normalize(), c.paths().get(0));
        assertEquals("some/model", c.models().names().get(0), "names stay as written, for messages");
    }

    @Test
    void methodModelCountRules() {
        badCheck("merge_method: slerp\nbase_model: /m/base\nmodels: [/m/a, /m/b]\nparameters: {t: 0.5}\n",
                "slerp", "exactly two", "3");
        badCheck("merge_method: slerp\nmodels: [/m/a, /m/b]\nparameters: {t: 0.5}\n", "slerp", "base_model");
        badCheck("merge_method: nlerp\nbase_model: /m/a\nmodels: [/m/a]\nparameters: {t: 0.5}\n", "nlerp",
                "exactly two");
        badCheck("merge_method: nuslerp\nmodels: [/m/a, /m/b, /m/c]\n", "nuslerp", "exactly two");
        badCheck("merge_method: nuslerp\nbase_model: /m/a\nmodels: [/m/a, /m/b]\n", "nuslerp", "exactly two");
        badCheck("merge_method: passthrough\nmodels: [/m/a, /m/b]\n", "passthrough", "exactly one");
        badCheck("merge_method: multislerp\nbase_model: /m/a\nmodels: [/m/a]\n", "multislerp", "besides the base");
        badCheck("merge_method: nearswap\nmodels: [/m/a, /m/b]\nparameters: {t: 0.5}\n", "nearswap",
                "base_model");
        // accepted sets
        check("merge_method: slerp\nbase_model: /m/base\nmodels: [/m/a]\nparameters: {t: 0.5}\n");
        check("merge_method: nuslerp\nbase_model: /m/base\nmodels: [/m/a, /m/b]\n");
        check("merge_method: nuslerp\nmodels: [/m/a, /m/b]\n");
        check("merge_method: karcher\nmodels: [/m/a]\n");
        check("merge_method: passthrough\nmodels: [/m/a]\n");
        check("merge_method: linear\nmodels: [/m/a]\n");
    }

    // ============================================================== check: parameter names and types

    @Test
    void unknownParametersAreWarningsNamingTheKey() {
        Planner.Checked c = check("""
                merge_method: linear
                models:
                  - model: /m/a
                    parameters: {weight: 1, densty: 0.5}
                  - model: /m/b
                    parameters: {weight: 1}
                parameters:
                  normalise: false
                """);
        List<String> w = c.warnings();
        assertEquals(2, w.size(), w.toString());
        assertTrue(w.stream().anyMatch(s -> s.startsWith(FILE.toString()) && s.contains("parameters.normalise")
                && s.contains("linear")), w.toString());
        assertTrue(w.stream().anyMatch(s -> s.contains("models[0].parameters.densty")), w.toString());
    }

    @Test
    void globalParameterSetUnderAModelIsAWarningAndHasNoEffect() {
        String yaml = """
                merge_method: slerp
                base_model: BASE
                models:
                  - model: BASE
                  - model: A
                    parameters: {t: 0.3}
                """;
        Planner.Checked c = check(yaml);
        assertEquals(1, c.warnings().size(), c.warnings().toString());
        String w = c.warnings().get(0);
        assertTrue(w.contains("models[1].parameters.t") && w.contains("global") && w.contains("parameters:"), w);
        // mergekit only looks t up globally, so the model-level t does not count
        bad(() -> Planner.resolve(c, Q0, 0), "'t'", "set it under parameters:");
        Planner.Checked ok = check(yaml + "parameters: {t: 0.7}\n");
        assertEquals(0.7, Planner.resolve(ok, Q0, 0).number("t"));
    }

    @Test
    void configWarningsAreCarriedOver() {
        Planner.Checked c = check("merge_method: karcher\nmodels: [/m/a]\nfoo: 1\n");
        assertEquals(1, c.warnings().size());
        assertTrue(c.warnings().get(0).contains("'foo'"));
    }

    @Test
    void typeErrorsNameTheKeyAndTheExpectedType() {
        String slerp = "merge_method: slerp\nbase_model: /m/base\nmodels: [/m/a]\n";
        badCheck(slerp + "parameters: {t: abc}\n", "parameters.t", "'abc'", "a number");
        badCheck(slerp + "parameters: {t: true}\n", "parameters.t", "a number");
        badCheck(slerp + "parameters: {t: .nan}\n", "parameters.t", "a number");
        badCheck(slerp + "parameters: {t: .inf}\n", "parameters.t", "a number");
        badCheck(slerp + "parameters: {t: [0, .nan, 1]}\n", "parameters.t", "a number");
        badCheck(slerp + "parameters: {t: [low, high]}\n", "parameters.t", "'low'", "a number");
        badCheck(slerp + "parameters:\n  t:\n    - filter: mlp\n      value: 0.5\n    - value: half\n",
                "parameters.t[1].value", "'half'", "a number");
        String linear = "merge_method: linear\nmodels:\n  - model: /m/a\n    parameters: {weight: 1}\n";
        badCheck(linear + "parameters: {normalize: 3}\n", "parameters.normalize", "true or false");
        badCheck(linear + "parameters: {normalize: [0, 1]}\n", "parameters.normalize", "true or false");
        badCheck(linear + "parameters: {normalize: 'yes'}\n", "parameters.normalize", "true or false");
        badCheck("merge_method: linear\nmodels:\n  - model: /m/a\n    parameters: {weight: heavy}\n",
                "models[0].parameters.weight", "'heavy'", "a number");
        String karcher = "merge_method: karcher\nmodels: [/m/a]\n";
        badCheck(karcher + "parameters: {max_iter: 2.5}\n", "parameters.max_iter", "2.5", "an integer");
        badCheck(karcher + "parameters: {max_iter: [1, 5]}\n", "parameters.max_iter", "an integer");
        badCheck(karcher + "parameters: {tol: fine}\n", "parameters.tol", "a number");
    }

    @Test
    void wellTypedValuesResolveToTheirKinds() {
        Planner.Checked c = check("merge_method: karcher\nmodels: [/m/a]\nparameters: {max_iter: 3, tol: 1}\n");
        ResolvedParams p = Planner.resolve(c, Q0, 0);
        assertEquals(3, p.integer("max_iter"));
        assertEquals(Integer.class, p.globals().get("max_iter").getClass());
        assertEquals(1.0, p.number("tol"));
    }

    // ============================================================== layers and gradients

    @Test
    void gradientWorkedExampleFromTheSpec() {
        // weight [0, 0.3, 0.7, 1] over 32 layers; layer 10 has t = 10/31 → 0.290
        var g = new ParameterSetting.Gradient(new double[] {0, 0.3, 0.7, 1});
        double t = Planner.layerT("model.layers.10.mlp.up_proj.weight", 32);
        assertEquals(10.0 / 31, t, 1e-15);
        double v = (Double) g.resolve("model.layers.10.mlp.up_proj.weight", t).orElseThrow();
        assertEquals(0.290, v, 5e-4);
        assertEquals(30.0 / 31 * 0.3, v, 1e-12);
        // anchors are hit exactly; the segment between them is linear
        assertEquals(0.0, (Double) g.resolve("x", 0).orElseThrow());
        assertEquals(0.3, (Double) g.resolve("x", 1.0 / 3).orElseThrow(), 1e-12);
        assertEquals(0.5, (Double) g.resolve("x", 0.5).orElseThrow(), 1e-12);
        assertEquals(1.0, (Double) g.resolve("x", 1).orElseThrow());
        assertEquals(0.42, (Double) new ParameterSetting.Gradient(new double[] {0.42}).resolve("x", 0.6)
                .orElseThrow());
    }

    @Test
    void layerPositions() {
        assertEquals(0, Planner.layerT(EMBED, 2));
        assertEquals(0, Planner.layerT(NORM, 2));
        assertEquals(0, Planner.layerT(HEAD, 2));
        assertEquals(0, Planner.layerT(Q0, 2));
        assertEquals(1, Planner.layerT(Q1, 2));
        assertEquals(1, Planner.layerT("model.layers.0.mlp.up_proj.weight", 1), "a single layer takes t = 1");
        assertEquals(0.5, Planner.layerT("transformer.h.2.attn.c_attn.weight", 5));
        assertEquals(12, Planner.layerIndex("model.layers.12.self_attn.q_proj.weight"));
        assertEquals(-1, Planner.layerIndex("model.layers_norm.weight"));
    }

    @Test
    void gradientOverTwoLayersAndZeroForEmbeddingsNormAndHead() throws IOException {
        MergePlan plan = plan("""
                merge_method: slerp
                base_model: BASE
                models:
                  - model: A
                parameters:
                  t: [0, 1]
                """);
        assertEquals(21, plan.tasks().size());
        for (TensorTask t : plan.tasks()) {
            String n = t.out().name();
            double expected = n.contains("layers.1.") ? 1 : 0;
            assertEquals(expected, t.params().number("t"), n);
            assertEquals(expected, t.layerT(), n);
        }
        assertEquals(0, task(plan, EMBED).params().number("t"));
        assertEquals(0, task(plan, NORM).params().number("t"), "mergekit 0.1.x: post-layer weights take t = 0");
        assertEquals(0, task(plan, HEAD).params().number("t"));

        MergePlan three = plan("merge_method: slerp\nbase_model: BASE\nmodels: [A]\nparameters:\n"
                + "  t: [0.2, 0.8, 0.4]\n");
        assertEquals(0.2, task(three, Q0).params().number("t"), 1e-15);
        assertEquals(0.4, task(three, Q1).params().number("t"), 1e-15);
        assertEquals(0.2, task(three, HEAD).params().number("t"), 1e-15);
    }

    @Test
    void filtersFirstMatchWins() throws IOException {
        MergePlan plan = plan("""
                merge_method: slerp
                base_model: BASE
                models:
                  - model: A
                parameters:
                  t:
                    - filter: self_attn
                      value: 0.1
                    - filter: q_proj
                      value: 0.2
                    - filter: layers.1.
                      value: [0.3, 0.35]
                    - value: 0.9
                    - filter: mlp
                      value: 0.4
                """);
        assertEquals(0.1, task(plan, Q0).params().number("t"));
        assertEquals(0.1, task(plan, Q1).params().number("t"), "self_attn comes before layers.1.");
        assertEquals(0.35, task(plan, UP1).params().number("t"), "layers.1. matched, gradient at t = 1");
        assertEquals(0.9, task(plan, UP0).params().number("t"), "catch-all before the later mlp case");
        assertEquals(0.9, task(plan, EMBED).params().number("t"));
    }

    // ============================================================== precedence

    @Test
    void modelParamBeatsGlobalParamBeatsMethodDefault() throws IOException {
        MergePlan plan = plan("""
                merge_method: linear
                models:
                  - model: A
                    parameters:
                      weight:
                        - filter: mlp
                          value: 2
                  - model: B
                parameters:
                  weight: 0.5
                """);
        ResolvedParams mlp = task(plan, UP0).params();
        assertEquals(2.0, mlp.number("weight", 0), "the model's own value");
        assertEquals(0.5, mlp.number("weight", 1), "global value");
        ResolvedParams attn = task(plan, Q0).params();
        assertEquals(0.5, attn.number("weight", 0), "no model filter matched: falls through to the global value");
        assertTrue(attn.flag("normalize"), "method default");

        MergePlan off = plan("""
                merge_method: linear
                models:
                  - model: A
                    parameters: {weight: 3}
                  - model: B
                    parameters: {weight: 1}
                parameters:
                  weight: 0.5
                  normalize: false
                """);
        assertEquals(3.0, task(off, Q0).params().number("weight", 0));
        assertEquals(1.0, task(off, Q0).params().number("weight", 1));
        assertFalse(task(off, Q0).params().flag("normalize"), "global beats default");

        // per-model default (passthrough scale = 1) and global defaults (karcher)
        assertEquals(1.0, task(plan("merge_method: passthrough\nmodels: [A]\n"), Q0).params().number("scale", 0));
        assertEquals(0.5, task(plan("merge_method: passthrough\nmodels: [A]\nparameters: {scale: 0.5}\n"), Q0)
                .params().number("scale", 0));
        ResolvedParams k = task(plan("merge_method: karcher\nmodels: [A, B]\nparameters: {tol: 0.001}\n"), Q0)
                .params();
        assertEquals(10, k.integer("max_iter"));
        assertEquals(0.001, k.number("tol"));
    }

    @Test
    void specialBaseIsNotAskedForPerModelParameters() throws IOException {
        MergePlan plan = plan("""
                merge_method: multislerp
                base_model: BASE
                models:
                  - model: A
                    parameters: {weight: 0.25}
                  - model: B
                    parameters: {weight: 0.75}
                """);
        ResolvedParams p = task(plan, Q0).params();
        assertEquals(2, plan.models().baseIndex());
        assertFalse(p.has("weight", 2));
        assertEquals(0.25, p.number("weight", 0));
        assertEquals(0.75, p.number("weight", 1));
        assertEquals(2, plan.donor(), "the base donates config and tokenizer");
    }

    @Test
    void linearWithAWeightlessBaseModelIsAClearError() throws IOException {
        String yaml = """
                merge_method: linear
                base_model: BASE
                models:
                  - model: A
                    parameters: {weight: 1}
                  - model: B
                    parameters: {weight: 1}
                """;
        String m = bad(() -> plan(yaml), "base_model", base.toString(), "weight");
        assertTrue(m.startsWith(FILE.toString()), m);
        // a global weight reaches the base too (mergekit's fallthrough)
        MergePlan ok = plan(yaml + "parameters: {weight: 0.5}\n");
        assertEquals(0.5, task(ok, Q0).params().number("weight", 2));
    }

    @Test
    void requiredParameterMissingForATensorNamesTheTensor() throws IOException {
        String m = bad(() -> plan("""
                merge_method: slerp
                base_model: BASE
                models: [A]
                parameters:
                  t:
                    - filter: self_attn
                      value: 0.5
                """), "'t'", "'" + EMBED + "'", "no filter matched");
        assertTrue(m.startsWith(FILE.toString()), m);
        bad(() -> plan("""
                merge_method: linear
                models:
                  - model: A
                    parameters:
                      weight: {filter: layers, value: 1}
                  - model: B
                    parameters: {weight: 1}
                """), "models[0]", "'weight'", "'" + EMBED + "'", "no filter matched");
        bad(() -> plan("merge_method: slerp\nbase_model: BASE\nmodels: [A]\n"), "slerp", "'t'",
                "set it under parameters:");
        bad(() -> plan("merge_method: linear\nmodels: [A, B]\n"), "models[0]", "'weight'");
    }

    @Test
    void perTensorParameterChecksRunAtPlanTime() throws IOException {
        bad(() -> plan("""
                merge_method: linear
                models:
                  - model: A
                    parameters:
                      weight: [1, -1]
                  - model: B
                    parameters:
                      weight: [-1, 1]
                """), "sum to 0", EMBED);
        bad(() -> plan("merge_method: karcher\nmodels: [A, B]\nparameters: {tol: 0}\n"), "tol");
    }

    // ============================================================== dtypes

    @Test
    void outputDtypeIsOutDtypeThenDtypeThenTheDonors() throws IOException {
        String slerp = "merge_method: slerp\nbase_model: BASE\nmodels: [A]\nparameters: {t: 0.5}\n";
        assertAllOut(plan(slerp), DType.BF16);
        assertAllOut(plan(slerp + "dtype: float16\n"), DType.F16);
        assertAllOut(plan(slerp + "out_dtype: float32\n"), DType.F32);
        assertAllOut(plan(slerp + "dtype: float16\nout_dtype: float32\n"), DType.F32);
        // no dtype given: the donor's (the base), whatever the other model stores
        assertAllOut(plan("merge_method: slerp\nbase_model: BASE32\nmodels: [A]\nparameters: {t: 0.5}\n"),
                DType.F32);
        assertAllOut(plan("merge_method: slerp\nbase_model: BASE\nmodels: [A32]\nparameters: {t: 0.5}\n"),
                DType.BF16);
        // no base: the first model donates
        assertAllOut(plan("merge_method: karcher\nmodels: [A32, A]\n"), DType.F32);
    }

    /** A plan reads stored bf16 when every input is bf16 and no dtype rounds them on load (float32 does not). */
    @Test
    void aPlanReadsStoredBf16OnlyWhenEveryInputIsBf16AndLoadedUnchanged() throws IOException {
        String slerp = "merge_method: slerp\nbase_model: BASE\nmodels: [A]\nparameters: {t: 0.5}\n";
        assertTrue(plan(slerp).readsStoredBf16());
        assertTrue(plan(slerp + "dtype: float32\n").readsStoredBf16());
        assertTrue(plan(slerp + "out_dtype: float16\n").readsStoredBf16());
        assertFalse(plan(slerp + "dtype: float16\n").readsStoredBf16());
        assertFalse(plan("merge_method: slerp\nbase_model: BASE\nmodels: [A32]\nparameters: {t: 0.5}\n")
                .readsStoredBf16());
    }

    static void assertAllOut(MergePlan plan, DType expected) {
        for (TensorTask t : plan.tasks()) {
            assertEquals(expected, t.out().dtype(), t.out().name());
        }
    }

    @Test
    void nonFloatTensorsAreCopiedFromTheDonor() throws IOException {
        MergePlan plan = plan("""
                merge_method: linear
                base_model: INT2
                models:
                  - model: INT1
                    parameters: {weight: 1}
                  - model: INT2
                    parameters: {weight: 3}
                out_dtype: bfloat16
                """);
        assertEquals(1, plan.donor());
        TensorTask ids = task(plan, "pos_ids");
        assertTrue(ids.isCopy());
        assertEquals(DType.I64, ids.out().dtype(), "copies keep their dtype whatever out_dtype says");
        assertArrayEquals(new long[] {4}, ids.out().shape());
        assertSame(plan.folders().get(1).tensor("pos_ids"), ids.copyFrom());
        assertTrue(ids.inputs().isEmpty());
        TensorTask w = task(plan, "w.weight");
        assertFalse(w.isCopy());
        assertNull(w.copyFrom());
        assertEquals(DType.BF16, w.out().dtype());
        assertEquals(2, w.inputs().size());
    }

    @Test
    void nonFloatTensorsAreCopiedEndToEnd() throws IOException {
        Path cfg = dir.resolve("int-merge.yml");
        Files.writeString(cfg, sub("""
                merge_method: linear
                base_model: INT2
                models:
                  - model: INT1
                    parameters: {weight: 1}
                  - model: INT2
                    parameters: {weight: 3}
                """));
        Path out = dir.resolve("int-merged");
        List<String> notes = new ArrayList<>();
        Consumer<String> sink = notes::add;
        var opts = new MergeToFolder.Options(2, Long.MAX_VALUE, 1, false, MergeEngine.DEFAULT_CHUNK, Progress.NONE,
                sink, null);
        MergeToFolder.run(cfg, out, opts);
        try (ModelFolder m = ModelFolder.open(out)) {
            var ids = m.tensor("pos_ids");
            assertEquals(DType.I64, ids.dtype());
            for (int i = 0; i < 4; i++) {
                assertEquals(10 + i, ids.data().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(
                        ByteOrder.LITTLE_ENDIAN), i), "the donor's (INT2) values");
            }
            var w = m.tensor("w.weight");
            assertEquals(DType.F32, w.dtype());
            float got = w.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            assertEquals((1 * 1f + 3 * 2f) / 4, got, 1e-6);
        }
        assertTrue(notes.isEmpty(), notes.toString());
    }

    @Test
    void integerTensorStoredAsFloatInAnotherModelIsAnError() throws IOException {
        bad(() -> plan("merge_method: karcher\nmodels: [INT1, INTF]\n"), intAsFloat.toString(), "'pos_ids'",
                int1.toString());
    }

    // ============================================================== model mismatches

    @Test
    void differentShapesNameTheModelAndTheTensor() throws IOException {
        // slerp crops embeddings to the common [rows, cols] as mergekit does, so the first hard mismatch is q_proj
        String m = bad(() -> plan("merge_method: slerp\nbase_model: BASE\nmodels: [WIDE]\nparameters: {t: 0.5}\n"),
                wide.toString(), "q_proj.weight'", "[48, 48]", "[32, 32]");
        assertTrue(m.startsWith(wide.toString()), m);
        // karcher does not crop (mergekit's rectification is ineffective there): the embedding itself is the error
        bad(() -> plan("merge_method: karcher\nmodels: [BASE, WIDE]\n"), "'" + EMBED + "'", "[96, 48]", "[96, 32]",
                "vocabulary");
    }

    @Test
    void differentTensorSetsNameTheModelAndTheTensor() throws IOException {
        // the donor has lm_head, the other model does not
        bad(() -> plan("merge_method: karcher\nmodels: [A, TIED]\n"), tied.toString(), "'" + HEAD + "'");
        // the other model has a tensor the donor lacks
        bad(() -> plan("merge_method: karcher\nmodels: [TIED, A]\n"), a.toString(), "'" + HEAD + "'");
    }

    @Test
    void tasksFollowTheDonorsStorageOrder() throws IOException {
        MergePlan plan = plan("merge_method: karcher\nmodels: [A, B]\n");
        List<String> names = plan.tasks().stream().map(t -> t.out().name()).toList();
        List<String> expected = SyntheticLlama.tensors(SyntheticLlama.Spec.tiny()).stream().map(OutTensor::name)
                .toList();
        assertEquals(expected, names);
        assertEquals(plan.outputs().stream().mapToLong(OutTensor::byteSize).sum(), plan.outputBytes());
    }
}
