package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.zoo.SyntheticLlama;

import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * End to end: tiny sharded bf16 Llama folders made here, {@code mergelab merge} run on a mergekit-style YAML for
 * every method, every output tensor compared with an independent float64 computation of the method. bf16 output must
 * equal the float64 result rounded to bf16, up to float32-vs-float64 differences at rounding ties (≤ half an ulp
 * plus a hair).
 */
class MergeCliTest {
    @TempDir
    static Path dir;

    static Path base;
    static Path a;
    static Path b;

    @BeforeAll
    static void models() throws IOException {
        TinyFamily family = TinyFamily.write(dir);
        base = family.base();
        a = family.a();
        b = family.b();
    }

    /** A method case: its YAML body (models and parameters) and the float64 reference per tensor. */
    record Case(String name, String yaml, Reference reference) {
        Case(String name, String yaml, BiFunction<String, double[][], double[]> reference) {
            this(name, yaml, (n, shape, x) -> reference.apply(n, x));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The float64 result for one tensor, from its name, shape and the inputs (in input order). */
    interface Reference {
        double[] apply(String tensor, long[] shape, double[][] x);
    }

    /**
     * A task-vector case over A, B and BASE (input 2): per-model weight, density and gamma/epsilon of A and B, merged
     * with the CLI's default seed 42.
     */
    static Reference gta(Float64Reference.Gta g, double wa, double wb, double da, double db, double ea, double eb) {
        return (n, shape, x) -> Float64Reference.gta(g, x, 2, new double[] {wa, wb, 0},
                new double[] {da, db, 1}, new double[] {ea, eb, 0}, 42, n, shape);
    }

    /** The task-vector methods: A and B with weights 0.613 and 0.4271 (no exact ties in the weighted vote). */
    static void taskVectorCases(List<Case> c, String bm) {
        c.add(new Case("task_arithmetic-negation", bm + """
                merge_method: task_arithmetic
                models:
                  - model: A
                    parameters: {weight: 0.613}
                  - model: B
                    parameters: {weight: -0.4271}
                """, gta(new Float64Reference.Gta("none", null, false, 1, "none"), 0.613, -0.4271, 1, 1, 0, 0)));
        c.add(new Case("ties", bm + """
                merge_method: ties
                models:
                  - model: A
                    parameters: {weight: 0.613, density: 0.5}
                  - model: B
                    parameters: {weight: 0.4271, density: 0.7}
                parameters: {lambda: 0.9}
                """, gta(new Float64Reference.Gta("magnitude", "sum", true, 0.9, "none"), 0.613, 0.4271, 0.5, 0.7, 0,
                0)));
        c.add(new Case("ties-count-rescaled", bm + """
                merge_method: ties
                models:
                  - model: A
                    parameters: {weight: 0.613, density: 0.3}
                  - model: B
                    parameters: {weight: 0.4271, density: 0.6}
                parameters: {consensus: count, rescale: true, normalize: false, int8_mask: true}
                """, gta(new Float64Reference.Gta("magnitude", "count", false, 1, "l1"), 0.613, 0.4271, 0.3, 0.6, 0,
                0)));
        c.add(new Case("dare_linear", bm + """
                merge_method: dare_linear
                models:
                  - model: A
                    parameters: {weight: 0.613, density: 0.6}
                  - model: B
                    parameters: {weight: 0.4271, density: 0.8}
                """, gta(new Float64Reference.Gta("random", null, false, 1, "l1"), 0.613, 0.4271, 0.6, 0.8, 0, 0)));
        c.add(new Case("dare_ties-inverse-density", bm + """
                merge_method: dare_ties
                models:
                  - model: A
                    parameters: {weight: 0.613, density: 0.5}
                  - model: B
                    parameters: {weight: 0.4271, density: 0.9}
                parameters: {rescale_mode: inverse_density, normalize: true}
                """, gta(new Float64Reference.Gta("random", "sum", true, 1, "inverse_density"), 0.613, 0.4271, 0.5,
                0.9, 0, 0)));
        c.add(new Case("breadcrumbs", bm + """
                merge_method: breadcrumbs
                models:
                  - model: A
                    parameters: {weight: 0.613, density: 0.8, gamma: 0.05}
                  - model: B
                    parameters: {weight: 0.4271, density: 0.6, gamma: 0}
                """, gta(new Float64Reference.Gta("magnitude_outliers", null, false, 1, "none"), 0.613, 0.4271, 0.8,
                0.6, 0.05, 0)));
        c.add(new Case("breadcrumbs_ties", bm + """
                merge_method: breadcrumbs_ties
                models:
                  - model: A
                    parameters: {weight: 0.613, density: 0.8}
                  - model: B
                    parameters: {weight: 0.4271, density: 0.7}
                parameters: {rescale: true}
                """, gta(new Float64Reference.Gta("magnitude_outliers", "sum", false, 1, "l1"), 0.613, 0.4271, 0.8,
                0.7, 0.01, 0.01)));
        c.add(new Case("della", bm + """
                merge_method: della
                models:
                  - model: A
                    parameters: {weight: 0.613, density: 0.5, epsilon: 0.1}
                  - model: B
                    parameters: {weight: 0.4271, density: 0.6}
                parameters: {lambda: 1.1}
                """, gta(new Float64Reference.Gta("della", "sum", true, 1.1, "l1"), 0.613, 0.4271, 0.5, 0.6, 0.1,
                0.15)));
        c.add(new Case("della_linear-inverse-density", bm + """
                merge_method: della_linear
                models:
                  - model: A
                    parameters: {weight: 0.613, density: 0.5, epsilon: 0.2}
                  - model: B
                    parameters: {weight: 0.4271, density: 0.4, epsilon: 0.05}
                parameters: {rescale_mode: inverse_density}
                """, gta(new Float64Reference.Gta("della", null, false, 1, "inverse_density"), 0.613, 0.4271, 0.5, 0.4,
                0.2, 0.05)));
        c.add(new Case("model_stock", bm + """
                merge_method: model_stock
                models:
                  - model: A
                  - model: B
                """, (n, shape, x) -> Float64Reference.modelStock(x, 2, false, shape)));
        c.add(new Case("model_stock-filter-wise", bm + """
                merge_method: model_stock
                models:
                  - model: A
                  - model: B
                parameters: {filter_wise: true}
                """, (n, shape, x) -> Float64Reference.modelStock(x, 2, true, shape)));
        c.add(new Case("sce", bm + """
                merge_method: sce
                models:
                  - model: A
                  - model: B
                parameters: {select_topk: 0.6}
                """, (n, shape, x) -> Float64Reference.sce(x, 2, 0.6)));
    }

    static Stream<Arguments> cases() {
        String bm = "base_model: " + "BASE" + "\n";
        List<Case> c = new ArrayList<>();
        c.add(new Case("linear", """
                merge_method: linear
                models:
                  - model: A
                    parameters: {weight: 0.3}
                  - model: B
                    parameters: {weight: 0.5}
                """, (n, x) -> Float64Reference.linear(x, new double[] {0.3, 0.5}, true)));
        c.add(new Case("linear-unnormalized-negative", """
                merge_method: linear
                models:
                  - model: A
                    parameters: {weight: 1.5}
                  - model: B
                    parameters: {weight: -0.5}
                parameters: {normalize: false}
                """, (n, x) -> Float64Reference.linear(x, new double[] {1.5, -0.5}, false)));
        // inputs are in config order: A then BASE (appended)
        c.add(new Case("slerp-gradient", bm + """
                merge_method: slerp
                models:
                  - model: A
                parameters:
                  t:
                    - filter: self_attn
                      value: [0.2, 0.8]
                    - value: 0.4
                """, (n, x) -> Float64Reference.slerp(n.contains("self_attn") ? layerT(n, 0.2, 0.8) : 0.4,
                        x[1], x[0])));
        c.add(new Case("nlerp", bm + """
                merge_method: nlerp
                models:
                  - model: BASE
                  - model: A
                parameters: {t: 0.3}
                """, (n, x) -> Float64Reference.nlerp(0.3, x[0], x[1])));
        c.add(new Case("delerp", bm + """
                merge_method: delerp
                models:
                  - model: BASE
                  - model: A
                parameters: {t: 0.999}
                """, (n, x) -> Float64Reference.delerp(0.999, x[0], x[1])));
        c.add(new Case("nuslerp-base", bm + """
                merge_method: nuslerp
                models:
                  - model: A
                    parameters: {weight: 1.0}
                  - model: B
                    parameters: {weight: 3.0}
                """, (n, x) -> Float64Reference.nuslerp(1, 3, x[0], x[1], x[2])));
        c.add(new Case("multislerp", bm + """
                merge_method: multislerp
                models:
                  - model: A
                    parameters: {weight: 0.7}
                  - model: B
                    parameters: {weight: 0.3}
                """, (n, x) -> Float64Reference.multislerp(new double[][] {x[0], x[1]}, new double[] {0.7, 0.3},
                        x[2])));
        c.add(new Case("karcher", """
                merge_method: karcher
                models:
                  - model: A
                  - model: B
                  - model: BASE
                """, (n, x) -> Float64Reference.karcher(x, 10, 1e-5)));
        c.add(new Case("nearswap", bm + """
                merge_method: nearswap
                models:
                  - model: BASE
                  - model: A
                parameters: {t: 0.001}
                """, (n, x) -> Float64Reference.nearswap(0.001, x[0], x[1])));
        c.add(new Case("passthrough-scale", """
                merge_method: passthrough
                models:
                  - model: A
                    parameters:
                      scale:
                        - filter: o_proj
                          value: 0.5
                        - value: 1.0
                """, (n, x) -> Float64Reference.passthrough(n.contains("o_proj") ? 0.5 : 1.0).apply(x)));
        taskVectorCases(c, bm);
        return c.stream().map(Arguments::of);
    }

    /** The tiny model has 2 layers: layer 0 takes the first anchor, layer 1 the last. */
    static double layerT(String name, double first, double last) {
        return name.contains("layers.0.") ? first : last;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void mergeMatchesFloat64Reference(Case c) throws IOException {
        String yaml = c.yaml().replace("BASE", base.toString()).replace("A\n", a + "\n").replace("B\n", b + "\n")
                + "dtype: bfloat16\n";
        Path config = dir.resolve(c.name() + ".yml");
        Files.writeString(config, yaml);
        Path out = dir.resolve("out-" + c.name());
        CliRun run = CliRun.of("merge", config, out, "--threads", "2", "--out-shard-size", "20K");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().startsWith("merged 21 tensors"), run.out());

        List<Path> inputs = inputsOf(yaml);
        try (ModelFolder merged = ModelFolder.open(out)) {
            assertTrue(merged.shards().size() > 1, "20K shards expected for a 50 kB model");
            List<ModelFolder> in = new ArrayList<>();
            for (Path p : inputs) {
                in.add(ModelFolder.open(p));
            }
            try {
                int exact = 0;
                int total = 0;
                for (ModelTensor t : merged.tensors()) {
                    assertEquals(DType.BF16, t.dtype());
                    double[][] x = new double[in.size()][];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = values(in.get(i).tensor(t.name()));
                    }
                    double[] ref = c.reference().apply(t.name(), t.info().shape(), x);
                    double[] got = values(t);
                    for (int i = 0; i < ref.length; i++) {
                        float rounded = FloatCodec.roundTo(DType.BF16, (float) ref[i]);
                        double ulp = Math.ulp((float) ref[i]) * 65536.0;
                        double err = Math.abs(got[i] - ref[i]);
                        int at = i;
                        assertTrue(err <= 0.5001 * ulp + 1e-30, () -> c.name() + " " + t.name() + "[" + at
                                + "]: got " + got[at] + ", float64 reference " + ref[at]);
                        exact += got[i] == rounded ? 1 : 0;
                        total++;
                    }
                }
                assertTrue(exact >= total * 0.995, c.name() + ": only " + exact + " of " + total
                        + " elements equal the rounded float64 result");
            } finally {
                in.forEach(ModelFolder::close);
            }
        }
        var config2 = JsonMapper.builder().build().readTree(out.resolve("config.json").toFile());
        assertEquals("bfloat16", config2.get("torch_dtype").asText());
        assertEquals(2, config2.get("num_hidden_layers").asInt());
        assertTrue(Files.isRegularFile(out.resolve("tokenizer_config.json")));
        assertTrue(Files.readString(out.resolve("mergelab_config.yml")).startsWith(yaml));
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors.index.json")));
    }

