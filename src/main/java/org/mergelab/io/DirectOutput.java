package org.mergelab.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One output file of known size written with {@code O_DIRECT}, past the page cache: positional writes are gathered
 * into aligned windows of {@link #WINDOW} bytes, and a window goes to disk in one direct write once all its bytes are
 * in. Why: on this VM, copying into fresh page-cache pages is the slow part of writing (4 GB with fsync: 5-12 s
 * buffered, most of it system time on the writing thread, against 1.8 s direct, measured in one sitting), and the
 * merge's cores are better spent merging.
 *
 * <p>At most {@link #MAX_OPEN} windows are held; a write that would need more (writes far out of order) and every
 * later write to its window go through the page cache instead, as on a file system without {@code O_DIRECT} (then
 * everything does). The last window is written padded to the alignment and the file cut back to its size by
 * {@link #finish}. Thread-safe: the writer thread hands it pieces ({@link #write}) while workers fill windows in place
 * ({@link #reserve}, {@link #commit}).
 */
public final class DirectOutput implements AutoCloseable {
    /** Bytes per window: a multiple of every block size a file system reports in practice. */
    static final int WINDOW = 4 << 20;
    /** Windows held at once while they fill (64 MiB). */
    static final int MAX_OPEN = 16;
    /**
     * Window buffers beyond {@link #MAX_OPEN} (128 MiB), in which full windows wait for their direct write: the disk
     * keeps writing while the merge reads a tensor's inputs for its reductions (norms, dots) and writes nothing. With 4,
     * the disk idled through them: 4 GB slerp and NLERP merges took 6-8 % longer (1 thread, 3 alternating pairs).
     */
    static final int FLUSHING = 32;

    private final Path path;
    private final FileChannel buffered;
    private final FileChannel direct;
    private final long size;
    private final int align;
    private final int window;
    private final int maxOpen;
    private final Map<Long, Window> open = new HashMap<>();
    private final Set<Long> spilled = new HashSet<>();
    private final ArrayDeque<ByteBuffer> spare = new ArrayDeque<>();
    /** Window buffers back from the flushing thread. */
    private final LinkedBlockingQueue<ByteBuffer> returned = new LinkedBlockingQueue<>();
    private int allocated;
    /** Writes full windows to disk while the next ones fill (a direct write returns only once the device has it). */
    private ExecutorService flusher;
    private volatile IOException failure;
    /** Set by {@link #close} before {@link #finish}: windows still queued are dropped, the file is being discarded. */
    private volatile boolean discard;
    private long directBytes;

    private static final class Window {
        final ByteBuffer data;
        int filled;

        Window(ByteBuffer data) {
            this.data = data;
        }
    }

    private DirectOutput(Path path, FileChannel buffered, FileChannel direct, long size, int align, int window,
            int maxOpen) {
        this.path = path;
        this.buffered = buffered;
        this.direct = direct;
        this.size = size;
        this.align = align;
        this.window = window;
        this.maxOpen = maxOpen;
    }

    /**
     * The file at {@code path}, already open as {@code buffered}, to be written to exactly {@code size} bytes;
     * direct where the file system allows it ({@code mergelab.direct=false} turns it off).
     */
    public static DirectOutput open(Path path, FileChannel buffered, long size) {
        return open(path, buffered, size, WINDOW, MAX_OPEN);
    }

    /** Tests: windows of {@code window} bytes (a multiple of the block size), at most {@code maxOpen} held. */
    static DirectOutput open(Path path, FileChannel buffered, long size, int window, int maxOpen) {
        FileChannel direct = null;
        int align = 4096;
        if (Boolean.parseBoolean(System.getProperty("mergelab.direct", "true"))) {
            try {
                long block = Files.getFileStore(path).getBlockSize();
                if (block > 0 && block <= window && window % block == 0) {
                    align = (int) Math.max(align, block);
                    direct = FileChannel.open(path, StandardOpenOption.WRITE,
                            com.sun.nio.file.ExtendedOpenOption.DIRECT);
                }
            } catch (IOException | UnsupportedOperationException e) {
                direct = null; // tmpfs and some others: no O_DIRECT; the page cache then
            }
        }
        return new DirectOutput(path, buffered, direct, size, align, window, maxOpen);
    }

    /** Whether writes bypass the page cache. */
    public boolean direct() {
        return direct != null;
    }

    /** Bytes that went to disk by direct writes so far (tests). */
    long directBytes() {
        return directBytes;
    }

    /**
     * Bytes {@code [position, position + length)} of the file as a slice of the window that holds them, for the caller
     * to fill and then {@link #commit}: the bytes go to disk from there, not copied first. Null when the range does not
     * lie within one window that is or can be held (it straddles two, the window spilled, the file is not written
     * direct, or a write failed): then {@link #write} them.
     */
    public synchronized ByteBuffer reserve(long position, int length) throws IOException {
        long w = position / window;
        int off = (int) (position - w * window);
        if (direct == null || failure != null || length == 0 || off + length > window) {
            return null;
        }
        Window held = held(w, false);
        return held == null ? null : held.data.slice(off, length);
    }

    /** Counts the bytes of a {@link #reserve}d range as written: they are in their window. */
    public synchronized void commit(long position, int length) {
        long w = position / window;
        filled(w, open.get(w), length);
    }

    /** Writes the remaining bytes of {@code data} at {@code position} (below the size given at open). */
    public synchronized void write(long position, ByteBuffer data) throws IOException {
        if (failure != null) {
            throw failure;
        }
        if (direct == null) {
            writeFully(buffered, data, position);
            return;
        }
        long pos = position;
        while (data.hasRemaining()) {
            long w = pos / window;
            int off = (int) (pos - w * window);
            int len = (int) Math.min(data.remaining(), window - off);
            Window held = held(w, true);
            if (held == null) {
                writeFully(buffered, data.slice(data.position(), len), pos);
            } else {
                held.data.put(off, data, data.position(), len);
                filled(w, held, len);
            }
            data.position(data.position() + len);
            pos += len;
        }
    }

    /**
     * Window {@code w}, opened if it is not held yet and fewer than {@link #maxOpen} are; null when it spilled, or when
     * it cannot be opened (then, with {@code spill}, it spills: its bytes go through the page cache from now on).
     */
    private Window held(long w, boolean spill) throws IOException {
        if (spilled.contains(w)) {
            return null;
        }
        Window held = open.get(w);
        if (held == null) {
            if (open.size() >= maxOpen) {
                if (spill) {
                    spilled.add(w);
                }
                return null;
            }
            held = new Window(take());
            open.put(w, held);
        }
        return held;
    }

    /** Counts {@code bytes} more in window {@code w}; a full window goes to disk. */
    private void filled(long w, Window held, int bytes) {
        held.filled += bytes;
        if (held.filled == expected(w)) {
            flush(w, held);
        }
    }

    /** A window buffer: a spare one, a new one while fewer than the bound exist, else the next one written. */
    private ByteBuffer take() throws IOException {
        for (ByteBuffer b = returned.poll(); b != null; b = returned.poll()) {
            spare.push(b);
        }
        if (!spare.isEmpty()) {
            return spare.pop();
        }
        if (allocated < maxOpen + FLUSHING) {
            allocated++;
            return ByteBuffer.allocateDirect(window + align).alignedSlice(align).limit(window);
        }
        try {
            ByteBuffer b = returned.take();
            if (failure != null) {
                throw failure;
            }
            return b;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a window to be written", e);
        }
    }

    /** The bytes of window {@code w} inside the file. */
    private int expected(long w) {
        return (int) Math.min(window, size - w * window);
    }

    private void flush(long w, Window full) {
        open.remove(w);
        int bytes = expected(w);
        int padded = (bytes + align - 1) / align * align; // the file is cut back to its size at the end
        ByteBuffer out = full.data.duplicate().clear().limit(padded);
        long at = w * window;
        if (flusher == null) {
            flusher = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "direct-writer");
                t.setDaemon(true);
                return t;
            });
        }
        flusher.execute(() -> {
            try {
                if (failure == null && !discard) {
                    writeFully(direct, out, at);
                }
            } catch (IOException | RuntimeException e) {
                if (failure == null) {
                    failure = new IOException(e.getMessage(), e);
                }
            } finally {
                returned.add(full.data);
            }
        });
        directBytes += bytes;
    }

    /** Waits for the windows under way; throws the first failed write. */
    private void drain() throws IOException {
        if (flusher != null) {
            flusher.shutdown();
            try {
                while (!flusher.awaitTermination(1, TimeUnit.MINUTES)) {
                    // a slow disk: keep waiting, the data must reach it
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while writing " + path, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Checks every window was written and cuts the file back to its size (the last window went out padded). Syncing
     * is the caller's: the direct writes are on the device, not necessarily past its cache.
     */
    public synchronized void finish() throws IOException {
        try {
            drain();
        } catch (IOException e) {
            throw new IOException("writing " + path + ": " + e.getMessage(), e);
        }
        if (!open.isEmpty()) {
            long w = open.keySet().iterator().next();
            throw new IllegalStateException(path + ": bytes " + w * window + ".." + (w * window + expected(w))
                    + " were not all written");
        }
        if (direct != null && buffered.size() > size) {
            buffered.truncate(size);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            pos += ch.write(buf, pos);
        }
    }

    @Override
    public void close() {
        if (flusher != null && !flusher.isTerminated()) {
            discard = true;
            try {
                drain();
            } catch (IOException ignored) {
                // closing after a failure: the folder is discarded anyway
            }
        }
        if (direct != null) {
            try {
                direct.close();
            } catch (IOException ignored) {
                // closing after a failure or after finish: nothing left to write
            }
        }
    }
}
