package org.mergelab.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.mergelab.BadInputException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A Hugging Face model folder: {@code config.json}, the weights as {@code model.safetensors} or as shards listed in
 * {@code model.safetensors.index.json} ({@code {"metadata": {...}, "weight_map": {tensor: shard file}}}), and
 * tokenizer files. Every shard is validated and mapped when the folder is opened; no tensor data is read.
 */
public final class ModelFolder implements AutoCloseable {
    public static final String CONFIG = "config.json";
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    /** Files copied from the donor model into a merge's output, when present. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "tokenizer.model", "generation_config.json", "vocab.json", "merges.txt",
            "added_tokens.json");

    private final Path dir;
    private final ObjectNode config;
    private final List<SafetensorsFile> shards;
    private final Map<String, ModelTensor> tensors;

    private ModelFolder(Path dir, ObjectNode config, List<SafetensorsFile> shards, Map<String, ModelTensor> tensors) {
        this.dir = dir;
        this.config = config;
        this.shards = List.copyOf(shards);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    public static ModelFolder open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new BadInputException(dir + ": model folder not found (MergeLab reads local folders only)");
        }
        ObjectNode config = readConfig(dir);
        Path single = dir.resolve(SINGLE);
        Path index = dir.resolve(INDEX);
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, ModelTensor> tensors = new LinkedHashMap<>();
            if (Files.isRegularFile(single)) {
                SafetensorsFile f = SafetensorsFile.open(single);
                opened.add(f);
                for (TensorInfo t : f.tensors()) {
                    tensors.put(t.name(), new ModelTensor(t, f));
                }
            } else if (Files.isRegularFile(index)) {
                openShards(dir, index, opened, tensors);
            } else {
                throw new BadInputException(dir + ": no weights; expected " + SINGLE + " or " + INDEX
                        + (hasPytorchBin(dir) ? " (pytorch .bin checkpoints are not supported; convert to safetensors)"
                                : ""));
            }
            return new ModelFolder(dir, config, opened, tensors);
        } catch (IOException | RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static ObjectNode readConfig(Path dir) throws IOException {
        Path p = dir.resolve(CONFIG);
        if (!Files.isRegularFile(p)) {
            throw new BadInputException(p + ": missing; every model folder needs a config.json");
        }
        JsonNode node;
        try {
            node = SafetensorsFile.JSON.readTree(p.toFile());
        } catch (JsonProcessingException e) {
            throw new BadInputException(p + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new BadInputException(p + ": expected a JSON object");
        }
        return (ObjectNode) node;
    }

    private static void openShards(Path dir, Path index, List<SafetensorsFile> opened,
            Map<String, ModelTensor> tensors) throws IOException {
        JsonNode root;
        try {
            root = SafetensorsFile.JSON.readTree(index.toFile());
        } catch (JsonProcessingException e) {
            throw new BadInputException(index + ": not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new BadInputException(index + ": expected a non-empty \"weight_map\" object");
        }
        // Shards in name order (the order HF writes them), tensors in file order within each shard.
        Map<String, List<String>> namesByShard = new LinkedHashMap<>();
        TreeSet<String> shardNames = new TreeSet<>();
        // Absolute: a relative dir such as "." normalizes to the empty path, which has no parent to compare with.
        Path base = dir.toAbsolutePath().normalize();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw new BadInputException(index + ": weight_map['" + e.getKey() + "'] is not a file name");
            }
            String shard = e.getValue().textValue();
            Path sp;
            try {
                sp = base.resolve(shard).normalize();
            } catch (InvalidPathException ex) {
                sp = null;
            }
            if (sp == null || !base.equals(sp.getParent())) {
                throw new BadInputException(index + ": weight_map['" + e.getKey() + "'] = '" + shard
                        + "' is not a file in the model folder");
            }
            shardNames.add(shard);
            namesByShard.computeIfAbsent(shard, k -> new ArrayList<>()).add(e.getKey());
        }
        for (String shard : shardNames) {
            Path sp = dir.resolve(shard);
            if (!Files.isRegularFile(sp)) {
                throw new BadInputException(index + ": shard '" + shard + "' (holding '"
                        + namesByShard.get(shard).get(0) + "') is missing");
            }
            SafetensorsFile f = SafetensorsFile.open(sp);
            opened.add(f);
            for (String name : namesByShard.get(shard)) {
                if (f.tensor(name) == null) {
                    throw new BadInputException(index + ": weight_map puts '" + name + "' in " + shard
                            + " but that shard has no such tensor");
                }
            }
            var wanted = new java.util.HashSet<>(namesByShard.get(shard));
            for (TensorInfo t : f.tensors()) {
                if (wanted.contains(t.name())) {
                    tensors.put(t.name(), new ModelTensor(t, f));
                }
            }
        }
    }

    private static boolean hasPytorchBin(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().endsWith(".bin"));
        }
    }

    public Path dir() {
        return dir;
    }

    /** The parsed config.json (do not modify; copy with {@code deepCopy()}). */
    public ObjectNode config() {
        return config;
    }

    /** Tensors in storage order: shard by shard, by file offset within each. */
    public List<ModelTensor> tensors() {
        return List.copyOf(tensors.values());
    }

    public ModelTensor tensor(String name) {
        return tensors.get(name);
    }

    public int tensorCount() {
        return tensors.size();
    }

    public List<SafetensorsFile> shards() {
        return shards;
    }

    /** {@code num_hidden_layers} from config.json, or -1 when absent. */
    public int numHiddenLayers() {
        JsonNode n = config.get("num_hidden_layers");
        return n != null && n.canConvertToInt() ? n.intValue() : -1;
    }

    /** Tokenizer and generation files present in the folder. */
    public List<Path> tokenizerFiles() {
        List<Path> out = new ArrayList<>();
        for (String f : TOKENIZER_FILES) {
            Path p = dir.resolve(f);
            if (Files.isRegularFile(p)) {
                out.add(p);
            }
        }
        return out;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
