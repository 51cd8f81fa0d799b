package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.Version;
import org.mergelab.io.DType;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.io.ModelWriter;
import org.mergelab.io.OutTensor;
import org.mergelab.zoo.SyntheticLlama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The CLI's contract for bad input, run in process: exit code 2, exactly one line on stderr that starts with
 * "mergelab: " and names the file, key or tensor, no exception names or stack traces, and no output folder or
 * temporary folder left behind. Plus the success paths around the output folder, and inspect/--version.
 */
class MergeCliErrorsTest {
    @TempDir
    static Path dir;

    static Path base;
    static Path a;
    static Path b;
    static Path wide;
    static int caseNo;

    @BeforeAll
    static void models() throws IOException {
        TinyFamily family = TinyFamily.write(dir);
        base = family.base();
        a = family.a();
        b = family.b();
        wide = dir.resolve("wide");
        SyntheticLlama.write(wide, new SyntheticLlama.Spec(2, 48, 64, 4, 2, 96, DType.BF16, 20_000, false), 1, 4,
                0.3);
    }

    // ---------------------------------------------------------------- helpers

    /** A fresh, empty folder to hold one case's OUT_DIR. */
    static Path freshParent() throws IOException {
        return Files.createDirectory(dir.resolve("case-" + (++caseNo)));
    }

    static String sub(String yaml) {
        return yaml.replace("BASE", base.toString()).replace("WIDE", wide.toString())
                .replaceAll("\\bA\\b", a.toString()).replaceAll("\\bB\\b", b.toString());
    }

    static Path config(String yaml) throws IOException {
        Path f = dir.resolve("config-" + (++caseNo) + ".yml");
        Files.writeString(f, sub(yaml));
        return f;
    }

    static final String GOOD = """
            merge_method: linear
            models:
              - model: A
                parameters: {weight: 0.5}
              - model: B
                parameters: {weight: 0.5}
            dtype: bfloat16
            """;

    /** Exit 2, one clean stderr line containing every fragment, nothing on stdout, no output, no temp folder. */
    static String assertBadInput(CliRun run, Path out, String... fragments) throws IOException {
        assertEquals(2, run.code(), () -> "exit code; stderr: " + run.err() + " stdout: " + run.out());
        List<String> lines = run.err().lines().toList();
        assertEquals(1, lines.size(), () -> "exactly one stderr line, got: " + run.err());
        String line = lines.get(0);
        assertTrue(line.startsWith("mergelab: "), line);
        for (String f : fragments) {
            assertTrue(line.contains(f), () -> "stderr should contain '" + f + "': " + line);
        }
        assertFalse(line.contains("Exception"), line);
        assertFalse(run.err().contains("\tat ") || run.err().contains("Caused by"), run.err());
        assertEquals("", run.out(), "nothing on stdout");
        if (out != null) {
            assertFalse(Files.exists(out), () -> out + " must not be created");
            assertNoTemp(out);
        }
        return line;
    }

    static void assertNoTemp(Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (!Files.isDirectory(parent)) {
            return;
        }
        String prefix = "." + out.getFileName() + ".mergelab-";
        try (Stream<Path> s = Files.list(parent)) {
            List<Path> left = s.filter(p -> p.getFileName().toString().startsWith(prefix)).toList();
            assertTrue(left.isEmpty(), () -> "temporary folders left: " + left);
        }
    }

