package org.mergelab.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The inputs' page-cache state, which a merge's speed depends on. On Linux with large page-cache folios (ext4 since
 * 6.x, XFS), a file read from disk is cached in 2 MB folios, and a mapping maps each with one page-table entry; a file
 * cached another way (written in small pieces, or re-read while memory was fragmented) sits in 4 KB pages. Measured
 * here, the same 1 GB inputs both ways: mapping a cached GB 0.006 vs 0.066 s, TIES 2.6-3.0 vs 3.0-3.4 s, DELLA
 * 5.2-5.4 vs 5.5-6.4 s (fewer page faults and TLB misses). So the benchmark puts its inputs in the cache as a first
 * read from disk leaves them ({@link #readFromDisk}) and reports how much of them a mapping sees in 2 MB pages
 * ({@link #hugeMappedFraction}).
 */
final class PageCache {
    private PageCache() {}

    private static final int O_RDONLY = 0;
    private static final int POSIX_FADV_DONTNEED = 4;

    /** libc's open and posix_fadvise, or null where they cannot be linked (then nothing is dropped). */
    private static final MethodHandle OPEN;
    private static final MethodHandle FADVISE;
    private static final MethodHandle CLOSE;

    static {
        MethodHandle open = null;
        MethodHandle fadvise = null;
        MethodHandle close = null;
        try {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            open = linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2));
            fadvise = linker.downcallHandle(libc.find("posix_fadvise").orElseThrow(), FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT));
            close = linker.downcallHandle(libc.find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        } catch (RuntimeException | LinkageError e) {
            open = null;
        }
        OPEN = open;
        FADVISE = fadvise;
        CLOSE = close;
    }

    /**
     * Drops {@code file}'s clean pages from the page cache and reads it back sequentially, as a first read from disk
     * caches it. Returns false, having only read it, where the pages cannot be dropped (no libc, another OS).
     */
    static boolean readFromDisk(Path file) throws IOException {
        boolean dropped = drop(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(4 << 20);
            while (ch.read(buf.clear()) >= 0) {
                // sequential reads: the kernel's readahead allocates the cache's folios
            }
        }
        return dropped;
    }

    private static boolean drop(Path file) {
        if (OPEN == null) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom(file.toAbsolutePath().toString()), O_RDONLY, 0);
            if (fd < 0) {
                return false;
            }
            try {
                return (int) FADVISE.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED) == 0;
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (Throwable e) {
            return false;
        }
    }

    /**
     * Maps {@code files}, touches every page, and returns the share of their bytes mapped by 2 MB page-table entries
     * (the growth of this process's {@code FilePmdMapped}, /proc/self/smaps_rollup); NaN where that is not reported.
     * This is also how the benchmark pulls its inputs into the cache before each run.
     */
    static double hugeMappedFraction(List<Path> files) throws IOException {
        long before = filePmdMappedBytes();
        long total = 0;
        long after;
        try (Arena arena = Arena.ofConfined()) {
            for (Path f : files) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
                    mapped.load();
                    total += ch.size();
                }
            }
            after = filePmdMappedBytes();
        }
        if (before < 0 || after < 0 || total == 0) {
            return Double.NaN;
        }
        return Math.clamp((after - before) / (double) total, 0.0, 1.0);
    }

    /** FilePmdMapped of this process in bytes, or −1 where /proc does not report it. */
    private static long filePmdMappedBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps_rollup"))) {
                if (line.startsWith("FilePmdMapped:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024; // "FilePmdMapped:   2048 kB"
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
