package org.mergelab.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PageCacheTest {
    @TempDir
    Path dir;

    @Test
    void dropsAFileFromTheCacheReadsItBackAndMeasuresItsHugePages() throws Exception {
        assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "posix_fadvise and /proc are Linux's");
        byte[] data = new byte[6 << 20];
        new Random(7).nextBytes(data);
        Path file = dir.resolve("input.bin");
        Files.write(file, data);
        assertTrue(PageCache.readFromDisk(file), "open + posix_fadvise(DONTNEED) through the native binding");
        assertArrayEquals(data, Files.readAllBytes(file), "reading it back leaves the file as it was");
        double huge = PageCache.hugeMappedFraction(List.of(file, file));
        assertTrue(huge >= 0 && huge <= 1, "a share of the mapped bytes, from /proc/self/smaps_rollup: " + huge);
    }
}
