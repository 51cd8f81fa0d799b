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
    /** Where an existing target is moved during {@link #commit()}, for the moment of the rename. */
    private static final String OLD = ".mergelab-old-";

    private final Path target;
    private final Path temp;
    /** The highest ancestor of the target this run created (null if none): removed again when the run fails. */
    private final Path createdParent;
    private final Thread cleanupOnExit;
    private boolean done;

    private OutputFolder(Path target, Path temp, Path createdParent) {
        this.target = target;
        this.temp = temp;
        this.createdParent = createdParent;
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
        Path createdParent = null;
        for (Path p = parent; p != null && !Files.exists(p); p = p.getParent()) {
            createdParent = p;
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
        return new OutputFolder(out, temp, createdParent);
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
            aside = target.resolveSibling("." + target.getFileName() + OLD + ProcessHandle.current().pid());
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
            removeCreatedParents();
        }
    }

    /** Parent folders this run created for the output, removed bottom-up while empty: a failed run leaves nothing. */
    private void removeCreatedParents() {
        if (createdParent == null) {
            return;
        }
        for (Path p = temp.getParent(); p != null && p.startsWith(createdParent); p = p.getParent()) {
            try {
                Files.delete(p);
            } catch (IOException e) {
                return; // not empty (someone else wrote there) or gone: leave it
            }
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
        try (Stream<Path> s = Files.list(parent)) {
            for (Path p : s.toList()) {
                String f = p.getFileName().toString();
                String prefix = f.startsWith("." + name + TMP) ? "." + name + TMP
                        : f.startsWith("." + name + OLD) ? "." + name + OLD : null;
                if (prefix == null) {
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
