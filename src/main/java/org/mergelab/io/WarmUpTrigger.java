package org.mergelab.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Starts a Vector API kernel's warm-up on a background thread, once per process: when asked to, or when the process has
 * done enough of the kernel's work on its scalar twin for the warm-up to pay off. Interpreted or in C1 the Vector API
 * is ~100× slower than scalar code and C2 needs about a second of one core to get there (profiled), so a small job
 * should never wait for it and a large one should not do without it.
 */
public final class WarmUpTrigger {
    private final long after;
    private final AtomicLong scalarWork = new AtomicLong();
    private final AtomicBoolean started = new AtomicBoolean();

    /** @param after elements of scalar work after which {@link #count} starts the warm-up */
    public WarmUpTrigger(long after) {
        this.after = after;
    }

    /** Records {@code elements} of scalar work; starts {@code warmUp} when the total reaches the threshold. */
    public void count(long elements, Runnable warmUp) {
        if (!started.get() && scalarWork.addAndGet(elements) >= after) {
            start(warmUp);
        }
    }

    /**
     * Queues {@code warmUp} on the warm-up thread unless this trigger has started already; returns at once. One thread
     * runs every kernel's warm-up in turn: they compete with the merge for the cores (and C2 for its queue), and a
     * merge switches to each kernel as soon as that one is ready.
     */
    public void start(Runnable warmUp) {
        if (started.compareAndSet(false, true)) {
            WARMER.execute(warmUp);
        }
    }

    /** Queues {@code warmUp} on the warm-up thread even if this trigger has started before (a kernel was thrown away). */
    public void again(Runnable warmUp) {
        started.set(true);
        WARMER.execute(warmUp);
    }

    /** Compiled, the Vector API kernels take ~0.1 ns per element here; interpreted or in C1 they take 10–100 ns. */
    private static final double COMPILED_NANOS_PER_ELEMENT = 1;

    /**
     * Runs {@code batch} (which works through {@code elements} elements) until three runs in a row take under 1 ns per
     * element, i.e. C2 has compiled it, or {@code maxBatches} times: a fixed count either stops before C2 (a
     * machine under load) or runs long after it.
     */
    public static void runUntilCompiled(Runnable batch, long elements, int maxBatches) {
        int fast = 0;
        for (int i = 0; i < maxBatches && fast < 3; i++) {
            long start = System.nanoTime();
            batch.run();
            fast = System.nanoTime() - start < elements * COMPILED_NANOS_PER_ELEMENT ? fast + 1 : 0;
            if (fast == 0 && i >= QUEUED_AFTER) {
                pause();
            }
        }
    }

    /**
     * Batches after which the kernel is hot enough to be queued for C2: more calls do not get it compiled sooner, they
     * only keep a core busy with interpreted vectors while start-up, planning and C2 itself wait for one. Pausing
     * between the later ones (until the batches run fast): 4 GB slerp on 1 thread 3.79-3.90 -> 3.59-3.74 s, CPU
     * 5.83-5.95 -> 5.41-5.66 s (3 alternating pairs); 1 GB slerp and TIES unchanged or slightly faster.
     */
    private static final int QUEUED_AFTER = 8;

    private static void pause() {
        try {
            Thread.sleep(0, PAUSE_NANOS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A pause: short against a C2 compile (tens of ms), so the switch to the compiled kernel comes as soon. */
    private static final int PAUSE_NANOS = 500_000;

    /**
     * A read-only mapping of {@code bytes} zero bytes (a temporary file, deleted at once), for warming up a kernel that
     * reads mapped files: C2 compiles a segment access for the kinds of segment it has seen, and code warmed up on
     * other memory only was thrown away at the first mapped file (measured). Null when no temporary file can be made.
     */
    public static MemorySegment mappedZeros(long bytes) {
        try {
            Path file = Files.createTempFile("mergelab-warm-up", ".bin");
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.allocate(1), bytes - 1);
                return ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes, Arena.ofAuto());
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static final ExecutorService WARMER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "vector-warm-up");
        t.setDaemon(true);
        return t;
    });
}
