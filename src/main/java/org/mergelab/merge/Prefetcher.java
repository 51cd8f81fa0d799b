package org.mergelab.merge;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads input tensors ahead of the engine on a background thread ({@link MemorySegment#load()}: madvise WILLNEED,
 * then touching every page), so cold reads arrive as large sequential I/O overlapped with compute instead of
 * 4 KiB page faults inside the workers. Stays at most {@code window} bytes ahead of what the engine has consumed.
 */
final class Prefetcher implements AutoCloseable {
    private static final long PIECE = 32L << 20;

    private final List<MemorySegment> segments;
    private final long window;
    private final Thread thread;
    private long consumed;
    private volatile boolean closed;

    Prefetcher(MergePlan plan, long window) {
        this.segments = new ArrayList<>();
        for (TensorTask t : plan.tasks()) {
            if (t.isCopy()) {
                segments.add(t.copyFrom().data());
            } else {
                t.inputs().forEach(in -> segments.add(in.data()));
            }
        }
        this.window = window;
        this.thread = new Thread(this::run, "merge-prefetch");
        thread.setDaemon(true);
        thread.start();
    }

    /** Tells the prefetcher the engine is done with {@code bytes} more input bytes. */
    synchronized void consumed(long bytes) {
        consumed += bytes;
        notifyAll();
    }

    private void run() {
        long loaded = 0;
        try {
            for (MemorySegment seg : segments) {
                for (long pos = 0; pos < seg.byteSize() && !closed; pos += PIECE) {
                    long len = Math.min(PIECE, seg.byteSize() - pos);
                    synchronized (this) {
                        while (!closed && loaded - consumed > window) {
                            wait();
                        }
                    }
                    if (closed) {
                        return;
                    }
                    seg.asSlice(pos, len).load();
                    loaded += len;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IllegalStateException e) {
            // the mapping was closed under us: the merge is over
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            notifyAll();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
