package org.mergelab.experiment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Content hashes of model folders: SHA-256 over config.json and the safetensors files (headers and data), in
 * file-name order. Computed once per folder and process, and again only when a file's size or time stamp changes;
 * reading a file once is cheap next to evaluating the model.
 */
final class ModelHashes {
    /** The files hashed and their sizes and time stamps, so a rewritten folder is hashed again. */
    private record Key(Path dir, List<String> stamps) {}

    private static final Map<Key, String> CACHE = new ConcurrentHashMap<>();

    private ModelHashes() {}

    static String of(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.equals("config.json") || n.endsWith(".safetensors");
            }).sorted().toList();
        }
        List<String> stamps = new java.util.ArrayList<>();
        for (Path f : files) {
            stamps.add(f.getFileName() + ":" + Files.size(f) + ":" + Files.getLastModifiedTime(f).toMillis());
        }
        Key key = new Key(dir.toAbsolutePath().normalize(), stamps);
        String known = CACHE.get(key);
        if (known != null) {
            return known;
        }
        String hash = Hashing.sha256(files);
        CACHE.put(key, hash);
        return hash;
    }
}
