package org.mergelab.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.Callable;

import org.mergelab.eval.EvalContext;
import org.mergelab.eval.EvalReport;
import org.mergelab.eval.Evaluator;
import org.mergelab.eval.LlamaConfig;
import org.mergelab.eval.LlamaGraph;
import org.mergelab.eval.LlamaModel;
import org.mergelab.eval.OrtRuntime;
import org.mergelab.eval.Task;
import org.mergelab.eval.TaskLoader;
import org.mergelab.eval.TaskResult;
import org.mergelab.eval.TextTokenizer;
import org.mergelab.eval.Weights;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.SafetensorsFile;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a model on tasks (perplexity, multiple_choice, generate, refusal) with ONNX Runtime;"
                + " write the results as JSON and print a table.")
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL_DIR", description = "HF model folder (Llama, Mistral, Qwen2)")
    Path dir;

    @Option(names = "--tasks", paramLabel = "FILE_OR_DIR", arity = "1..*", required = true,
            description = "task files (.yaml/.yml/.json), or folders of them")
    List<Path> tasks;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "results JSON to write")
    Path out;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0",
            description = "evaluate only the first N items of each task (default: all)")
    int limit;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "8",
            description = "sequences per forward pass (default ${DEFAULT-VALUE}); never changes a score")
    int batchSize;

    @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime threads (default: all cores)")
    Integer threads;

    @Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        int n = threads(spec, threads);
        if (limit < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--limit must be >= 0");
        }
        if (batchSize < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--batch-size must be >= 1");
        }
        PrintWriter err = spec.commandLine().getErr();
        List<Task> loaded = TaskLoader.load(tasks, limit); // every task file checked before the model loads
        EvalReport report;
        try (ModelFolder folder = ModelFolder.open(dir); TextTokenizer tok = TextTokenizer.load(dir)) {
            LlamaConfig config = LlamaConfig.of(folder);
            TreeSet<String> dtypes = new TreeSet<>();
            config.tensors().keySet().forEach(name -> {
                if (folder.tensor(name) != null) {
                    dtypes.add(folder.tensor(name).dtype().name());
                }
            });
            OrtRuntime runtime = OrtRuntime.create(n);
            LlamaGraph.Variant variant = Evaluator.variantFor(loaded);
            long loadStart = System.nanoTime();
            try (LlamaModel model = LlamaModel.open(runtime, config, Weights.of(folder), variant)) {
                double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
                int[] k = {0};
                List<TaskResult> results = Evaluator.run(new EvalContext(model, tok, batchSize), loaded,
                        name -> err.printf(Locale.ROOT, "mergelab: [%d/%d] %s%n", ++k[0], loaded.size(), name));
                report = new EvalReport(dir.toString(), model.info(), List.copyOf(dtypes), batchSize, n, limit,
                        loadSeconds, (System.nanoTime() - started) / 1e9, results);
            }
        }
        writeAtomically(out, SafetensorsFile.jsonPretty(report.toJson()) + "\n");
        PrintWriter o = spec.commandLine().getOut();
        o.print(report.table());
        o.printf(Locale.ROOT, "model %s (%s), results in %s (%.2f s)%n", report.info().identity(),
                report.info().architecture(), out, report.totalSeconds());
        return Main.OK;
    }

    static int threads(CommandSpec spec, Integer threads) {
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (n < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 1");
        }
        return n;
    }

    /** Written beside the target and renamed, so a crash never leaves half a results file. */
    private static void writeAtomically(Path target, String text) throws java.io.IOException {
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, text);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
