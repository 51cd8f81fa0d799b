package org.mergelab.experiment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import org.mergelab.eval.LlamaConfig;
import org.mergelab.eval.Weights;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.OutputFolder;
import org.mergelab.merge.MergeEngine;
import org.mergelab.merge.MergeToFolder;
import org.mergelab.merge.Progress;

/**
 * Writes a cell's merge as {@code mergelab merge} does (an HF folder, with the config saved in it) and evaluates it
 * from disk: for comparison with the in-memory path, and to keep the merged models. Kept folders are named after the
 * cell ({@link Cell#folderName()}) in the given directory, with their norm statistics beside them as
 * {@code NAME.stats.csv}; without a directory each merge goes to a temporary folder deleted after its cell.
 */
final class MaterializedMerge implements MergeStrategy {
    /** The shard size {@code mergelab merge} writes by default. */
    private static final long SHARD_BYTES = 5L << 30;

    private final SweepPlan plan;
    private final int threads;
    private final Path keepDir;
    private final Consumer<String> notes;

    /** @param keepDir where merged models stay, or null to delete each after its cell */
    MaterializedMerge(SweepPlan plan, int threads, Path keepDir, Consumer<String> notes) {
        this.plan = plan;
        this.threads = threads;
        this.keepDir = keepDir;
        this.notes = notes;
    }

    @Override
    public CellModel merge(Cell cell) throws IOException {
        long started = System.nanoTime();
        Path root = keepDir != null ? Files.createDirectories(keepDir) : Files.createTempDirectory("mergelab-cell-");
        Path config = Files.createTempFile("mergelab-cell-", ".yml");
        ModelFolder folder = null;
        try {
            Files.writeString(config, cell.config().yaml());
            Path out = root.resolve(cell.folderName());
            MergeToFolder.Summary summary = MergeToFolder.run(config, out, new MergeToFolder.Options(threads,
                    SHARD_BYTES, cell.seed(), true, MergeEngine.DEFAULT_CHUNK, Progress.NONE, notes,
                    root.resolve(cell.folderName() + ".stats.csv")));
            folder = ModelFolder.open(out);
            ModelFolder opened = folder;
            return new CellModel(Weights.of(folder), LlamaConfig.of(folder), plan.tokenizerDir(out), summary.stats(),
                    (System.nanoTime() - started) / 1e9, () -> {
                        opened.close();
                        if (keepDir == null) {
                            OutputFolder.deleteRecursively(root);
                        }
                    });
        } catch (IOException | RuntimeException e) {
            if (folder != null) {
                folder.close();
            }
            if (keepDir == null) {
                OutputFolder.deleteRecursively(root);
            }
            throw e;
        } finally {
            Files.deleteIfExists(config);
        }
    }
}
