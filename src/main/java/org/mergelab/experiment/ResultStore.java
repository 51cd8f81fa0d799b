package org.mergelab.experiment;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.mergelab.BadInputException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * An experiment's results folder: {@code results.jsonl} (one {@link ResultRow} per line, appended and fsync'd, never
 * rewritten), {@code results.csv} (a flat view of the same rows, rewritten whole through a temporary file and a
 * rename) and {@code manifest.json} (likewise). A run killed while appending leaves at most a partial last line: the
 * next open cuts it off, and that row's cell runs again.
 */
public final class ResultStore implements Closeable {
    public static final String ROWS = "results.jsonl";
    public static final String CSV = "results.csv";
    public static final String MANIFEST = "manifest.json";
    /** Where {@code --force} moves the previous rows. */
    static final String PREVIOUS_ROWS = "results.previous.jsonl";
    /** Arrays the CSV leaves out: per-item values and per-layer norms do not fit a flat row. */
    private static final Set<String> NOT_IN_CSV = Set.of("items", "weights", "layers");

    /** A row's place: one per cell and split. */
    record Key(String cellId, String split) {}

    private final Path dir;
    private final FileChannel out;
    private final Map<Key, JsonNode> rows;

    private ResultStore(Path dir, FileChannel out, Map<Key, JsonNode> rows) {
        this.dir = dir;
        this.out = out;
        this.rows = rows;
    }

    /**
     * Opens the folder (creating it), reading the rows stored so far.
     *
     * @param fresh start with no rows ({@code --force}); the previous file is kept as {@value #PREVIOUS_ROWS}
     * @param notes told when a partial row is dropped
     */
    static ResultStore open(Path dir, boolean fresh, Consumer<String> notes) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(ROWS);
        if (fresh && Files.exists(file)) {
            Files.move(file, dir.resolve(PREVIOUS_ROWS), StandardCopyOption.REPLACE_EXISTING);
            notes.accept(file + ": previous rows moved to " + PREVIOUS_ROWS + " (--force)");
        }
        Map<Key, JsonNode> rows = new LinkedHashMap<>();
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            long complete = readRows(file, rows);
            if (complete < ch.size()) {
                ch.truncate(complete);
                ch.force(true);
                notes.accept(file + ": dropped an incomplete last row (an interrupted run); its cell runs again");
            }
            ch.position(complete);
            ResultStore store = new ResultStore(dir, ch, rows);
            store.writeCsv();
            return store;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The rows stored in {@code dir} (none when it does not exist), without changing anything. */
    static Map<Key, JsonNode> read(Path dir) throws IOException {
        Map<Key, JsonNode> rows = new LinkedHashMap<>();
        Path file = dir.resolve(ROWS);
        if (Files.isRegularFile(file)) {
            readRows(file, rows);
        }
        return rows;
    }

    /** Reads every complete line into {@code rows}; returns the byte length of the complete lines. */
    private static long readRows(Path file, Map<Key, JsonNode> rows) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int start = 0;
        int line = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != '\n') {
                continue;
            }
            line++;
            String text = new String(bytes, start, i - start, StandardCharsets.UTF_8);
            start = i + 1;
            if (text.isBlank()) {
                continue;
            }
            JsonNode row;
            try {
                row = Json.MAPPER.readTree(text);
            } catch (JsonProcessingException e) {
                row = null;
            }
            if (row == null || !row.path("cell_id").isTextual() || !row.path("split").isTextual()) {
                throw new BadInputException(file + ":" + line + ": not a result row; remove the line, or rerun with"
                        + " --force");
            }
            rows.putIfAbsent(new Key(row.get("cell_id").asText(), row.get("split").asText()), row);
        }
        return start;
    }

    public Path dir() {
        return dir;
    }

    synchronized boolean has(String cellId, String split) {
        return rows.containsKey(new Key(cellId, split));
    }

    synchronized JsonNode row(String cellId, String split) {
        return rows.get(new Key(cellId, split));
    }

    /** The stored rows by place. */
    synchronized Map<Key, JsonNode> rows() {
        return Map.copyOf(rows);
    }

    synchronized int size() {
        return rows.size();
    }

    /** Appends the row in one write and syncs it to disk, then refreshes the CSV view. */
    synchronized void append(ResultRow row) throws IOException {
        JsonNode node = Json.MAPPER.valueToTree(row);
        ByteBuffer line = ByteBuffer.wrap((Json.MAPPER.writeValueAsString(node) + "\n")
                .getBytes(StandardCharsets.UTF_8));
        while (line.hasRemaining()) {
            out.write(line);
        }
        out.force(false);
        rows.put(new Key(row.cellId(), row.split()), node);
        writeCsv();
    }

    /** Rewrites manifest.json whole. */
    synchronized void writeManifest(Manifest manifest) throws IOException {
        replace(dir.resolve(MANIFEST), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(manifest)
                + "\n");
    }

    private void writeCsv() throws IOException {
        if (rows.isEmpty()) {
            Files.deleteIfExists(dir.resolve(CSV));
            return;
        }
        Set<String> columns = new LinkedHashSet<>();
        List<Map<String, String>> flat = new ArrayList<>();
        for (JsonNode row : rows.values()) {
            Map<String, String> m = new LinkedHashMap<>();
            flatten("", row, m);
            columns.addAll(m.keySet());
            flat.add(m);
        }
        StringBuilder b = new StringBuilder();
        b.append(String.join(",", columns.stream().map(ResultStore::quote).toList())).append('\n');
        for (Map<String, String> m : flat) {
            b.append(String.join(",", columns.stream().map(c -> quote(m.getOrDefault(c, ""))).toList()))
                    .append('\n');
        }
        replace(dir.resolve(CSV), b.toString());
    }

    /** Nested fields become dotted columns ({@code tasks.math.metrics.exact_match.value}); lists join with ';'. */
    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node.isObject()) {
            node.properties().forEach(e -> {
                if (!NOT_IN_CSV.contains(e.getKey())) {
                    flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
                }
            });
        } else if (node.isArray()) {
            List<String> parts = new ArrayList<>();
            node.forEach(x -> parts.add(x.isNull() ? "" : x.asText()));
            out.put(prefix, String.join(";", parts));
        } else {
            out.put(prefix, node.isNull() ? "" : node.asText());
        }
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    /** Writes a file whole or not at all. */
    private static void replace(Path target, String text) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, text);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}
