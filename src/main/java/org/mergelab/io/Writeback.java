package org.mergelab.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends written data to disk while the writing goes on: a background thread calls {@code fdatasync} on a file each
 * time {@link #EVERY} more bytes were written to it, so the final sync waits only for the tail. Without it the kernel
 * starts writing a fresh file only at the end (a 1 GB merge is below its dirty thresholds), and the whole output's
 * disk time came after the merge: 0.3-0.4 s per GB here.
 *
 * <p>Thread-safe; {@link #wrote} is called by the writers, {@link #finish} once they are done.
 */
public final class Writeback implements AutoCloseable {
    /** Bytes between background syncs of one file. */
    static final long EVERY = 64L << 20;

    private final long every;
    private final FileChannel[] files;
    /** Per file: bytes written since its last background sync began. */
    private final AtomicLong[] unsynced;
    private final AtomicLong syncs = new AtomicLong();
    private final Thread thread;
    private final Object signal = new Object();
    private volatile boolean closed;
    private volatile IOException failure;

    public Writeback(FileChannel... files) {
        this(EVERY, files);
    }

    /** Tests: syncs every {@code every} bytes. */
    Writeback(long every, FileChannel... files) {
        this.every = every;
        this.files = files.clone();
        this.unsynced = new AtomicLong[files.length];
        for (int i = 0; i < files.length; i++) {
            unsynced[i] = new AtomicLong();
        }
        this.thread = new Thread(this::run, "writeback");
        thread.setDaemon(true);
        thread.start();
    }

    /** Records {@code bytes} more written to file {@code file}. */
    public void wrote(int file, long bytes) {
        long after = unsynced[file].addAndGet(bytes);
        if (after >= every && after - bytes < every) {
            synchronized (signal) {
                signal.notifyAll();
            }
        }
    }

    private void run() {
        try {
            while (!closed) {
                int due = -1;
                synchronized (signal) {
                    while (!closed && (due = due()) < 0) {
                        signal.wait();
                    }
                }
                if (due >= 0 && !closed) {
                    unsynced[due].set(0); // bytes written from here on count towards the next sync
                    files[due].force(false);
                    syncs.incrementAndGet();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.nio.channels.ClosedChannelException e) {
            // closed under us after a failure: nothing left to sync
        } catch (IOException e) {
            failure = e;
        }
    }

    private int due() {
        for (int i = 0; i < files.length; i++) {
            if (unsynced[i].get() >= every) {
                return i;
            }
        }
        return -1;
    }

    /** Background syncs done so far. */
    long backgroundSyncs() {
        return syncs.get();
    }

    /** Stops the background syncs and syncs every file fully (data and metadata); the files stay open. */
    public void finish() throws IOException {
        close();
        if (failure != null) {
            throw failure;
        }
        for (FileChannel f : files) {
            f.force(true);
        }
    }

    /** Stops the background thread, waiting for a sync under way. */
    @Override
    public void close() {
        closed = true;
        synchronized (signal) {
            signal.notifyAll();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted while syncing", e));
        }
    }
}
