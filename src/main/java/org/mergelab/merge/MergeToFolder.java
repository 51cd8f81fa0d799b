package org.mergelab.merge;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.mergelab.BadInputException;
import org.mergelab.Version;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelWriter;
import org.mergelab.io.OutputFolder;
import org.mergelab.io.SafetensorsFile;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The {@code merge} job: config → checks → plan → engine → an HF folder. Everything that can be checked without
 * reading tensor data is checked before the output folder is created; the folder appears only when complete.
 */
public final class MergeToFolder {
    public static final String SAVED_CONFIG = "mergelab_config.yml";

    private MergeToFolder() {}

    /** Non-finite tensors listed one warning line each before the rest are summed up in one line. */
    public static final int NON_FINITE_WARNINGS = 10;

    /**
     * @param stats where to write the per-tensor norm statistics CSV, or null
     * @param strict fail (bad input, nothing written) on a NaN or an infinity in an input or the output, instead of
     *     a warning per tensor
     */
    public record Options(int threads, long shardBytes, long seed, boolean overwrite, int chunk, Progress progress,
            Consumer<String> notes, Path stats, boolean strict) {
        /** Not strict: non-finite values are warnings. */
        public Options(int threads, long shardBytes, long seed, boolean overwrite, int chunk, Progress progress,
                Consumer<String> notes, Path stats) {
            this(threads, shardBytes, seed, overwrite, chunk, progress, notes, stats, false);
        }
    }

    /**
     * @param phases seconds spent checking and planning, merging (read + compute + write to the page cache), syncing
     *     the shards to disk, and finishing the folder (config, tokenizer, rename)
     * @param stats the per-tensor norm statistics when {@link Options#stats()} asked for them, else empty
     * @param nonFinite the tensors whose inputs or output held NaN or infinite values (each was warned about)
     */
    public record Summary(Path out, int tensors, long bytes, int shards, double seconds, String method,
            Map<String, Double> phases, List<TensorStats> stats, List<NonFiniteTensor> nonFinite) {}

    public static Summary run(Path configFile, Path outDir, Options opt) throws IOException {
        long started = System.nanoTime();
        MergeConfig cfg = ConfigParser.parse(configFile);
        Planner.Checked checked = Planner.check(cfg);
        checked.warnings().forEach(w -> opt.notes().accept("warning: " + w));
        Path out = outDir.toAbsolutePath().normalize();
        for (Path input : checked.paths()) {
            if (out.startsWith(input)) {
                throw new BadInputException(outDir + ": output folder is inside input model " + input
                        + "; MergeLab never writes into an input");
            }
            if (opt.overwrite() && input.startsWith(out)) {
                throw new BadInputException(outDir + ": --overwrite would delete input model " + input);
            }
        }
        Path tokenizerDir = tokenizerDir(cfg, checked);
        List<ModelFolder> folders = new ArrayList<>();
        try {
            for (Path p : checked.paths()) {
                folders.add(ModelFolder.open(p));
            }
            MergePlan plan = Planner.plan(checked, folders);
            plan.warnings().forEach(w -> opt.notes().accept("warning: " + w));
            OutputFolder target = OutputFolder.begin(outDir, opt.overwrite(), opt.notes());
            Map<String, Double> phases = new java.util.LinkedHashMap<>();
            phases.put("plan", (System.nanoTime() - started) / 1e9);
            try {
                Written written = write(plan, target.dir(), opt, phases);
                NonFiniteTensor.warnings(written.nonFinite(), NON_FINITE_WARNINGS).forEach(opt.notes());
                long finishing = System.nanoTime();
                writeConfig(plan, target.dir());
                copyTokenizer(tokenizerDir != null ? tokenizerDir : folders.get(plan.donor()).dir(), target.dir());
                Files.writeString(target.dir().resolve(SAVED_CONFIG), savedConfig(cfg, opt));
                target.commit();
                phases.put("finish", (System.nanoTime() - finishing) / 1e9);
                double seconds = (System.nanoTime() - started) / 1e9;
                return new Summary(target.target(), plan.tasks().size(), plan.outputBytes(), written.shards(), seconds,
                        plan.method().name(), phases, written.stats(), written.nonFinite());
            } finally {
                target.discard();
            }
        } finally {
            folders.forEach(ModelFolder::close);
        }
    }

