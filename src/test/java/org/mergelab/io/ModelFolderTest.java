package org.mergelab.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mergelab.io.TestFiles.assertBad;
import static org.mergelab.io.TestFiles.writeModel;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFolderTest {
    @TempDir
    Path tmp;

    /** Five tensors, 16/8/24/16/4 bytes, deliberately not in name order. */
    private static final List<OutTensor> TENSORS = List.of(
            new OutTensor("model.embed_tokens.weight", DType.BF16, new long[] {2, 4}),
            new OutTensor("model.layers.1.w", DType.F32, new long[] {2}),
            new OutTensor("model.layers.0.w", DType.F16, new long[] {3, 4}),
            new OutTensor("lm_head.weight", DType.I64, new long[] {2}),
            new OutTensor("model.norm.weight", DType.U8, new long[] {4}));

    private static List<byte[]> data() {
        SplittableRandom r = new SplittableRandom(11);
        List<byte[]> out = new ArrayList<>();
        for (OutTensor t : TENSORS) {
            out.add(TestFiles.randomBytes(r, (int) t.byteSize()));
        }
        return out;
    }

    private Path single() throws IOException {
        Path d = tmp.resolve("single");
        assertEquals(1, writeModel(d, TENSORS, data(), 1 << 20));
        return d;
    }

    /** Shards: [embed, layers.1], [layers.0], [lm_head, norm]. */
    private Path sharded() throws IOException {
        Path d = tmp.resolve("sharded");
        assertEquals(3, writeModel(d, TENSORS, data(), 32));
        return d;
    }

    private static List<String> names(ModelFolder m) {
        return m.tensors().stream().map(ModelTensor::name).toList();
    }

    @Test
    void opensSingleFile() throws IOException {
        Path d = single();
        List<byte[]> data = data();
        try (ModelFolder m = ModelFolder.open(d)) {
            assertEquals(d, m.dir());
            assertEquals(5, m.tensorCount());
            assertEquals(1, m.shards().size());
            assertEquals(d.resolve(ModelFolder.SINGLE), m.shards().get(0).path());
            assertEquals(TENSORS.stream().map(OutTensor::name).toList(), names(m));
            for (int i = 0; i < TENSORS.size(); i++) {
                ModelTensor t = m.tensor(TENSORS.get(i).name());
                assertEquals(TENSORS.get(i).dtype(), t.dtype());
                assertArrayEquals(TENSORS.get(i).shape(), t.info().shape());
                assertArrayEquals(data.get(i), TestFiles.bytes(t.data()));
                assertSame(m.shards().get(0), t.file());
            }
            assertNull(m.tensor("missing"));
            assertEquals("llama", m.config().get("model_type").asText());
            assertEquals(2, m.numHiddenLayers());
            assertTrue(m.config().get("num_hidden_layers").isInt(), "config ints are plain int nodes");
            assertEquals(1e-6, m.config().get("rms_norm_eps").asDouble());
        }
    }

    @Test
    void numHiddenLayersAbsent() throws IOException {
        Path d = single();
        Files.writeString(d.resolve(ModelFolder.CONFIG), "{\"num_hidden_layers\": \"x\"}");
        try (ModelFolder m = ModelFolder.open(d)) {
            assertEquals(-1, m.numHiddenLayers());
        }
    }

    @Test
    void opensShardedInShardThenOffsetOrder() throws IOException {
        Path d = sharded();
        List<byte[]> data = data();
        try (ModelFolder m = ModelFolder.open(d)) {
            assertEquals(3, m.shards().size());
            assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                    "model-00003-of-00003.safetensors"),
                    m.shards().stream().map(s -> s.path().getFileName().toString()).toList());
            assertEquals(TENSORS.stream().map(OutTensor::name).toList(), names(m));
            assertEquals("model-00002-of-00003.safetensors",
                    m.tensor("model.layers.0.w").file().path().getFileName().toString());
            for (int i = 0; i < TENSORS.size(); i++) {
                assertArrayEquals(data.get(i), TestFiles.bytes(m.tensor(TENSORS.get(i).name()).data()));
            }
        }
    }

    @Test
    void indexOrderDoesNotMatter() throws IOException {
        Path d = sharded();
        // rewrite the index with the weight_map reversed and shards listed last-first
        Files.writeString(d.resolve(ModelFolder.INDEX), """
                {"metadata": {"total_size": 68}, "weight_map": {
                  "model.norm.weight": "model-00003-of-00003.safetensors",
                  "lm_head.weight": "model-00003-of-00003.safetensors",
                  "model.layers.0.w": "model-00002-of-00003.safetensors",
                  "model.layers.1.w": "model-00001-of-00003.safetensors",
                  "model.embed_tokens.weight": "model-00001-of-00003.safetensors"}}
                """);
        try (ModelFolder m = ModelFolder.open(d)) {
            assertEquals(TENSORS.stream().map(OutTensor::name).toList(), names(m));
        }
    }

    @Test
    void relativeFolderPathsWork() throws IOException {
        Path d = sharded();
        Path cwd = Path.of("").toAbsolutePath();
        Path rel = cwd.relativize(d.resolve("..").resolve(d.getFileName()));
        assertFalse(rel.isAbsolute());
        try (ModelFolder m = ModelFolder.open(rel)) {
            assertEquals(5, m.tensorCount());
        }
    }

    @Test
    void folderNotFound() {
        Path d = tmp.resolve("nope");
        assertBad(d, () -> ModelFolder.open(d), "model folder not found");
    }

    @Test
    void folderIsAFile() throws IOException {
        Path f = Files.writeString(tmp.resolve("file"), "x");
        assertBad(f, () -> ModelFolder.open(f), "not found");
    }

    @Test
    void missingConfig() throws IOException {
        Path d = single();
        Files.delete(d.resolve(ModelFolder.CONFIG));
        assertBad(d.resolve(ModelFolder.CONFIG), () -> ModelFolder.open(d), "config.json", "missing");
    }

    @Test
    void configNotJson() throws IOException {
        Path d = single();
        Files.writeString(d.resolve(ModelFolder.CONFIG), "{\"model_type\": llama}");
        assertBad(d.resolve(ModelFolder.CONFIG), () -> ModelFolder.open(d), "not valid JSON");
        Files.writeString(d.resolve(ModelFolder.CONFIG), "{\"a\": 1, \"a\": 2}");
        assertBad(d.resolve(ModelFolder.CONFIG), () -> ModelFolder.open(d), "not valid JSON");
    }

    @Test
    void configNotObject() throws IOException {
        Path d = single();
        Files.writeString(d.resolve(ModelFolder.CONFIG), "[1, 2]");
        assertBad(d.resolve(ModelFolder.CONFIG), () -> ModelFolder.open(d), "JSON object");
        Files.writeString(d.resolve(ModelFolder.CONFIG), "");
        assertBad(d.resolve(ModelFolder.CONFIG), () -> ModelFolder.open(d), "JSON object");
    }

    @Test
    void noWeights() throws IOException {
        Path d = Files.createDirectory(tmp.resolve("empty"));
        Files.writeString(d.resolve(ModelFolder.CONFIG), "{}");
        var e = assertBad(d, () -> ModelFolder.open(d), "no weights", ModelFolder.SINGLE, ModelFolder.INDEX);
        assertFalse(e.getMessage().contains("pytorch"), e.getMessage());
    }

    @Test
    void pytorchBinOnlyGetsHint() throws IOException {
        Path d = Files.createDirectory(tmp.resolve("pt"));
        Files.writeString(d.resolve(ModelFolder.CONFIG), "{}");
        Files.write(d.resolve("pytorch_model.bin"), new byte[] {1, 2, 3});
        assertBad(d, () -> ModelFolder.open(d), "no weights", "pytorch", "safetensors");
    }

    @Test
    void indexPointsAtMissingShard() throws IOException {
        Path d = sharded();
        Files.delete(d.resolve("model-00002-of-00003.safetensors"));
        assertBad(d.resolve(ModelFolder.INDEX), () -> ModelFolder.open(d), "model-00002-of-00003.safetensors",
                "missing", "model.layers.0.w");
    }

    @Test
    void indexNamesTensorTheShardLacks() throws IOException {
        Path d = sharded();
        Path index = d.resolve(ModelFolder.INDEX);
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(index.toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("weight_map")).put("ghost.weight",
                "model-00003-of-00003.safetensors");
        Files.writeString(index, root.toString());
        assertBad(index, () -> ModelFolder.open(d), "'ghost.weight'", "model-00003-of-00003.safetensors",
                "no such tensor");
    }

    @Test
    void indexMalformed() throws IOException {
        Path d = sharded();
        Path index = d.resolve(ModelFolder.INDEX);
        Files.writeString(index, "{\"weight_map\": ");
        assertBad(index, () -> ModelFolder.open(d), "not valid JSON");
        Files.writeString(index, "{\"metadata\": {}}");
        assertBad(index, () -> ModelFolder.open(d), "weight_map");
        Files.writeString(index, "{\"weight_map\": {}}");
        assertBad(index, () -> ModelFolder.open(d), "non-empty");
        Files.writeString(index, "[]");
        assertBad(index, () -> ModelFolder.open(d), "weight_map");
        Files.writeString(index, "{\"weight_map\": {\"a\": 3}}");
        assertBad(index, () -> ModelFolder.open(d), "weight_map['a']", "not a file name");
    }

    @Test
    void indexPointingOutsideFolderRejected() throws IOException {
        Path d = sharded();
        Path index = d.resolve(ModelFolder.INDEX);
        Files.copy(d.resolve("model-00001-of-00003.safetensors"), tmp.resolve("outside.safetensors"));
        for (String shard : List.of("../outside.safetensors", tmp.resolve("outside.safetensors").toString(), "", ".",
                "sub/x.safetensors", "bad\u0000name")) {
            String escaped = shard.replace("\u0000", "\\u0000");
            Files.writeString(index, "{\"weight_map\": {\"model.embed_tokens.weight\": \"" + escaped + "\"}}");
            assertBad(index, () -> ModelFolder.open(d), "not a file in the model folder");
        }
    }

    @Test
    void corruptShardNamesTheShard() throws IOException {
        Path d = sharded();
        Path shard = d.resolve("model-00003-of-00003.safetensors");
        byte[] b = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(b, b.length - 1));
        assertBad(shard, () -> ModelFolder.open(d), "truncated");
    }

    @Test
    void singleFileWinsOverIndex() throws IOException {
        Path d = single();
        Files.writeString(d.resolve(ModelFolder.INDEX), "{\"weight_map\": {\"x\": \"missing.safetensors\"}}");
        try (ModelFolder m = ModelFolder.open(d)) {
            assertEquals(5, m.tensorCount());
        }
    }

    @Test
    void tokenizerFilesListsPresentOnes() throws IOException {
        Path d = single();
        Files.writeString(d.resolve("tokenizer.json"), "{}");
        Files.writeString(d.resolve("merges.txt"), "a b");
        Files.writeString(d.resolve("special_tokens_map.json"), "{}");
        Files.createDirectory(d.resolve("vocab.json")); // a folder is not a tokenizer file
        Files.writeString(d.resolve("other.txt"), "x");
        try (ModelFolder m = ModelFolder.open(d)) {
            assertEquals(List.of(d.resolve("tokenizer.json"), d.resolve("special_tokens_map.json"),
                    d.resolve("merges.txt")), m.tokenizerFiles());
        }
        try (ModelFolder m = ModelFolder.open(sharded())) {
            assertEquals(List.of(), m.tokenizerFiles());
        }
    }

    @Test
    void closeReleasesMappings() throws IOException {
        ModelFolder m = ModelFolder.open(sharded());
        MemorySegment s = m.tensor("model.norm.weight").data();
        s.get(ValueLayout.JAVA_BYTE, 0);
        m.close();
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_BYTE, 0));
    }
}
