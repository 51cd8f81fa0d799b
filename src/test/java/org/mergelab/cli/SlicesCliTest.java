package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.io.DType;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.zoo.SyntheticLlama;

import com.fasterxml.jackson.databind.json.JsonMapper;

/** {@code slices:} configs end to end: frankenmerge layer stacking, per-slice gradients, vocabulary crops. */
class SlicesCliTest {
    @TempDir
    static Path dir;

    static Path m;
    static Path n;
    static Path bigVocab;

    @BeforeAll
    static void models() throws IOException {
        var spec = new SyntheticLlama.Spec(4, 32, 64, 4, 2, 96, DType.BF16, 30_000, false);
        m = dir.resolve("m");
        n = dir.resolve("n");
        bigVocab = dir.resolve("big-vocab");
        SyntheticLlama.write(m, spec, 1, 0, 0);
        SyntheticLlama.write(n, spec, 1, 5, 0.3);
        SyntheticLlama.write(bigVocab, new SyntheticLlama.Spec(4, 32, 64, 4, 2, 100, DType.BF16, 30_000, false), 1,
                6, 0.3);
    }

    static Path config(String name, String yaml) throws IOException {
        Path p = dir.resolve(name + ".yml");
        Files.writeString(p, yaml.replace("M", m.toString()).replace("N", n.toString())
                .replace("BIG", bigVocab.toString()));
        return p;
    }

    static float[] values(ModelTensor t) {
        int k = (int) t.info().numel();
        float[] f = new float[k];
        FloatCodec.decodeScalar(t.dtype(), t.data(), 0, f, k);
        return f;
    }

    @Test
    void passthroughFrankenmergeRestacksAndRenumbersLayers() throws IOException {
        // the reference example's shape (24 + 16 + 8 → 48) at small scale: 2 + 2 + 1 → 5 layers
        Path cfg = config("franken", """
                merge_method: passthrough
                slices:
                  - sources: [{model: M, layer_range: [0, 2]}]
                  - sources:
                      - model: M
                        layer_range: [1, 3]
                        parameters:
                          scale:
                            - filter: o_proj
                              value: 0.5
                            - value: 1.0
                  - sources: [{model: M, layer_range: [3, 4]}]
                """);
        Path out = dir.resolve("franken-out");
        CliRun run = CliRun.of("merge", cfg, out);
        assertEquals(0, run.code(), run.err());
        var config = JsonMapper.builder().build().readTree(out.resolve("config.json").toFile());
        assertEquals(5, config.get("num_hidden_layers").asInt());
        int[] sourceLayer = {0, 1, 1, 2, 3};
        try (ModelFolder merged = ModelFolder.open(out); ModelFolder src = ModelFolder.open(m)) {
            assertEquals(3 + 9 * 5, merged.tensorCount()); // embed, norm, lm_head + 9 per layer
            for (int layer = 0; layer < 5; layer++) {
                for (String part : List.of("self_attn.o_proj.weight", "mlp.up_proj.weight", "input_layernorm.weight")) {
                    float[] got = values(merged.tensor("model.layers." + layer + "." + part));
                    float[] want = values(src.tensor("model.layers." + sourceLayer[layer] + "." + part));
                    if (part.contains("o_proj") && (layer == 2 || layer == 3)) {
                        for (int i = 0; i < want.length; i++) {
                            want[i] *= 0.5f; // exact in bf16: halving only changes the exponent
                        }
                    }
                    assertArrayEquals(want, got, "layer " + layer + " " + part);
                }
            }
            assertArrayEquals(values(src.tensor("lm_head.weight")), values(merged.tensor("lm_head.weight")));
            assertArrayEquals(values(src.tensor("model.embed_tokens.weight")),
                    values(merged.tensor("model.embed_tokens.weight")));
        }
    }

    @Test
    void gradientsRestartInEverySlice() throws IOException {
        Path cfg = config("sliced-linear", """
                merge_method: linear
                slices:
                  - sources:
                      - {model: M, layer_range: [0, 2], parameters: {weight: [0, 1]}}
                      - {model: N, layer_range: [0, 2], parameters: {weight: 1}}
                  - sources:
                      - {model: M, layer_range: [2, 4], parameters: {weight: [0, 1]}}
                      - {model: N, layer_range: [2, 4], parameters: {weight: 1}}
                """);
        Path out = dir.resolve("sliced-linear-out");
        CliRun run = CliRun.of("merge", cfg, out);
        assertEquals(0, run.code(), run.err());
        try (ModelFolder merged = ModelFolder.open(out); ModelFolder a = ModelFolder.open(m);
                ModelFolder b = ModelFolder.open(n)) {
            // first layer of each slice: weight of M is 0 → pure N; last layer: (M + N)/2
            for (int layer : new int[] {0, 2}) {
                String name = "model.layers." + layer + ".mlp.down_proj.weight";
                assertArrayEquals(values(b.tensor(name)), values(merged.tensor(name)), name);
            }
            for (int layer : new int[] {1, 3}) {
                String name = "model.layers." + layer + ".mlp.down_proj.weight";
                float[] x = values(a.tensor(name));
                float[] y = values(b.tensor(name));
                float[] got = values(merged.tensor(name));
                for (int i = 0; i < got.length; i++) {
                    assertEquals(FloatCodec.roundTo(DType.BF16, (x[i] + y[i]) / 2), got[i], 1e-7, name);
                }
            }
        }
    }

