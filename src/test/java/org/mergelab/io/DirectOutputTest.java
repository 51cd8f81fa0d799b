package org.mergelab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectOutputTest {
    @TempDir
    Path dir;

    private static final int WINDOW = 64 << 10;

    /** Writes {@code expected} in pieces of random lengths, in the order {@code shuffle} gives them. */
    private DirectOutput writeInPieces(Path file, byte[] expected, int maxOpen, boolean shuffle, long seed)
            throws Exception {
        Random r = new Random(seed);
        List<int[]> pieces = new ArrayList<>();
        for (int at = 0; at < expected.length;) {
            int len = Math.min(expected.length - at, 1 + r.nextInt(3 * WINDOW / 2)); // some span two windows
            pieces.add(new int[] {at, len});
            at += len;
        }
        if (shuffle) {
            Collections.shuffle(pieces, r);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            DirectOutput out = DirectOutput.open(file, ch, expected.length, WINDOW, maxOpen);
            for (int[] p : pieces) {
                ByteBuffer b = ByteBuffer.allocateDirect(p[1] + 3).position(3); // a buffer not at position 0
                b.put(expected, p[0], p[1]).position(3);
                out.write(p[0], b);
                assertFalse(b.hasRemaining());
            }
            out.finish();
            out.close();
            return out;
        }
    }

    /**
     * Writes {@code expected} in pieces of random lengths from two threads, each piece filled in place where
     * {@link DirectOutput#reserve} gives a slice (then committed), else written; returns how many went in place.
     */
    private int fillInPieces(Path file, byte[] expected, int maxOpen, long seed) throws Exception {
        Random r = new Random(seed);
        List<int[]> pieces = new ArrayList<>();
        for (int at = 0; at < expected.length;) {
            int len = Math.min(expected.length - at, 1 + r.nextInt(WINDOW / 3)); // some span two windows
            pieces.add(new int[] {at, len});
            at += len;
        }
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger inPlace = new java.util.concurrent.atomic.AtomicInteger();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            DirectOutput out = DirectOutput.open(file, ch, expected.length, WINDOW, maxOpen);
            Runnable worker = () -> {
                try {
                    for (int i; (i = next.getAndIncrement()) < pieces.size(); ) {
                        int[] p = pieces.get(i);
                        ByteBuffer slice = out.reserve(p[0], p[1]);
                        if (slice != null) {
                            slice.put(0, expected, p[0], p[1]);
                            out.commit(p[0], p[1]);
                            inPlace.incrementAndGet();
                        } else {
                            out.write(p[0], ByteBuffer.wrap(expected, p[0], p[1]));
                        }
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
            Thread other = new Thread(worker);
            other.start();
            worker.run();
            other.join();
            out.finish();
            out.close();
        }
        return inPlace.get();
    }

    @Test
    void piecesFilledInPlaceFromTwoThreadsLandInPlace() throws Exception {
        byte[] expected = bytes(12 * WINDOW + 4321, 7);
        Path f = dir.resolve("g.bin");
        int inPlace = fillInPieces(f, expected, 4, 7);
        assertArrayEquals(expected, Files.readAllBytes(f));
        boolean direct;
        try (FileChannel ch = FileChannel.open(dir.resolve("probe.bin"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            DirectOutput probe = DirectOutput.open(dir.resolve("probe.bin"), ch, 1, WINDOW, 1);
            direct = probe.direct();
            probe.close();
        }
        if (direct) {
            assertTrue(inPlace > 0, "most pieces lie within one window: " + inPlace);
        } else {
            assertEquals(0, inPlace, "without O_DIRECT every piece is written");
        }
    }

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void inOrderPiecesGoOutDirectAndTheFileKeepsItsExactSize() throws Exception {
        byte[] expected = bytes(5 * WINDOW + 1234, 1); // the last window is padded on disk, then cut back
        Path f = dir.resolve("a.bin");
        DirectOutput out = writeInPieces(f, expected, 2, false, 1);
        assertArrayEquals(expected, Files.readAllBytes(f));
        if (out.direct()) {
            assertEquals(expected.length, out.directBytes(), "every window was written direct");
        }
    }

    @Test
    void piecesFarOutOfOrderSpillToThePageCacheAndStillLandInPlace() throws Exception {
        byte[] expected = bytes(20 * WINDOW + 77, 2);
        Path f = dir.resolve("b.bin");
        DirectOutput out = writeInPieces(f, expected, 3, true, 2); // more windows open at once than held
        assertArrayEquals(expected, Files.readAllBytes(f));
        if (out.direct()) {
            assertTrue(out.directBytes() > 0 && out.directBytes() < expected.length,
                    "some windows direct, some spilled: " + out.directBytes());
        }
    }

    @Test
    void aFileSmallerThanOneBlockAndAnEmptyOne() throws Exception {
        byte[] small = bytes(10, 3);
        Path f = dir.resolve("c.bin");
        writeInPieces(f, small, 2, false, 3);
        assertArrayEquals(small, Files.readAllBytes(f));
        Path e = dir.resolve("d.bin");
        writeInPieces(e, new byte[0], 2, false, 4);
        assertEquals(0, Files.size(e));
    }

    @Test
    void aMissingPieceIsReportedAtFinish() throws Exception {
        Path f = dir.resolve("e.bin");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            DirectOutput out = DirectOutput.open(f, ch, 2L * WINDOW, WINDOW, 4);
            out.write(0, ByteBuffer.wrap(bytes(WINDOW + 5, 5)));
            if (out.direct()) {
                IllegalStateException e = assertThrows(IllegalStateException.class, out::finish);
                assertTrue(e.getMessage().contains("were not all written"), e.getMessage());
            }
            out.close();
        }
    }

    @Test
    void turnedOffItWritesThroughThePageCache() throws Exception {
        System.setProperty("mergelab.direct", "false");
        try {
            byte[] expected = bytes(3 * WINDOW + 9, 6);
            Path f = dir.resolve("f.bin");
            DirectOutput out = writeInPieces(f, expected, 2, true, 6);
            assertFalse(out.direct());
            assertEquals(0, out.directBytes());
            assertArrayEquals(expected, Files.readAllBytes(f));
        } finally {
            System.clearProperty("mergelab.direct");
        }
    }
}
