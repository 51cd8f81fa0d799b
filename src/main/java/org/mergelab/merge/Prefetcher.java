package org.mergelab.merge;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads input tensors ahead of the engine on a background thread ({@link org.mergelab.io.MappedPages#populate}), so
 * cold reads arrive as large sequential I/O overlapped with compute instead of
 * 4 KiB page faults inside the workers. Stays at most {@code window} bytes ahead of what the engine has consumed.
 * The same thread drops the pages of merged tensors from the process ({@link MemorySegment#unload()}, before it reads
 * further), so RSS stays at a few tensors while the engine goes straight on to the next tensor: unloading took
 * 0.05 s per 2 GB, done between tensors while the workers waited.
 */
final class Prefetcher implements AutoCloseable {
    private static final long PIECE = 32L << 20;

    private final List<MemorySegment> segments;
    private final long window;
    private final Thread thread;
    private long consumed;
    private final ArrayDeque<MemorySegment> toUnload = new ArrayDeque<>();
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

    /**
     * Tells the prefetcher the engine is done with {@code bytes} more input bytes, and with {@code unload}, whose pages
     * it drops from the process.
     */
    synchronized void consumed(long bytes, List<MemorySegment> unload) {
        consumed += bytes;
        toUnload.addAll(unload);
        notifyAll();
    }

    private void run() {
        long loaded = 0;
        try {
            for (MemorySegment seg : segments) {
                for (long pos = 0; pos < seg.byteSize(); pos += PIECE) {
                    long len = Math.min(PIECE, seg.byteSize() - pos);
                    if (!unloadUntil(loaded, window)) {
                        return;
                    }
                    org.mergelab.io.MappedPages.populate(seg.asSlice(pos, len));
                    loaded += len;
                }
            }
            unloadUntil(loaded, Long.MAX_VALUE); // everything read: only unloads now, until the merge ends
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IllegalStateException e) {
            // the mapping was closed under us: the merge is over
        }
    }

    /**
     * Unloads what the engine has finished with; while there is none, waits as long as more than {@code ahead} bytes
     * are read ahead (for good with {@code Long.MAX_VALUE}). Returns false once closed.
     */
    private boolean unloadUntil(long loaded, long ahead) throws InterruptedException {
        while (true) {
            MemorySegment done;
            synchronized (this) {
                while (!closed && toUnload.isEmpty() && (ahead == Long.MAX_VALUE || loaded - consumed > ahead)) {
                    wait();
                }
                if (closed) {
                    return false;
                }
                done = toUnload.poll();
                if (done == null) {
                    return true;
                }
            }
            done.unload();
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