    @Test
    void linearCropsDifferentVocabulariesToTheCommonRows() throws IOException {
        Path cfg = config("vocab", """
                merge_method: linear
                models:
                  - {model: M, parameters: {weight: 0.5}}
                  - {model: BIG, parameters: {weight: 0.5}}
                """);
        Path out = dir.resolve("vocab-out");
        CliRun run = CliRun.of("merge", cfg, out);
        assertEquals(0, run.code(), run.err());
        try (ModelFolder merged = ModelFolder.open(out); ModelFolder a = ModelFolder.open(m);
                ModelFolder b = ModelFolder.open(bigVocab)) {
            ModelTensor e = merged.tensor("model.embed_tokens.weight");
            assertArrayEquals(new long[] {96, 32}, e.info().shape());
            float[] x = values(a.tensor("model.embed_tokens.weight"));
            float[] y = values(b.tensor("model.embed_tokens.weight"));
            float[] got = values(e);
            for (int i = 0; i < got.length; i++) {
                assertEquals(FloatCodec.roundTo(DType.BF16, (x[i] + y[i]) / 2), got[i], 1e-7);
            }
            assertArrayEquals(new long[] {96, 32}, merged.tensor("lm_head.weight").info().shape());
        }
        var config = JsonMapper.builder().build().readTree(out.resolve("config.json").toFile());
        assertEquals(96, config.get("vocab_size").asInt());
    }

    @Test
    void taskVectorMethodsCropLargerVocabulariesToTheBase() throws IOException {
        Path cfg = config("ties-vocab", """
                merge_method: ties
                base_model: M
                models:
                  - {model: N, parameters: {weight: 0.5, density: 0.5}}
                  - {model: BIG, parameters: {weight: 0.5, density: 0.5}}
                """);
        Path out = dir.resolve("ties-vocab-out");
        CliRun run = CliRun.of("merge", cfg, out);
        assertEquals(0, run.code(), run.err());
        try (ModelFolder merged = ModelFolder.open(out)) {
            assertArrayEquals(new long[] {96, 32}, merged.tensor("model.embed_tokens.weight").info().shape());
        }
        assertBad("ties-smaller", """
                merge_method: ties
                base_model: BIG
                models:
                  - {model: M, parameters: {weight: 1}}
                """, "embed_tokens", "smaller one cannot be merged");
    }

    @Test
    void badSlicesFailBeforeWriting() throws IOException {
        assertBad("range", """
                merge_method: passthrough
                slices:
                  - sources: [{model: M, layer_range: [2, 6]}]
                """, "slices[0].sources[0].layer_range [2, 6]", "4 layers");
        assertBad("counts", """
                merge_method: linear
                slices:
                  - sources:
                      - {model: M, layer_range: [0, 2], parameters: {weight: 1}}
                      - {model: N, layer_range: [0, 3], parameters: {weight: 1}}
                """, "slices[0]", "different layer counts");
        assertBad("base-missing", """
                merge_method: slerp
                base_model: N
                slices:
                  - sources: [{model: M, layer_range: [0, 2]}, {model: M, layer_range: [2, 4]}]
                parameters: {t: 0.5}
                """, "slices[0]", "not among this slice's sources");
        assertBad("karcher-vocab", """
                merge_method: karcher
                models: [M, BIG]
                """, "embed_tokens", "vocabulary");
    }

    private static void assertBad(String name, String yaml, String... parts) throws IOException {
        Path out = dir.resolve("bad-" + name);
        CliRun run = CliRun.of("merge", config("bad-" + name, yaml), out);
        assertEquals(2, run.code(), run.err());
        for (String p : parts) {
            assertTrue(run.err().contains(p), "stderr should contain '" + p + "': " + run.err());
        }
        assertEquals(1, run.err().lines().count(), run.err());
        assertFalse(Files.exists(out));
    }
}
