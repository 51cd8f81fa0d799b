package org.mergelab.experiment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.mergelab.eval.Task;

/**
 * Task results by what decides them: the model identity (a hash of the evaluated float32 weights), the task hash,
 * the number of items, and the evaluation setup (architecture, tokenizer); never by request alone. One JSON file per
 * entry under {@code <results>/cache/}, written whole (temporary file, then rename). A LERP at t = 0 is the base
 * itself, so it finds the base reference's results here.
 */
final class EvalCache {
    private final Path dir;
    private final boolean read;

    /** @param read false to evaluate everything again ({@code --force}); results are still stored */
    EvalCache(Path dir, boolean read) {
        this.dir = dir;
        this.read = read;
    }

    static String key(String identity, Task task, String setup) {
        return Hashing.sha256(identity + "\n" + task.hash() + "\n" + task.items().size() + "\n" + setup)
                .substring("sha256:".length());
    }

    /** The stored result, or null (none, or unreadable: it is evaluated again). */
    TaskScores get(String key) {
        Path f = dir.resolve(key + ".json");
        if (!read || !Files.isRegularFile(f)) {
            return null;
        }
        try {
            return Json.MAPPER.readValue(f.toFile(), TaskScores.class);
        } catch (IOException e) {
            return null;
        }
    }

    void put(String key, TaskScores scores) throws IOException {
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, key, ".tmp");
        try {
            Json.MAPPER.writeValue(tmp.toFile(), scores);
            Files.move(tmp, dir.resolve(key + ".json"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
