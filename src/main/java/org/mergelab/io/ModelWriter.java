package org.mergelab.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Writes tensors as safetensors shards whose headers are computed before any data: every tensor's place on disk is
 * known up front, so chunks are handed over from any thread to one writer thread, which puts them at their final
 * position (through 4 MiB {@link DirectOutput} windows), with no shard buffer.
 *
 * <p>Shards are split by bytes, in tensor order: a new shard starts when the next tensor would push a non-empty shard
 * past {@code maxShardBytes} (a larger tensor gets a shard of its own). One shard is {@code model.safetensors};
 * several are {@code model-0000k-of-0000N.safetensors} plus {@code model.safetensors.index.json}.
 */
public final class ModelWriter implements AutoCloseable {
    private final Path dir;
    private final List<OutTensor> tensors;
    private final List<Shard> shards = new ArrayList<>();
    /** For tensor i: its shard and its absolute file position. */
    private final int[] shardOf;
    private final long[] position;
    private final AtomicLongArray written;
    private final FileChannel[] channels;
    private final DirectOutput[] outputs;
    private Writeback writeback;
    private WriteQueue queue;

    private record Shard(String fileName, List<Integer> tensorIndexes, byte[] header, long dataBytes) {}

    private ModelWriter(Path dir, List<OutTensor> tensors, long maxShardBytes, Map<String, String> metadata)
            throws IOException {
        this.dir = dir;
        this.tensors = List.copyOf(tensors);
        this.shardOf = new int[tensors.size()];
        this.position = new long[tensors.size()];
        this.written = new AtomicLongArray(tensors.size());
        List<List<Integer>> groups = new ArrayList<>();
        long current = 0;
        for (int i = 0; i < tensors.size(); i++) {
            long bytes = tensors.get(i).byteSize();
            if (groups.isEmpty() || (current > 0 && current + bytes > maxShardBytes)) {
                groups.add(new ArrayList<>());
                current = 0;
            }
            groups.getLast().add(i);
            current += bytes;
        }
        if (groups.isEmpty()) {
            groups.add(new ArrayList<>());
        }
        int n = groups.size();
        for (int s = 0; s < n; s++) {
            // Locale.ROOT: the default locale may format digits as e.g. Arabic-Indic ones.
            String file = n == 1 ? ModelFolder.SINGLE
                    : String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", s + 1, n);
            List<Integer> idx = groups.get(s);
            byte[] header = header(idx, metadata);
            long offset = 0;
            for (int i : idx) {
                shardOf[i] = s;
                position[i] = 8 + header.length + offset;
                offset += this.tensors.get(i).byteSize();
            }
            shards.add(new Shard(file, idx, header, offset));
        }
        this.channels = new FileChannel[n];
        this.outputs = new DirectOutput[n];
        // A leftover model.safetensors or index next to new shards would make readers load the wrong weights (a
        // single file wins over an index), and the index would be overwritten at finish(): refuse up front.
        for (String existing : List.of(ModelFolder.SINGLE, ModelFolder.INDEX)) {
            if (Files.exists(dir.resolve(existing), LinkOption.NOFOLLOW_LINKS)) {
                throw new FileAlreadyExistsException(dir.resolve(existing).toString());
            }
        }
        try {
            Path[] paths = shards.stream().map(shard -> dir.resolve(shard.fileName)).toArray(Path[]::new);
            for (int s = 0; s < n; s++) {
                Shard shard = shards.get(s);
                channels[s] = FileChannel.open(paths[s], StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                outputs[s] = DirectOutput.open(paths[s], channels[s], 8 + shard.header.length + shard.dataBytes);
            }
            writeback = new Writeback(channels);
            queue = new WriteQueue((file, tensor, bytes) -> wrote(file, tensor, bytes), paths,
                    (file, position, data) -> outputs[file].write(position, data));
            for (int s = 0; s < n; s++) {
                byte[] header = shards.get(s).header;
                ByteBuffer head = queue.buffer(8 + header.length);
                head.putLong(header.length).put(header).flip();
                queue.write(s, 0, head, HEADER);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Creates the shard files in {@code dir} (which must exist) and writes their headers.
     *
     * @param metadata the {@code __metadata__} map; {@code {"format": "pt"}} is what transformers expects
     */
    public static ModelWriter create(Path dir, List<OutTensor> tensors, long maxShardBytes,
            Map<String, String> metadata) throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("shard size must be positive");
        }
        Set<String> names = new HashSet<>();
        for (OutTensor t : tensors) {
            // A repeated name (or one equal to the metadata key) would silently replace a header entry and leave a
            // hole in the data, producing a file no reader accepts.
            if (t.name().equals("__metadata__") || !names.add(t.name())) {
                throw new IllegalArgumentException("tensor name '" + t.name() + "' is "
                        + (t.name().equals("__metadata__") ? "reserved" : "repeated"));
            }
            for (long d : t.shape()) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor " + t.name() + " has negative shape "
                            + TensorInfo.shapeString(t.shape()));
                }
            }
        }
        return new ModelWriter(dir, tensors, maxShardBytes, metadata);
    }

    /** JSON header, padded with spaces to a multiple of 8 so the data region starts aligned. */
    private byte[] header(List<Integer> idx, Map<String, String> metadata) {
        ObjectNode root = SafetensorsFile.JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (int i : idx) {
            OutTensor t = tensors.get(i);
            ObjectNode e = root.putObject(t.name());
            e.put("dtype", t.dtype().name());
            var shape = e.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long end = offset + t.byteSize();
            e.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    public List<OutTensor> tensors() {
        return tensors;
    }

    public int shardCount() {
        return shards.size();
    }

    /** The tag of a shard's header write (tensor writes are tagged with the tensor's index). */
    private static final int HEADER = -1;

    /** Bytes per piece when {@link #write} copies a caller's buffer into the writer's. */
    private static final int PIECE = 1 << 20;

    /**
     * Writes {@code src} (all remaining bytes) at byte {@code offsetInTensor} of tensor {@code index}: copied into the
     * writer's buffers and written later, in pieces, as {@link #writeLater}. Thread-safe.
     */
    public void write(int index, long offsetInTensor, ByteBuffer src) {
        checkRange(index, offsetInTensor, src.remaining());
        long at = offsetInTensor;
        while (src.hasRemaining()) {
            int len = Math.min(PIECE, src.remaining());
            ByteBuffer piece = queue.buffer(len);
            piece.put(0, src, src.position(), len);
            src.position(src.position() + len);
            queue.write(shardOf[index], position[index] + at, piece, index);
            at += len;
        }
    }

    private void wrote(int shard, int tensor, int bytes) {
        writeback.wrote(shard, bytes);
        if (tensor != HEADER) {
            written.addAndGet(tensor, bytes);
        }
    }

    /**
     * Bytes {@code [offsetInTensor, offsetInTensor + len)} of tensor {@code index} as a slice of the memory they go to
     * disk from (the shard's {@link DirectOutput} window), to fill on this thread and then {@link #commit}: no buffer
     * in between and no copy on the writer's thread. Null when the range is not within one window held in memory (it
     * straddles two, or the shard is not written direct): then {@link #buffer} and {@link #writeLater}. Thread-safe.
     */
    public ByteBuffer reserve(int index, long offsetInTensor, int len) {
        checkRange(index, offsetInTensor, len);
        try {
            return outputs[shardOf[index]].reserve(position[index] + offsetInTensor, len);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The bytes of a {@link #reserve}d range are in place: they count as written and go to disk with their window. */
    public void commit(int index, long offsetInTensor, int len) {
        outputs[shardOf[index]].commit(position[index] + offsetInTensor, len);
        wrote(shardOf[index], index, len);
    }

    /**
     * A direct little-endian buffer of {@code bytes} bytes for {@link #writeLater}, from a small pool: waits while all
     * of the pool's buffers are queued.
     */
    public ByteBuffer buffer(int bytes) {
        return queue.buffer(bytes);
    }

    /**
     * As {@link #write}, but done later on the writer's own thread (in the order handed over): {@code src} must come
     * from {@link #buffer} and belongs to the writer from here on. A failed write is thrown by a later call or by
     * {@link #finish}.
     */
    public void writeLater(int index, long offsetInTensor, ByteBuffer src) {
        checkRange(index, offsetInTensor, src.remaining());
        queue.write(shardOf[index], position[index] + offsetInTensor, src, index);
    }

    private void checkRange(int index, long offsetInTensor, int len) {
        if (offsetInTensor < 0 || offsetInTensor + len > tensors.get(index).byteSize()) {
            throw new IllegalArgumentException("write past the end of " + tensors.get(index).name());
        }
    }

    /**
     * Checks every tensor got all its bytes, syncs the shards to disk, closes them and writes the index when there
     * are several shards.
     */
    public void finish() throws IOException {
        queue.finish();
        for (int i = 0; i < tensors.size(); i++) {
            if (written.get(i) != tensors.get(i).byteSize()) {
                throw new IllegalStateException("tensor " + tensors.get(i).name() + " got " + written.get(i)
                        + " of " + tensors.get(i).byteSize() + " bytes");
            }
        }
        for (DirectOutput out : outputs) {
            out.finish();
        }
        writeback.finish();
        close();
        if (shards.size() > 1) {
            writeIndex();
        }
    }

    private void writeIndex() throws IOException {
        ObjectNode root = SafetensorsFile.JSON.createObjectNode();
        long total = 0;
        for (OutTensor t : tensors) {
            total += t.byteSize();
        }
        root.putObject("metadata").put("total_size", total);
        ObjectNode map = root.putObject("weight_map");
        Map<String, String> byName = new LinkedHashMap<>();
        for (int i = 0; i < tensors.size(); i++) {
            byName.put(tensors.get(i).name(), shards.get(shardOf[i]).fileName);
        }
        byName.forEach(map::put);
        Path index = dir.resolve(ModelFolder.INDEX);
        Files.writeString(index, SafetensorsFile.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n",
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try (FileChannel ch = FileChannel.open(index, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    @Override
    public void close() {
        if (queue != null) {
            queue.close();
        }
        if (writeback != null) {
            writeback.close();
        }
        for (DirectOutput out : outputs) {
            if (out != null) {
                out.close();
            }
        }
        for (FileChannel ch : channels) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // closing after a failure: the folder is discarded anyway
                }
            }
        }
    }
}
