package org.mergelab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WritebackTest {
    @TempDir
    Path dir;

    @Test
    void syncsInTheBackgroundEachTimeEnoughWasWrittenAndTheWholeFileAtFinish() throws Exception {
        Path a = dir.resolve("a.bin");
        Path b = dir.resolve("b.bin");
        byte[] bytes = new byte[4096];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31);
        }
        try (FileChannel ca = open(a); FileChannel cb = open(b)) {
            Writeback wb = new Writeback(16 * 4096, ca, cb);
            for (int i = 0; i < 64; i++) { // 4 thresholds' worth into a, none into b
                ca.write(ByteBuffer.wrap(bytes), (long) i * bytes.length);
                wb.wrote(0, bytes.length);
            }
            cb.write(ByteBuffer.wrap(bytes), 0);
            wb.wrote(1, bytes.length);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (wb.backgroundSyncs() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(wb.backgroundSyncs() >= 1, "a sync started once 16 pages were written");
            assertTrue(wb.backgroundSyncs() <= 4, "at most one sync per threshold crossed");
            wb.finish();
        }
        assertEquals(64 * 4096, Files.size(a));
        byte[] back = Files.readAllBytes(b);
        assertArrayEquals(bytes, back);
    }

    @Test
    void closeWithoutWritesThenFinishSyncsNothingInTheBackground() throws Exception {
        try (FileChannel c = open(dir.resolve("c.bin"))) {
            Writeback wb = new Writeback(c);
            wb.close();
            wb.finish(); // after close: syncs what there is, no thread left to wait for
            assertEquals(0, wb.backgroundSyncs());
        }
    }

    private static FileChannel open(Path p) throws Exception {
        return FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }
}
