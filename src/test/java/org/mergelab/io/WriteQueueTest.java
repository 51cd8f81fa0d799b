package org.mergelab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteQueueTest {
    @TempDir
    Path dir;

    /** A queue making plain positional writes to {@code files}. */
    private static WriteQueue queue(WriteQueue.Done done, Path[] paths, FileChannel[] files) {
        return new WriteQueue(done, paths, (file, position, data) -> {
            long pos = position;
            while (data.hasRemaining()) {
                pos += files[file].write(data, pos);
            }
        });
    }

    @Test
    void writesEveryBufferAtItsPositionFromSeveralThreadsAndReportsEachWrite() throws Exception {
        int pieces = 200;
        int piece = 1000;
        byte[] expected = new byte[pieces * piece];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (byte) (i * 7 + i / 251);
        }
        List<String> reports = Collections.synchronizedList(new ArrayList<>());
        Path a = dir.resolve("a.bin");
        Path b = dir.resolve("b.bin");
        try (FileChannel ca = open(a); FileChannel cb = open(b)) {
            WriteQueue q = queue((file, tag, bytes) -> reports.add(file + ":" + tag + ":" + bytes),
                    new Path[] {a, b}, new FileChannel[] {ca, cb});
            Thread[] writers = new Thread[3];
            for (int t = 0; t < writers.length; t++) {
                int first = t;
                writers[t] = new Thread(() -> {
                    for (int p = first; p < pieces; p += writers.length) { // out of order, interleaved
                        ByteBuffer buf = q.buffer(piece);
                        buf.put(expected, p * piece, piece).flip();
                        q.write(0, (long) p * piece, buf, p);
                    }
                });
                writers[t].start();
            }
            for (Thread t : writers) {
                t.join();
            }
            ByteBuffer last = q.buffer(3);
            last.put(new byte[] {1, 2, 3}).flip();
            q.write(1, 5, last, -1);
            q.finish();
        }
        assertArrayEquals(expected, Files.readAllBytes(a));
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 1, 2, 3}, Files.readAllBytes(b));
        assertEquals(pieces + 1, reports.size());
        assertTrue(reports.contains("0:199:1000") && reports.contains("1:-1:3"), reports.toString());
    }

    @Test
    void atMostTheBufferPoolIsInUseAndAWriterWaitsForOneToComeBack() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (FileChannel c = open(dir.resolve("c.bin"))) {
            // the first write blocks the writing thread until released, so handed-over buffers stay queued
            WriteQueue q = queue((file, tag, bytes) -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, new Path[] {dir.resolve("x")}, new FileChannel[] {c});
            Set<ByteBuffer> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
            for (int i = 0; i < WriteQueue.BUFFERS; i++) {
                ByteBuffer buf = q.buffer(16);
                distinct.add(buf);
                q.write(0, 16L * i, buf, i);
            }
            assertEquals(WriteQueue.BUFFERS, distinct.size());
            CountDownLatch got = new CountDownLatch(1);
            ByteBuffer[] ninth = new ByteBuffer[1];
            Thread waiter = new Thread(() -> {
                ninth[0] = q.buffer(16);
                got.countDown();
            });
            waiter.start();
            assertFalse(got.await(200, TimeUnit.MILLISECONDS), "a ninth buffer while eight are queued");
            release.countDown();
            assertTrue(got.await(10, TimeUnit.SECONDS));
            assertTrue(distinct.contains(ninth[0]), "the ninth is one of the eight, back from the writer");
            q.write(0, 16L * WriteQueue.BUFFERS, ninth[0], 8);
            q.finish();
        }
        assertEquals(16L * (WriteQueue.BUFFERS + 1), Files.size(dir.resolve("c.bin")));
    }

    @Test
    void aFailedWriteIsThrownByFinishAndByTheNextWrite() throws Exception {
        FileChannel c = open(dir.resolve("d.bin"));
        c.close(); // every write fails
        Path d = dir.resolve("d.bin");
        WriteQueue q = queue((file, tag, bytes) -> {}, new Path[] {d}, new FileChannel[] {c});
        ByteBuffer buf = q.buffer(8);
        q.write(0, 0, buf, 0);
        IOException failed = assertThrows(IOException.class, q::finish);
        assertTrue(failed.getMessage().startsWith("writing " + d + ": ")
                && failed.getCause() instanceof java.nio.channels.ClosedChannelException, failed.toString());

        WriteQueue again = queue((file, tag, bytes) -> {}, new Path[] {d}, new FileChannel[] {c});
        again.write(0, 0, again.buffer(8), 0);
        long deadline = System.nanoTime() + 10_000_000_000L;
        UncheckedIOException next = null;
        while (next == null && System.nanoTime() < deadline) { // once the writer has failed, writes are refused
            try {
                again.write(0, 8, again.buffer(8), 1);
                Thread.sleep(5);
            } catch (UncheckedIOException e) {
                next = e;
            }
        }
        assertTrue(next != null && next.getMessage().startsWith("writing " + d + ": "), String.valueOf(next));
        again.close();
    }

    @Test
    void closeDropsQueuedWrites() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch firstWritten = new CountDownLatch(1);
        Path e = dir.resolve("e.bin");
        try (FileChannel c = open(e)) {
            WriteQueue q = queue((file, tag, bytes) -> {
                firstWritten.countDown();
                try {
                    release.await();
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                }
            }, new Path[] {dir.resolve("x")}, new FileChannel[] {c});
            for (int i = 0; i < 4; i++) {
                ByteBuffer buf = q.buffer(10);
                q.write(0, 10L * i, buf, i);
            }
            assertTrue(firstWritten.await(10, TimeUnit.SECONDS));
            Thread closer = new Thread(q::close);
            closer.start();
            Thread.sleep(50);
            release.countDown();
            closer.join(10_000);
            assertFalse(closer.isAlive());
        }
        assertEquals(10, Files.size(e), "only the write under way when closed");
    }

    private static FileChannel open(Path p) throws Exception {
        return FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }
}
