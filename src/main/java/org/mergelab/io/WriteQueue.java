package org.mergelab.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Positional writes done by one background thread: a writer fills a pooled direct buffer ({@link #buffer}), hands it
 * over ({@link #write}) and goes on computing while the buffer is written out. Why one thread: ext4
 * holds a file's inode lock through each buffered write, and two merge workers writing one shard spun on it (perf, 4 GB
 * linear merge on 2 threads: 12 % of all samples in {@code rwsem_spin_on_owner}, besides the 18 % of the copy itself,
 * which stalled the worker that wrote).
 *
 * <p>At most {@link #BUFFERS} buffers exist; {@link #buffer} waits for one to come back when all are queued, so memory
 * stays bounded whatever the output size. Writes run in the order they were handed over.
 */
final class WriteQueue implements AutoCloseable {
    /** Buffers in the pool: enough for two workers to fill theirs while a few wait to be written. */
    static final int BUFFERS = 8;

    /** Told on the writing thread after each write: which file, how many bytes, for which caller tag. */
    interface Done {
        void written(int file, int tag, int bytes);
    }

    /** Where the writing thread puts each write (the shards' {@link DirectOutput}s). */
    interface Target {
        void write(int file, long position, ByteBuffer data) throws IOException;
    }

    private record Job(int file, long position, ByteBuffer data, int tag) {}

    private static final Job END = new Job(-1, 0, null, 0);

    private final Target target;
    private final Path[] paths;
    private final Done done;
    private final BlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
    private final BlockingQueue<ByteBuffer> free = new LinkedBlockingQueue<>();
    private final AtomicInteger allocated = new AtomicInteger();
    private final Thread thread;
    /** The first write that failed, naming its file; later jobs are skipped (their buffers still come back). */
    private volatile IOException failure;
    /** Set by {@link #close} without {@link #finish}: queued writes are dropped, the output is being discarded. */
    private volatile boolean discard;

    /** Writes handed to {@code target}; {@code paths} name its files, for messages. */
    WriteQueue(Done done, Path[] paths, Target target) {
        this.target = target;
        this.paths = paths.clone();
        this.done = done;
        this.thread = new Thread(this::run, "writer");
        thread.setDaemon(true);
        thread.start();
    }

    /** A little-endian direct buffer of {@code bytes} bytes (position 0, limit {@code bytes}) for {@link #write}. */
    ByteBuffer buffer(int bytes) {
        ByteBuffer b = free.poll();
        try {
            if (b == null && allocated.getAndIncrement() >= BUFFERS) {
                allocated.decrementAndGet();
                b = free.take();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted while waiting for a write buffer", e));
        }
        if (b == null || b.capacity() < bytes) {
            b = ByteBuffer.allocateDirect(Math.max(bytes, 1 << 16)).order(ByteOrder.LITTLE_ENDIAN);
        }
        return b.clear().limit(bytes);
    }

    /**
     * Queues the remaining bytes of {@code data}, a buffer from {@link #buffer}, to be written at {@code position} of
     * file {@code file}; the buffer goes back to the pool once written. Throws the failure of an earlier write.
     */
    void write(int file, long position, ByteBuffer data, int tag) {
        IOException failed = failure;
        if (failed != null) {
            free.add(data);
            throw new UncheckedIOException(failed.getMessage(), failed);
        }
        jobs.add(new Job(file, position, data, tag));
    }

    private void run() {
        try {
            for (Job job = jobs.take(); job != END; job = jobs.take()) {
                try {
                    if (failure == null && !discard) {
                        int bytes = job.data.remaining();
                        target.write(job.file, job.position, job.data);
                        done.written(job.file, job.tag, bytes);
                    }
                } catch (IOException | RuntimeException e) {
                    failure = new IOException("writing " + paths[job.file] + ": " + e.getMessage(), e);
                } finally {
                    free.add(job.data);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for every queued write; throws the first failure. The thread is gone afterwards. */
    void finish() throws IOException {
        stop();
        if (failure != null) {
            throw failure;
        }
    }

    private void stop() {
        if (thread.isAlive()) {
            jobs.add(END);
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted while writing", e));
        }
    }

    /** Drops the writes still queued and waits for the one under way (the files may be closed next). */
    @Override
    public void close() {
        discard = true;
        stop();
    }
}
