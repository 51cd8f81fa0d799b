package org.mergelab.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Populating a mapping maps its pages in without changing what it reads, from any start within a page. */
class MappedPagesTest {
    @Test
    void populatedRegionIsResidentAndUnchanged(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("data.bin");
        byte[] bytes = new byte[3 << 20];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31 + 7);
        }
        Files.write(file, bytes);
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file)) {
            // mapped from an offset inside a page, as a safetensors file's data is
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 1000, bytes.length - 1000, arena);
            MemorySegment region = mapped.asSlice(12345, 1 << 20);
            region.unload();
            MappedPages.populate(region);
            if (System.getProperty("os.name").startsWith("Linux")) {
                assertTrue(MappedPages.populateRead(region), "madvise(MADV_POPULATE_READ) accepted");
                assertTrue(region.isLoaded(), "every page of the region is resident");
            }
            for (long i = 0; i < region.byteSize(); i += 4093) {
                assertEquals(bytes[(int) (1000 + 12345 + i)], region.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
            }
            MappedPages.populate(mapped.asSlice(0, 0)); // nothing to do
        }
    }
}