    /** Relative path → size, for every file under {@code root}: to prove a folder was left untouched. */
    static Map<String, Long> snapshot(Path root) throws IOException {
        Map<String, Long> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                m.put(root.relativize(p).toString(), Files.isRegularFile(p) ? Files.size(p) : -1L);
            }
        }
        return m;
    }

    static Path copyModel(Path from, String name) throws IOException {
        Path to = dir.resolve(name);
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
        return to;
    }

    static Path firstShard(Path model) throws IOException {
        try (Stream<Path> s = Files.list(model)) {
            return s.filter(p -> p.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors")).sorted()
                    .reduce((x, y) -> y).orElseThrow();
        }
    }

    /** Runs {@code merge config out} on a bad config: the bad-input contract, and the message names the config. */
    static String mergeFails(String yaml, String... fragments) throws IOException {
        return runFails(yaml, true, fragments);
    }

    /** As {@link #mergeFails}, for problems in the models (the message names a model file, not the config). */
    static String modelFails(String yaml, String... fragments) throws IOException {
        return runFails(yaml, false, fragments);
    }

    private static String runFails(String yaml, boolean namesConfig, String... fragments) throws IOException {
        Path cfg = config(yaml);
        Path out = freshParent().resolve("out");
        String[] all = namesConfig
                ? Stream.concat(Stream.of(cfg.toString()), Stream.of(fragments)).toArray(String[]::new)
                : fragments;
        String line = assertBadInput(CliRun.of("merge", cfg, out), out, all);
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertEquals(List.of(), s.toList(), "the parent of OUT_DIR stays empty");
        }
        return line;
    }

    // ---------------------------------------------------------------- config errors

    @Test
    void yamlSyntaxError() throws IOException {
        Path cfg = config("merge_method: linear\nmodels: a\n  b: c\n");
        Path out = freshParent().resolve("out");
        assertBadInput(CliRun.of("merge", cfg, out), out, cfg + ":3:4: YAML syntax error");
    }

    @Test
    void emptyConfig() throws IOException {
        mergeFails("", "empty config");
        mergeFails("# nothing but a comment\n", "empty config");
    }

    @Test
    void unknownMethod() throws IOException {
        mergeFails("merge_method: frankenmerge\nmodels: [A, B]\n", "'frankenmerge'", "linear", "slerp");
    }

    @Test
    void missingRequiredParameter() throws IOException {
        mergeFails("merge_method: slerp\nbase_model: BASE\nmodels: [A]\n", "slerp", "'t'");
        mergeFails("merge_method: linear\nmodels:\n  - model: A\n    parameters: {weight: 1}\n  - model: B\n",
                "models[1]", "'weight'");
    }

    @Test
    void requiredParameterUnsetForOneTensor() throws IOException {
        mergeFails("merge_method: slerp\nbase_model: BASE\nmodels: [A]\nparameters:\n  t:\n    - filter: mlp\n"
                + "      value: 0.5\n", "'t'", "'model.embed_tokens.weight'");
    }

    @Test
    void wrongType() throws IOException {
        mergeFails("merge_method: slerp\nbase_model: BASE\nmodels: [A]\nparameters: {t: abc}\n", "parameters.t",
                "'abc'", "a number");
        mergeFails("merge_method: karcher\nmodels: [A, B]\nparameters: {max_iter: 2.5}\n", "parameters.max_iter",
                "an integer");
    }

    @Test
    void parameterOutOfRange() throws IOException {
        mergeFails("merge_method: karcher\nmodels: [A, B]\nparameters: {tol: 0}\n", "tol");
        mergeFails("merge_method: linear\nmodels:\n  - model: A\n    parameters: {weight: 1}\n  - model: B\n"
                + "    parameters: {weight: -1}\n", "sum to 0");
    }

    @Test
    void wrongModelCount() throws IOException {
        mergeFails("merge_method: slerp\nbase_model: BASE\nmodels: [A, B]\nparameters: {t: 0.5}\n", "slerp",
                "exactly two");
    }

    @Test
    void tiesDensityAboveOne() throws IOException {
        mergeFails("merge_method: ties\nbase_model: BASE\nmodels:\n  - model: A\n    parameters: {weight: 1, "
                + "density: 1.5}\n", "ties", "density", "1.5", "(0, 1]");
    }

    @Test
    void dellaDensityPlusMinusEpsilonOutsideZeroOne() throws IOException {
        mergeFails("merge_method: della\nbase_model: BASE\nmodels:\n  - model: A\n    parameters: {weight: 1, "
                + "density: 0.9, epsilon: 0.15}\n", "della", "density ± epsilon", "(0, 1)");
        mergeFails("merge_method: della_linear\nbase_model: BASE\nmodels:\n  - model: A\n    parameters: {weight: 1,"
                + " density: 0.1}\n", "della_linear", "density ± epsilon");
    }

    @Test
    void modelStockWithOneModelBesidesTheBase() throws IOException {
        mergeFails("merge_method: model_stock\nbase_model: BASE\nmodels: [A]\n", "model_stock",
                "at least 2 models besides base_model");
    }

    @Test
    void taskVectorMethodWithoutBase() throws IOException {
        mergeFails("merge_method: ties\nmodels:\n  - model: A\n    parameters: {weight: 1}\n  - model: B\n"
                + "    parameters: {weight: 1}\n", "ties needs base_model");
        mergeFails("merge_method: ties\nbase_model: BASE\nmodels:\n  - model: A\n    parameters: {weight: 1}\n"
                + "parameters: {consensus: majority}\n", "parameters.consensus", "'majority'", "sum, count");
    }

    @Test
    void unknownDtypeName() throws IOException {
        mergeFails(GOOD.replace("bfloat16", "float8"), "dtype", "'float8'");
    }

    @Test
    void sliceWithoutSources() throws IOException {
        mergeFails("merge_method: slerp\nslices:\n  - sources: []\n", "slices[0].sources", "non-empty");
    }

    @Test
    void badTokenizerSource() throws IOException {
        mergeFails(GOOD + "tokenizer_source: base\n", "tokenizer_source", "base_model");
        Path missing = dir.resolve("no-tokenizer-here");
        mergeFails(GOOD + "tokenizer_source: " + missing + "\n", "tokenizer_source", missing.toString());
        mergeFails(GOOD + "tokenizer_source: union\n", "tokenizer_source", "union", "not supported yet");
    }

    @Test
    void configFileNotFound() throws IOException {
        Path cfg = dir.resolve("no-such-config.yml");
        Path out = freshParent().resolve("out");
        assertBadInput(CliRun.of("merge", cfg, out), out, cfg.toString(), "not found");
    }

    @Test
    void configPathIsAFolder() throws IOException {
        Path cfg = Files.createDirectory(dir.resolve("folder-config.yml"));
        Path out = freshParent().resolve("out");
        assertBadInput(CliRun.of("merge", cfg, out), out, cfg.toString());
    }

    // ---------------------------------------------------------------- model errors

    @Test
    void missingModelFolder() throws IOException {
        Path missing = dir.resolve("no-such-model");
        modelFails(GOOD.replace("model: B", "model: " + missing), missing.toString(), "not found");
    }

    @Test
    void modelsWithDifferentShapes() throws IOException {
        modelFails("merge_method: slerp\nbase_model: BASE\nmodels: [WIDE]\nparameters: {t: 0.5}\n",
                wide.toString(), "q_proj.weight'", "[48, 48]");
    }

    @Test
    void truncatedShard() throws IOException {
        Path broken = copyModel(b, "b-truncated");
        Path shard = firstShard(broken);
        try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 10);
        }
        modelFails(GOOD.replace("model: B", "model: " + broken), shard.toString(), "truncated");
    }

    @Test
    void indexPointsAtAMissingShard() throws IOException {
        Path broken = copyModel(b, "b-missing-shard");
        Path shard = firstShard(broken);
        Files.delete(shard);
        modelFails(GOOD.replace("model: B", "model: " + broken), ModelFolder.INDEX,
                shard.getFileName().toString(), "missing");
    }

    @Test
    void unreadableConfigJson() throws IOException {
        Path broken = copyModel(b, "b-bad-config");
        Files.writeString(broken.resolve(ModelFolder.CONFIG), "{\"model_type\": \"llama\",,}");
        modelFails(GOOD.replace("model: B", "model: " + broken), broken.resolve(ModelFolder.CONFIG).toString(),
                "JSON");
        Path noConfig = copyModel(b, "b-no-config");
        Files.delete(noConfig.resolve(ModelFolder.CONFIG));
        modelFails(GOOD.replace("model: B", "model: " + noConfig), noConfig.resolve(ModelFolder.CONFIG).toString(),
                "missing");
    }

    // ---------------------------------------------------------------- OUT_DIR errors

    @Test
    void outputEqualToAnInputModel() throws IOException {
        Map<String, Long> before = snapshot(a);
        Path cfg = config(GOOD);
        assertBadInput(CliRun.of("merge", cfg, a, "--overwrite"), null, a.toString(), "input");
        assertBadInput(CliRun.of("merge", cfg, a), null, a.toString(), "input");
        assertEquals(before, snapshot(a), "the input model is untouched");
        assertNoTemp(a);
    }

    @Test
    void outputInsideAnInputModel() throws IOException {
        Map<String, Long> before = snapshot(a);
        Path cfg = config(GOOD);
        Path out = a.resolve("merged");
        assertBadInput(CliRun.of("merge", cfg, out), out, out.toString(), "input");
        assertEquals(before, snapshot(a), "nothing written into the input model");
    }

    @Test
    void overwriteWouldDeleteAnInput() throws IOException {
        Map<String, Long> before = snapshot(a);
        Path cfg = config(GOOD);
        assertBadInput(CliRun.of("merge", cfg, dir, "--overwrite"), null, "--overwrite", a.toString());
        assertEquals(before, snapshot(a));
    }

    @Test
    void existingOutputIsLeftUntouchedWithoutOverwrite() throws IOException {
        Path out = Files.createDirectories(freshParent().resolve("out"));
        Files.writeString(out.resolve("keep.txt"), "precious");
        Files.createDirectory(out.resolve("sub"));
        Map<String, Long> before = snapshot(out);
        Path cfg = config(GOOD);
        CliRun run = CliRun.of("merge", cfg, out);
        assertBadInput(run, null, out.toString(), "already exists", "--overwrite");
        assertEquals(before, snapshot(out));
        assertEquals("precious", Files.readString(out.resolve("keep.txt")));
        assertNoTemp(out);
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertEquals(List.of(out), s.toList());
        }
    }

    @Test
    void outputPathIsAnExistingFile() throws IOException {
        Path out = freshParent().resolve("out");
        Files.writeString(out, "a file");
        assertBadInput(CliRun.of("merge", config(GOOD), out), null, out.toString(), "already exists");
        assertEquals("a file", Files.readString(out));
    }

    // ---------------------------------------------------------------- option errors

    @Test
    void badShardSize() throws IOException {
        Path cfg = config(GOOD);
        Path out = freshParent().resolve("out");
        assertBadInput(CliRun.of("merge", cfg, out, "--out-shard-size", "5X"), out, "--out-shard-size", "'5X'");
        assertBadInput(CliRun.of("merge", cfg, out, "--out-shard-size", "-1G"), out, "--out-shard-size");
        assertBadInput(CliRun.of("merge", cfg, out, "--out-shard-size", "0"), out, "--out-shard-size");
        // rounds down to zero bytes
        assertBadInput(CliRun.of("merge", cfg, out, "--out-shard-size", "0.5"), out, "--out-shard-size");
    }

    @Test
    void badThreadsAndProgress() throws IOException {
        Path cfg = config(GOOD);
        Path out = freshParent().resolve("out");
        assertBadInput(CliRun.of("merge", cfg, out, "--threads", "0"), out, "--threads");
        assertBadInput(CliRun.of("merge", cfg, out, "--threads", "-3"), out, "--threads");
        assertBadInput(CliRun.of("merge", cfg, out, "--threads", "many"), out, "--threads");
        assertBadInput(CliRun.of("merge", cfg, out, "--progress", "sometimes"), out, "--progress");
        assertBadInput(CliRun.of("merge", cfg, out, "--frobnicate"), out, "--frobnicate");
    }

    @Test
    void mergeWithoutArguments() throws IOException {
        CliRun run = CliRun.of("merge");
        assertEquals(2, run.code(), run.err());
        assertBadInput(run, null, "CONFIG.yml");
        CliRun one = CliRun.of("merge", config(GOOD));
        assertBadInput(one, null, "OUT_DIR");
        assertEquals(2, CliRun.of().code(), "no command");
        assertEquals(2, CliRun.of("frobnicate").code(), "unknown command");
    }

    // ---------------------------------------------------------------- a failure in the middle of a merge

    static void writeToy(Path d, float[] aw, float[] bw) throws IOException {
        Files.createDirectories(d);
        Files.writeString(d.resolve(ModelFolder.CONFIG), "{\"model_type\": \"toy\"}\n");
        List<OutTensor> t = List.of(new OutTensor("a.weight", DType.F32, new long[] {aw.length}),
                new OutTensor("b.weight", DType.F32, new long[] {bw.length}));
        try (ModelWriter w = ModelWriter.create(d, t, Long.MAX_VALUE, Map.of("format", "pt"))) {
            w.write(0, 0, floats(aw));
            w.write(1, 0, floats(bw));
            w.finish();
        }
    }

    static ByteBuffer floats(float[] v) {
        ByteBuffer buf = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            buf.putFloat(x);
        }
        return buf.flip();
    }

    static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }

    @Test
    void dataDependentFailureMidMergeLeavesNothing() throws IOException {
        SplittableRandom r = new SplittableRandom(7);
        int n = 64;
        float[] v = random(r, n);
        float[] minusV = new float[n];
        for (int i = 0; i < n; i++) {
            minusV[i] = -v[i];
        }
        Path m1 = dir.resolve("toy-1");
        Path m2 = dir.resolve("toy-2");
        Path m3 = dir.resolve("toy-3");
        writeToy(m1, random(r, n), v);
        writeToy(m2, random(r, n), minusV);
        writeToy(m3, random(r, n), random(r, n));
        try (ModelFolder f = ModelFolder.open(m1)) {
            assertEquals(List.of("a.weight", "b.weight"), f.tensors().stream().map(ModelTensor::name).toList(),
                    "a.weight is merged (and written) before b.weight fails");
        }
        String yaml = "merge_method: multislerp\nmodels:\n"
                + "  - model: " + m1 + "\n    parameters: {weight: 1}\n"
                + "  - model: " + m2 + "\n    parameters: {weight: 1}\n"
                + "  - model: " + m3 + "\n    parameters: {weight: 0}\n";
        modelFails(yaml, "'b.weight'");
        // parent folders created for OUT_DIR are removed again too
        Path nestedParent = freshParent();
        Path nested = nestedParent.resolve("new/deeper/out");
        assertBadInput(CliRun.of("merge", config(yaml), nested), nested, "'b.weight'");
        try (Stream<Path> s = Files.list(nestedParent)) {
            assertEquals(List.of(), s.toList(), "folders created for the output are removed after a failure");
        }
        // the same models merge fine when the directions do not cancel
        Path cfg = config(yaml.replace("weight: 0}", "weight: 0.5}"));
        Path out = freshParent().resolve("out");
        CliRun ok = CliRun.of("merge", cfg, out, "--threads", "2");
        assertEquals(0, ok.code(), ok.err());
    }

    // ---------------------------------------------------------------- success paths

    static void assertMerged(Path out) throws IOException {
        try (ModelFolder m = ModelFolder.open(out)) {
            assertEquals(21, m.tensorCount());
        }
        assertTrue(Files.isRegularFile(out.resolve("mergelab_config.yml")));
        assertNoTemp(out);
    }

    @Test
    void overwriteReplacesAnExistingOutput() throws IOException {
        Path out = Files.createDirectories(freshParent().resolve("out"));
        Files.writeString(out.resolve("old.txt"), "old");
        Files.writeString(out.resolve(ModelFolder.SINGLE), "stale weights");
        CliRun run = CliRun.of("merge", config(GOOD), out, "--overwrite", "--out-shard-size", "20K");
        assertEquals(0, run.code(), run.err());
        assertEquals("", run.err());
        assertTrue(run.out().startsWith("merged 21 tensors"), run.out());
        assertFalse(Files.exists(out.resolve("old.txt")), "the old folder is replaced, not merged into");
        assertFalse(Files.exists(out.resolve(ModelFolder.SINGLE)));
        assertTrue(Files.isRegularFile(out.resolve(ModelFolder.INDEX)));
        assertMerged(out);
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertEquals(List.of(out), s.toList(), "no temporary or set-aside folder remains");
        }
    }

    @Test
    void existingEmptyOutputIsAccepted() throws IOException {
        Path out = Files.createDirectories(freshParent().resolve("out"));
        CliRun run = CliRun.of("merge", config(GOOD), out);
        assertEquals(0, run.code(), run.err());
        assertMerged(out);
    }

    @Test
    void warningsGoToStderrAndTheMergeSucceeds() throws IOException {
        Path out = freshParent().resolve("out");
        CliRun run = CliRun.of("merge", config(GOOD + "lora_merge_cache: /tmp/cache\n"), out);
        assertEquals(0, run.code(), run.err());
        List<String> lines = run.err().lines().toList();
        assertEquals(1, lines.size(), run.err());
        assertTrue(lines.get(0).startsWith("mergelab: warning: ") && lines.get(0).contains("'lora_merge_cache'"),
                lines.get(0));
        assertMerged(out);
    }

    @Test
    void tokenizerFilesComeFromTokenizerSource() throws IOException {
        Path chat = copyModel(b, "b-own-tokenizer");
        Files.writeString(chat.resolve("tokenizer_config.json"), "{\"from\": \"chat\"}\n");
        Files.writeString(chat.resolve("special_tokens_map.json"), "{}\n");
        Path out = freshParent().resolve("out");
        CliRun run = CliRun.of("merge", config(GOOD + "tokenizer_source: " + chat + "\n"), out);
        assertEquals(0, run.code(), run.err());
        assertEquals("{\"from\": \"chat\"}\n", Files.readString(out.resolve("tokenizer_config.json")));
        assertTrue(Files.isRegularFile(out.resolve("special_tokens_map.json")));
        // default: the donor's (the first model without a base)
        Path out2 = freshParent().resolve("out");
        assertEquals(0, CliRun.of("merge", config(GOOD), out2).code());
        assertEquals(Files.readString(a.resolve("tokenizer_config.json")),
                Files.readString(out2.resolve("tokenizer_config.json")));
        assertFalse(Files.exists(out2.resolve("special_tokens_map.json")));
    }

    @Test
    void missingParentsOfTheOutputAreCreated() throws IOException {
        Path out = freshParent().resolve("x/y/out");
        CliRun run = CliRun.of("merge", config(GOOD), out);
        assertEquals(0, run.code(), run.err());
        assertMerged(out);
    }

    @Test
    void staleTemporaryFolderOfADeadRunIsRemovedAndReported() throws IOException {
        Path parent = freshParent();
        Path out = parent.resolve("out");
        Path stale = Files.createDirectory(parent.resolve(".out.mergelab-tmp-999999999"));
        Files.writeString(stale.resolve(ModelFolder.SINGLE), "half-written");
        // another output's leftover and a non-pid suffix are not ours to remove
        Path other = Files.createDirectory(parent.resolve(".other.mergelab-tmp-999999999"));
        Path notPid = Files.createDirectory(parent.resolve(".out.mergelab-tmp-notapid"));
        CliRun run = CliRun.of("merge", config(GOOD), out);
        assertEquals(0, run.code(), run.err());
        assertFalse(Files.exists(stale), "stale temporary folder removed");
        assertTrue(Files.exists(other));
        assertTrue(Files.exists(notPid));
        Files.delete(notPid);
        List<String> lines = run.err().lines().toList();
        assertEquals(1, lines.size(), run.err());
        assertTrue(lines.get(0).startsWith("mergelab: ") && lines.get(0).contains("removed")
                && lines.get(0).contains(stale.getFileName().toString()), lines.get(0));
        assertMerged(out);
    }

    @Test
    void inspectPrintsATableEndingInTotals() {
        CliRun run = CliRun.of("inspect", a);
        assertEquals(0, run.code(), run.err());
        List<String> lines = run.out().lines().toList();
        assertEquals(1 + 21 + 1, lines.size(), run.out());
        assertTrue(lines.get(0).startsWith("name"), lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("model.embed_tokens.weight ") && l.contains("BF16")
                && l.contains("[96,32]") && l.contains("3072")), run.out());
        String totals = lines.getLast();
        assertTrue(totals.matches("21 tensors, \\d+ elements, .+ in \\d+ shard\\(s\\), total L2 norm [0-9.e+-]+"),
                totals);
        assertEquals("", run.err());
    }

    @Test
    void inspectJsonNormsMatchTheTensorValues() throws IOException {
        CliRun run = CliRun.of("inspect", a, "--json");
        assertEquals(0, run.code(), run.err());
        JsonNode root = JsonMapper.builder().build().readTree(run.out());
        JsonNode tensors = root.get("tensors");
        double total = 0;
        long numel = 0;
        try (ModelFolder m = ModelFolder.open(a)) {
            assertEquals(m.tensorCount(), tensors.size());
            for (JsonNode t : tensors) {
                ModelTensor mt = m.tensor(t.get("name").asText());
                double[] x = MergeCliTest.values(mt);
                double ss = 0;
                for (double xi : x) {
                    ss += xi * xi;
                }
                double expected = Math.sqrt(ss);
                assertTrue(expected > 0);
                assertEquals(expected, t.get("l2_norm").asDouble(), expected * 1e-12, t.get("name").asText());
                assertEquals(x.length, t.get("numel").asLong());
                assertEquals("BF16", t.get("dtype").asText());
                total += ss;
                numel += x.length;
            }
        }
        JsonNode totals = root.get("totals");
        assertEquals(21, totals.get("tensors").asInt());
        assertEquals(numel, totals.get("numel").asLong());
        assertEquals(numel * 2, totals.get("bytes").asLong());
        assertTrue(totals.get("shards").asInt() > 1);
        assertEquals(Math.sqrt(total), totals.get("l2_norm").asDouble(), Math.sqrt(total) * 1e-12);
    }

    @Test
    void inspectShowsNanAndInfinityAndSkipsIntegerTensors() throws IOException {
        Path m = dir.resolve("nan-model");
        Files.createDirectories(m);
        Files.writeString(m.resolve(ModelFolder.CONFIG), "{\"model_type\": \"toy\"}\n");
        List<OutTensor> t = List.of(new OutTensor("ok.weight", DType.F32, new long[] {2}),
                new OutTensor("nan.weight", DType.F32, new long[] {3}),
                new OutTensor("inf.weight", DType.F32, new long[] {2}),
                new OutTensor("ids", DType.I64, new long[] {2}));
        try (ModelWriter w = ModelWriter.create(m, t, Long.MAX_VALUE, Map.of("format", "pt"))) {
            w.write(0, 0, floats(new float[] {3, 4}));
            w.write(1, 0, floats(new float[] {1, Float.NaN, 2}));
            w.write(2, 0, floats(new float[] {Float.POSITIVE_INFINITY, 1}));
            w.write(3, 0, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(7).putLong(8).flip());
            w.finish();
        }
        CliRun json = CliRun.of("inspect", m, "--json");
        assertEquals(0, json.code(), json.err());
        JsonNode root = JsonMapper.builder().build().readTree(json.out());
        Map<String, JsonNode> byName = new TreeMap<>();
        root.get("tensors").forEach(n -> byName.put(n.get("name").asText(), n.get("l2_norm")));
        assertEquals(5.0, byName.get("ok.weight").asDouble());
        assertEquals("NaN", byName.get("nan.weight").asText(), "a NaN tensor must not pass for an integer one");
        assertEquals("Infinity", byName.get("inf.weight").asText());
        assertTrue(byName.get("ids").isNull(), "integer tensors have no norm");
        assertEquals("NaN", root.get("totals").get("l2_norm").asText());

        CliRun table = CliRun.of("inspect", m);
        assertEquals(0, table.code(), table.err());
        List<String> lines = table.out().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("nan.weight ") && l.endsWith("NaN")), table.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("inf.weight ") && l.endsWith("Infinity")), table.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("ids ") && l.endsWith("-")), table.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("ok.weight ") && l.endsWith("5.00000")), table.out());
        assertTrue(lines.getLast().startsWith("4 tensors, 9 elements") && lines.getLast().endsWith("NaN"),
                lines.getLast());
    }

    @Test
    void inspectOfAMissingFolderIsBadInput() throws IOException {
        Path missing = dir.resolve("nothing-here");
        assertBadInput(CliRun.of("inspect", missing), null, missing.toString());
    }

    @Test
    void version() {
        CliRun run = CliRun.of("--version");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().startsWith("mergelab " + Version.get()), run.out());
    }
}
