package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.io.DType;
import org.mergelab.merge.NonFinite;
import org.mergelab.merge.StatsCsv;
import org.mergelab.merge.ToyModels;
import org.mergelab.merge.methods.MethodRegistry;

/**
 * {@code merge} on inputs holding NaN and infinities: one warning per affected tensor (capped), the counts in
 * {@code --stats}, and {@code --strict} failing as bad input with nothing written.
 */
class NonFiniteCliTest {
    static final String BAD = "bad.weight";

    @TempDir
    static Path dir;

    @BeforeAll
    static void models() throws IOException {
        for (DType t : new DType[] {DType.F32, DType.BF16}) {
            Map<String, float[]> a = new LinkedHashMap<>();
            a.put("good.weight", ToyModels.random(1, 64, 1));
            float[] bad = ToyModels.planted(ToyModels.random(2, 5000, 1), Float.NaN, 0, 2500);
            bad[4999] = Float.POSITIVE_INFINITY;
            bad[17] = Float.NEGATIVE_INFINITY;
            a.put(BAD, bad);
            ToyModels.write(dir.resolve(t + "/a"), t, a);
            ToyModels.write(dir.resolve(t + "/b"), t, Map.of("good.weight", ToyModels.random(3, 64, 1), BAD,
                    ToyModels.random(4, 5000, 1)));
        }
    }

    static Path linear(String name, Path a, Path b) throws IOException {
        Path f = dir.resolve(name + ".yml");
        Files.writeString(f, "merge_method: linear\nmodels:\n  - model: " + a + "\n    parameters: {weight: 0.5}\n"
                + "  - model: " + b + "\n    parameters: {weight: 0.5}\n");
        return f;
    }

    static List<String> warnings(CliRun run) {
        return run.err().lines().filter(l -> l.contains("non-finite")).toList();
    }