    /** Input order: models as listed, then the base when it was not listed. */
    private static List<Path> inputsOf(String yaml) {
        List<Path> inputs = new ArrayList<>();
        Path baseModel = null;
        for (String line : yaml.split("\n")) {
            String l = line.trim();
            if (l.startsWith("- model: ")) {
                inputs.add(Path.of(l.substring("- model: ".length())));
            } else if (l.startsWith("base_model: ")) {
                baseModel = Path.of(l.substring("base_model: ".length()));
            }
        }
        if (baseModel != null && !inputs.contains(baseModel)) {
            inputs.add(baseModel);
        }
        return inputs;
    }

    static double[] values(ModelTensor t) {
        int n = (int) t.info().numel();
        float[] f = new float[n];
        FloatCodec.decodeScalar(t.dtype(), t.data(), 0, f, n);
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @ParameterizedTest
    @MethodSource("threadCounts")
    void outputBytesDoNotDependOnThreadCount(int threads) throws IOException {
        Path config = dir.resolve("delerp-threads.yml");
        Files.writeString(config, "merge_method: delerp\nbase_model: " + base + "\nmodels:\n  - model: " + a
                + "\nparameters: {t: 0.6}\n");
        Path one = dir.resolve("threads-1-vs-" + threads + "-a");
        Path many = dir.resolve("threads-1-vs-" + threads + "-b");
        assertEquals(0, CliRun.of("merge", config, one, "--threads", 1).code());
        assertEquals(0, CliRun.of("merge", config, many, "--threads", threads).code());
        assertEquals(-1L, Files.mismatch(one.resolve("model.safetensors"), many.resolve("model.safetensors")));
        assertFalse(Files.exists(one.resolve("model.safetensors.index.json")), "one 5G shard: no index");
    }

    @Test
    void mixedInputDtypesMergeIntoTheRequestedOutputDtype() throws IOException {
        Path f32 = dir.resolve("ft-a-f32");
        SyntheticLlama.write(f32, SyntheticLlama.Spec.tiny().withDtype(DType.F32), 1, 2, 0.3);
        Path config = dir.resolve("mixed.yml");
        Files.writeString(config, "merge_method: linear\nmodels:\n  - model: " + base
                + "\n    parameters: {weight: 0.25}\n  - model: " + f32 + "\n    parameters: {weight: 0.75}\n"
                + "out_dtype: float16\n");
        Path out = dir.resolve("out-mixed");
        CliRun run = CliRun.of("merge", config, out);
        assertEquals(0, run.code(), run.err());
        try (ModelFolder merged = ModelFolder.open(out); ModelFolder b0 = ModelFolder.open(base);
                ModelFolder a32 = ModelFolder.open(f32)) {
            for (ModelTensor t : merged.tensors()) {
                assertEquals(DType.F16, t.dtype());
                double[] x = values(b0.tensor(t.name()));
                double[] y = values(a32.tensor(t.name()));
                double[] got = values(t);
                for (int i = 0; i < got.length; i++) {
                    double ref = 0.25 * x[i] + 0.75 * y[i];
                    float expected = Float.float16ToFloat(Float.floatToFloat16((float) ref));
                    assertEquals(expected, got[i], Math.ulp(expected), t.name() + "[" + i + "]");
                }
            }
        }
        var cfg = JsonMapper.builder().build().readTree(out.resolve("config.json").toFile());
        assertEquals("float16", cfg.get("torch_dtype").asText());
    }

    @ParameterizedTest
    @MethodSource("commands")
    void helpWorksForEveryCommand(String command) {
        CliRun run = CliRun.of(command, "--help");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().startsWith("Usage: mergelab " + command), run.out());
    }

    static Stream<String> commands() {
        return Stream.of("merge", "inspect", "synth");
    }

    static Stream<Integer> threadCounts() {
        return Stream.of(2, 8);
    }
}