    /** What writing the shards gave: their count and what was gathered on the way. */
    private record Written(int shards, List<TensorStats> stats, List<NonFiniteTensor> nonFinite) {}

    private static Written write(MergePlan plan, Path dir, Options opt, Map<String, Double> phases)
            throws IOException {
        try (ModelWriter writer = ModelWriter.create(dir, plan.outputs(), opt.shardBytes(), Map.of("format", "pt"));
                MergeEngine engine = new MergeEngine(opt.threads(), opt.chunk(), opt.seed());
                Progress progress = opt.progress()) {
            long t0 = System.nanoTime();
            MergeEngine.Result result = engine.run(plan, new SafetensorsSink(writer), progress, opt.stats() != null,
                    opt.strict());
            long t1 = System.nanoTime();
            writer.finish();
            phases.put("warm-up wait", result.warmUpSeconds());
            phases.put("merge", (t1 - t0) / 1e9 - result.warmUpSeconds());
            if (opt.stats() != null) {
                StatsCsv.write(opt.stats(), result.stats());
            }
            phases.put("sync", (System.nanoTime() - t1) / 1e9);
            return new Written(writer.shardCount(), result.stats(), result.nonFinite());
        }
    }

    private static void writeConfig(MergePlan plan, Path dir) throws IOException {
        Files.writeString(dir.resolve(ModelFolder.CONFIG), SafetensorsFile.jsonPretty(outputConfig(plan)) + "\n");
    }

    /**
     * The output's config.json: the donor's, with {@code torch_dtype} set to what is written and the layer count and
     * vocabulary size the merged tensors have (an in-memory merge reads its architecture from here too).
     */
    public static ObjectNode outputConfig(MergePlan plan) {
        ObjectNode config = plan.folders().get(plan.donor()).config().deepCopy();
        MergeConfig cfg = plan.config();
        var written = cfg.outDtype() != null ? cfg.outDtype() : cfg.dtype();
        if (written != null) {
            config.put("torch_dtype", written.torchName());
        }
        if (plan.outputLayers() >= 0) {
            config.put("num_hidden_layers", plan.outputLayers());
        }
        for (TensorTask t : plan.tasks()) {
            // a vocabulary crop changes the embedding rows; config.json must agree with the tensors
            if (t.out().name().contains("embed_tokens") && config.has("vocab_size")
                    && config.get("vocab_size").asLong() != t.out().shape()[0]) {
                config.put("vocab_size", t.out().shape()[0]);
            }
        }
        return config;
    }

    private static Path tokenizerDir(MergeConfig cfg, Planner.Checked checked) {
        String source = cfg.tokenizerSource();
        if (source == null) {
            return null;
        }
        if (source.equals("base")) {
            if (!checked.models().hasBase()) {
                throw new BadInputException(cfg.file() + ": tokenizer_source: base needs a base_model");
            }
            return checked.paths().get(checked.models().baseIndex());
        }
        Path p = Path.of(source).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new BadInputException(cfg.file() + ": tokenizer_source '" + source + "' is not a model folder");
        }
        return p;
    }

    private static void copyTokenizer(Path from, Path dir) throws IOException {
        for (String f : ModelFolder.TOKENIZER_FILES) {
            Path p = from.resolve(f);
            if (Files.isRegularFile(p)) {
                Files.copy(p, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** The config as written, plus what else decided the output (so a merge can be repeated exactly). */
    private static String savedConfig(MergeConfig cfg, Options opt) {
        String text = cfg.text().endsWith("\n") ? cfg.text() : cfg.text() + "\n";
        return text + "# --- recorded by MergeLab ---\n"
                + "# mergelab_version: " + Version.get() + "\n"
                + "# seed: " + opt.seed() + "\n";
    }
}