    @Test
    void aWarningNamesExactlyTheAffectedTensorWithItsCounts() throws IOException {
        for (DType t : new DType[] {DType.F32, DType.BF16}) {
            Path cfg = linear("warn-" + t, dir.resolve(t + "/a"), dir.resolve(t + "/b"));
            Path out = dir.resolve("warn-out-" + t);
            Path csv = dir.resolve("warn-" + t + ".csv");
            CliRun run = CliRun.of("merge", cfg, out, "--threads", "2", "--stats", csv);
            assertEquals(0, run.code(), run.err());
            assertEquals(List.of("mergelab: warning: non-finite values in " + BAD
                    + ": input a has 2 NaN, 2 Inf; the output has 2 NaN, 2 Inf"), warnings(run), t.toString());
            assertEquals(new NonFinite(2, 2), ToyModels.countOnDisk(out, BAD), "the warning tells what was written");
            List<String> lines = Files.readAllLines(csv);
            assertEquals(StatsCsv.HEADER, lines.get(0));
            assertTrue(StatsCsv.HEADER.endsWith(",input_nan,input_inf,output_nan,output_inf"));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.split(",", -1);
                String counts = String.join(",", List.of(f).subList(f.length - 4, f.length));
                assertEquals(f[0].equals(BAD) ? "2;0,2;0,2,2" : "0;0,0;0,0,0", counts, line);
            }
        }
    }

    @Test
    void strictFailsWithOneLineAndWritesNothing() throws IOException {
        for (DType t : new DType[] {DType.F32, DType.BF16}) {
            Path cfg = linear("strict-" + t, dir.resolve(t + "/a"), dir.resolve(t + "/b"));
            Path parent = Files.createDirectories(dir.resolve("strict-" + t));
            Path out = parent.resolve("out");
            Path csv = parent.resolve("stats.csv");
            CliRun run = CliRun.of("merge", cfg, out, "--strict", "--stats", csv);
            String line = MergeCliErrorsTest.assertBadInput(run, out, dir.resolve(t + "/a/model.safetensors")
                    .toString(), "tensor '" + BAD + "'", "model a", "2 NaN, 2 Inf", "--strict");
            assertEquals("mergelab: " + dir.resolve(t + "/a/model.safetensors") + ": tensor '" + BAD
                    + "' of model a holds 2 NaN, 2 Inf (of 5000 values merged); --strict refuses non-finite inputs",
                    line);
            try (var left = Files.list(parent)) {
                assertEquals(List.of(), left.toList(), "no output, temporary folder or stats file");
            }
        }
    }

    @Test
    void cleanInputsGiveNoWarningAndPassStrict() throws IOException {
        Path c = ToyModels.write(dir.resolve("clean/c"), DType.F32, Map.of("good.weight", ToyModels.random(6, 64, 1),
                BAD, ToyModels.random(7, 5000, 1)));
        Path cfg = linear("clean", dir.resolve("F32/b"), c);
        CliRun run = CliRun.of("merge", cfg, dir.resolve("clean-out"), "--strict");
        assertEquals(0, run.code(), run.err());
        assertEquals(List.of(), warnings(run));
    }

    @Test
    void outputOverflowIsWarnedAboutAndStrictBlamesTheConfig() throws IOException {
        Path big = ToyModels.write(dir.resolve("overflow"), DType.F32, Map.of(BAD, ToyModels.random(5, 300, 100)));
        Path cfg = dir.resolve("overflow.yml");
        Files.writeString(cfg, "merge_method: linear\nmodels:\n  - model: " + big + "\n    parameters: {weight: 1000}\n"
                + "parameters: {normalize: false}\nout_dtype: float16\n");
        Path out = dir.resolve("overflow-out");
        CliRun run = CliRun.of("merge", cfg, out);
        assertEquals(0, run.code(), run.err());
        NonFinite written = ToyModels.countOnDisk(out, BAD);
        assertTrue(written.inf() > 100, written.toString());
        assertEquals(List.of("mergelab: warning: non-finite values in " + BAD + ": the output has " + written
                + " (overflow)"), warnings(run));
        Path strictOut = Files.createDirectories(dir.resolve("overflow-strict")).resolve("out");
        MergeCliErrorsTest.assertBadInput(CliRun.of("merge", cfg, strictOut, "--strict"), strictOut, cfg.toString(),
                "merging tensor '" + BAD + "' gives " + written + " as float16", "--strict");
    }

    // configs merging base, a (holding the NaN and the Infs) and c, by placeholder
    static final String WEIGHTED = "models: [{model: MODEL_A, parameters: {weight: 1}},"
            + " {model: MODEL_C, parameters: {weight: 1}}]";
    static final String INTERPOLATION = "base_model: MODEL_BASE\nmodels: [{model: MODEL_BASE}, {model: MODEL_A}]\n"
            + "parameters: {t: 0.5}";
    static final String TASK_VECTORS = "base_model: MODEL_BASE\nmodels: [{model: MODEL_A, parameters: {weight: 1,"
            + " density: 0.5}}, {model: MODEL_C, parameters: {weight: 1, density: 0.5}}]";

    static final Map<String, String> METHODS = Map.ofEntries(Map.entry("linear", WEIGHTED),
            Map.entry("slerp", INTERPOLATION), Map.entry("nlerp", INTERPOLATION), Map.entry("delerp", INTERPOLATION),
            Map.entry("nuslerp", WEIGHTED), Map.entry("multislerp", WEIGHTED),
            Map.entry("karcher", "models: [{model: MODEL_A}, {model: MODEL_C}]"), Map.entry("nearswap", INTERPOLATION),
            Map.entry("passthrough", "models: [{model: MODEL_A}]"),
            Map.entry("model_stock", "base_model: MODEL_BASE\nmodels: [{model: MODEL_A}, {model: MODEL_C}]"),
            Map.entry("sce", "base_model: MODEL_BASE\nmodels: [{model: MODEL_A}, {model: MODEL_C}]\n"
                    + "parameters: {select_topk: 0.5}"),
            Map.entry("task_arithmetic", TASK_VECTORS), Map.entry("ties", TASK_VECTORS),
            Map.entry("dare_linear", TASK_VECTORS), Map.entry("dare_ties", TASK_VECTORS),
            Map.entry("breadcrumbs", TASK_VECTORS), Map.entry("breadcrumbs_ties", TASK_VECTORS),
            Map.entry("della", TASK_VECTORS), Map.entry("della_linear", TASK_VECTORS));

    @Test
    void everyMethodFinishesOnNonFiniteInputsAndTheWarningMatchesTheFile() throws IOException {
        Path base = ToyModels.write(dir.resolve("methods/base"), DType.BF16, Map.of("good.weight",
                ToyModels.random(8, 64, 1), BAD, ToyModels.random(9, 5000, 1)));
        Path c = ToyModels.write(dir.resolve("methods/c"), DType.BF16, Map.of("good.weight",
                ToyModels.random(10, 64, 1), BAD, ToyModels.random(11, 5000, 1)));
        assertEquals(new TreeSet<>(MethodRegistry.names()), new TreeSet<>(METHODS.keySet()), "every method");
        new TreeMap<>(METHODS).forEach((method, body) -> {
            try {
                Path cfg = dir.resolve("method-" + method + ".yml");
                Files.writeString(cfg, "merge_method: " + method + "\n" + body.replace("MODEL_BASE", base.toString())
                        .replace("MODEL_A", dir.resolve("BF16/a").toString()).replace("MODEL_C", c.toString()) + "\n");
                Path out = dir.resolve("method-out-" + method);
                CliRun run = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliRun.of("merge", cfg, out));
                assertEquals(0, run.code(), method + ": " + run.err());
                NonFinite written = ToyModels.countOnDisk(out, BAD);
                assertEquals(List.of("mergelab: warning: non-finite values in " + BAD + ": input a has 2 NaN, 2 Inf"
                        + (written.any() ? "; the output has " + written : "")), warnings(run), method);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    void warningsAreCappedAtTenTensors() throws IOException {
        Map<String, float[]> bad = new LinkedHashMap<>();
        Map<String, float[]> clean = new LinkedHashMap<>();
        for (int i = 0; i < 13; i++) {
            bad.put(String.format("t%02d.weight", i), ToyModels.planted(ToyModels.random(i, 8, 1), Float.NaN, i % 8));
            clean.put(String.format("t%02d.weight", i), ToyModels.random(100 + i, 8, 1));
        }
        Path cfg = linear("many", ToyModels.write(dir.resolve("many/a"), DType.BF16, bad),
                ToyModels.write(dir.resolve("many/b"), DType.BF16, clean));
        CliRun run = CliRun.of("merge", cfg, dir.resolve("many-out"));
        assertEquals(0, run.code(), run.err());
        List<String> lines = warnings(run);
        assertEquals(11, lines.size(), run.err());
        for (int i = 0; i < 10; i++) {
            assertTrue(lines.get(i).contains(String.format("t%02d.weight: input a has 1 NaN, 0 Inf", i)), lines.get(i));
        }
        assertEquals("mergelab: warning: and 3 more tensors with non-finite values (inputs 3 NaN, 0 Inf; outputs 3 NaN,"
                + " 0 Inf)", lines.get(10));
        assertFalse(run.err().contains("Exception"), run.err());
    }
}
