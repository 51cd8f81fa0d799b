package org.mergelab.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.mergelab.BadInputException;

/**
 * An output folder written atomically: everything goes into {@code .NAME.mergelab-tmp-PID} beside {@code NAME} and is
 * renamed into place only when complete, so a failed or killed run never leaves a folder that looks finished. A
 * temporary folder left by a killed run (its process gone) is removed by the next run that writes the same output.
 */
public final class OutputFolder {
    private static final String TMP = ".mergelab-tmp-";

    private final Path target;
    private final Path temp;
    private final Thread cleanupOnExit;
    private boolean done;

    private OutputFolder(Path target, Path temp) {
        this.target = target;
        this.temp = temp;
        this.cleanupOnExit = new Thread(this::deleteTemp, "remove-" + temp.getFileName());
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
    }

    /**
     * Starts writing {@code target}. Refuses when it exists (unless {@code overwrite}, or it is an empty folder).
     *
     * @param notes receives one line per stale temporary folder removed
     */
    public static OutputFolder begin(Path target, boolean overwrite, Consumer<String> notes) throws IOException {
        Path out = target.toAbsolutePath().normalize();
        Path parent = out.getParent();
        if (parent == null) {
            throw new BadInputException(target + ": cannot write to the file system root");
        }
        if (Files.exists(out) && !overwrite && !isEmptyDirectory(out)) {
            throw new BadInputException(target + ": already exists; choose a new folder or pass --overwrite");
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new BadInputException(target + ": exists and is not a folder");
        }
        Files.createDirectories(parent);
        removeStale(parent, out.getFileName().toString(), notes);
        Path temp = parent.resolve("." + out.getFileName() + TMP + ProcessHandle.current().pid());
        deleteRecursively(temp);
        try {
            Files.createDirectory(temp);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException("temporary folder " + temp + " appeared while starting", e);
        }
        return new OutputFolder(out, temp);
    }

    /** The folder to write into. */
    public Path dir() {
        return temp;
    }

    public Path target() {
        return target;
    }

    /** Renames the finished temporary folder to the target, replacing an existing target. */
    public void commit() throws IOException {
        Path aside = null;
        if (Files.exists(target)) {
            aside = target.resolveSibling("." + target.getFileName() + ".mergelab-old-" + ProcessHandle.current().pid());
            deleteRecursively(aside);
            Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        done = true;
        removeHook();
        if (aside != null) {
            deleteRecursively(aside);
        }
    }

    /** Removes the temporary folder after a failure. */
    public void discard() {
        if (!done) {
            deleteTemp();
            done = true;
            removeHook();
        }
    }

    private void deleteTemp() {
        try {
            deleteRecursively(temp);
        } catch (IOException ignored) {
            // best effort on the way out; the next run removes what is left
        }
    }

    private void removeHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
        } catch (IllegalStateException ignored) {
            // already shutting down
        }
    }

    private static void removeStale(Path parent, String name, Consumer<String> notes) throws IOException {
        String prefix = "." + name + TMP;
        try (Stream<Path> s = Files.list(parent)) {
            for (Path p : s.toList()) {
                String f = p.getFileName().toString();
                if (!f.startsWith(prefix)) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(f.substring(prefix.length()));
                } catch (NumberFormatException e) {
                    continue;
                }
                boolean alive = pid != ProcessHandle.current().pid()
                        && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                if (!alive) {
                    deleteRecursively(p);
                    notes.accept("removed " + p + ", left by an interrupted run");
                }
            }
        }
    }

    private static boolean isEmptyDirectory(Path p) throws IOException {
        if (!Files.isDirectory(p)) {
            return false;
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.findAny().isEmpty();
        }
    }

    public static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
