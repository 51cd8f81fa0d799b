package org.mergelab.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.BadInputException;
import org.mergelab.io.DType;
import org.mergelab.io.ModelFolder;

/**
 * Sessions over in-memory weights (one graph, many weight sets), model identity, and the batching guarantees:
 * padding and batch composition never change a score, generation with the KV cache equals generation without it.
 */
class ModelRunTest {
    static final TinyModels.Spec SPEC = TinyModels.Spec.llama().gqa();

    @TempDir
    static Path dir;
    static OrtRuntime runtime;
    static LlamaConfig config;
    static Map<String, float[]> weightsA;
    static Map<String, float[]> weightsB;

    @BeforeAll
    static void setUp() {
        runtime = OrtRuntime.create(2);
        config = LlamaConfig.parse(TinyModels.config(SPEC, DType.F32), Path.of("config.json"));
        weightsA = TinyModels.weights(SPEC, 11, DType.F32);
        weightsB = TinyModels.weights(SPEC, 12, DType.F32);
    }

    static Weights memory(Map<String, float[]> w) {
        return Weights.of(w, TinyModels.shapes(SPEC), "memory");
    }

    static ReferenceLlama reference(Map<String, float[]> w) {
        Map<String, double[]> d = new LinkedHashMap<>();
        w.forEach((k, v) -> {
            double[] x = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                x[i] = v[i];
            }
            d.put(k, x);
        });
        return new ReferenceLlama(TinyModels.config(SPEC, DType.F32), d);
    }

    @Test
    void oneGraphTwoWeightSetsEachGiveTheirOwnModel() throws Exception {
        byte[] graph = runtime.graph(config, LlamaGraph.Variant.LOGITS);
        long[] tokens = {1, 7, 30, 12, 55, 3, 9, 41};
        double[][] got = new double[2][];
        int k = 0;
        for (Map<String, float[]> w : List.of(weightsA, weightsB)) {
            try (LlamaModel m = LlamaModel.open(runtime, config, memory(w), LlamaGraph.Variant.LOGITS)) {
                got[k] = new Scorer(m, 4).tokenLogprobs(tokens);
                double[] want = reference(w).logprobs(tokens);
                for (int i = 1; i < tokens.length; i++) {
                    assertEquals(want[i], got[k][i], 1e-4, "weight set " + k + " token " + i);
                }
            }
            k++;
        }
        assertSame(graph, runtime.graph(config, LlamaGraph.Variant.LOGITS), "the graph is built once and reused");
        assertTrue(Math.abs(got[0][3] - got[1][3]) > 1e-2, "the two weight sets give different models");
    }

    @Test
    void identityIsTheFloat32ValuesWhateverTheStorage() throws Exception {
        Map<String, float[]> bf16 = TinyModels.weights(SPEC, 11, DType.BF16);
        Path folder = TinyModels.write(dir.resolve("bf16"), SPEC, bf16, DType.BF16);
        String fromDisk;
        try (ModelFolder f = ModelFolder.open(folder);
                LlamaModel m = LlamaModel.open(runtime, config, Weights.of(f), LlamaGraph.Variant.LOGITS)) {
            fromDisk = m.identity();
        }
        try (LlamaModel m = LlamaModel.open(runtime, config, memory(bf16), LlamaGraph.Variant.LOGITS)) {
            assertEquals(fromDisk, m.identity());
        }
        try (LlamaModel m = LlamaModel.open(runtime, config, memory(weightsA), LlamaGraph.Variant.LOGITS)) {
            assertNotEquals(fromDisk, m.identity());
            assertTrue(m.identity().matches("sha256:[0-9a-f]{64}"));
        }
    }

    @Test
    void paddingAndBatchCompositionDoNotChangeScores() throws Exception {
        List<long[]> seqs = DifferentialTest.sequences(SPEC.vocab(), 5);
        List<Scorer.Request> all = new ArrayList<>();
        seqs.forEach(s -> all.add(new Scorer.Request(s, 1)));
        try (LlamaModel m = LlamaModel.open(runtime, config, memory(weightsA), LlamaGraph.Variant.LOGITS)) {
            List<Scorer.Scored> alone = new ArrayList<>();
            for (Scorer.Request r : all) {
                alone.add(new Scorer(m, 1).score(List.of(r)).get(0));
            }
            for (int batch : new int[] {2, 3, 8}) {
                List<Scorer.Scored> batched = new Scorer(m, batch).score(all);
                for (int i = 0; i < all.size(); i++) {
                    assertArrayEquals(alone.get(i).logprobs(), batched.get(i).logprobs(), 1e-5,
                            "sequence " + i + " at batch size " + batch);
                }
            }
        }
    }

    @Test
    void generationWithCacheEqualsGenerationWithout() throws Exception {
        List<long[]> prompts = List.of(new long[] {1, 5, 9, 22}, new long[] {1, 40}, new long[] {1, 3, 3, 3, 8, 60, 2,
                17, 33}, new long[] {1});
        List<long[]> uncached;
        List<long[]> cached;
        List<long[]> oneByOne = new ArrayList<>();
        try (LlamaModel m = LlamaModel.open(runtime, config, memory(weightsA), LlamaGraph.Variant.LOGITS)) {
            uncached = new Generator(m, 4).greedy(prompts, 12, Set.of(), t -> false);
        }
        try (LlamaModel m = LlamaModel.open(runtime, config, memory(weightsA), LlamaGraph.Variant.DECODER)) {
            cached = new Generator(m, 4).greedy(prompts, 12, Set.of(), t -> false);
            for (long[] p : prompts) {
                oneByOne.add(new Generator(m, 1).greedy(List.of(p), 12, Set.of(), t -> false).get(0));
            }
        }
        ReferenceLlama ref = reference(weightsA);
        for (int i = 0; i < prompts.size(); i++) {
            assertEquals(12, cached.get(i).length);
            assertArrayEquals(uncached.get(i), cached.get(i), "prompt " + i + ": cache vs no cache");
            assertArrayEquals(oneByOne.get(i), cached.get(i), "prompt " + i + ": alone vs left-padded batch");
            assertArrayEquals(referenceGreedy(ref, prompts.get(i), 12), cached.get(i), "prompt " + i + ": reference");
        }
    }

    @Test
    void generationStopsAtEosAndAtTheStopCondition() throws Exception {
        long[] prompt = {1, 5, 9};
        try (LlamaModel m = LlamaModel.open(runtime, config, memory(weightsA), LlamaGraph.Variant.DECODER)) {
            Generator g = new Generator(m, 2);
            long[] free = g.greedy(List.of(prompt), 8, Set.of(), t -> false).get(0);
            // EOS = the 3rd generated token: generation ends before it
            long[] eos = g.greedy(List.of(prompt), 8, Set.of(free[2]), t -> false).get(0);
            int firstEos = 0;
            while (free[firstEos] != free[2]) {
                firstEos++;
            }
            assertArrayEquals(java.util.Arrays.copyOf(free, firstEos), eos);
            long[] stopped = g.greedy(List.of(prompt), 8, Set.of(), t -> t.length == 5).get(0);
            assertArrayEquals(java.util.Arrays.copyOf(free, 5), stopped);
            assertEquals(0, g.greedy(List.of(prompt), 0, Set.of(), t -> false).get(0).length);
        }
    }

    @Test
    void missingOrMisshapenTensorsAreBadInput() {
        Map<String, float[]> w = new LinkedHashMap<>(weightsA);
        Map<String, long[]> shapes = new LinkedHashMap<>(TinyModels.shapes(SPEC));
        w.remove("model.layers.1.mlp.up_proj.weight");
        shapes.remove("model.layers.1.mlp.up_proj.weight");
        var e = assertThrows(BadInputException.class, () -> LlamaModel.open(runtime, config, Weights.of(w, shapes,
                "merged"), LlamaGraph.Variant.LOGITS));
        assertEquals("merged: missing tensor 'model.layers.1.mlp.up_proj.weight' required by config.json"
                + " (LlamaForCausalLM, 2 layers)", e.getMessage());
        Map<String, long[]> wrong = new LinkedHashMap<>(TinyModels.shapes(SPEC));
        wrong.put("model.norm.weight", new long[] {4, 8});
        e = assertThrows(BadInputException.class, () -> LlamaModel.open(runtime, config, Weights.of(weightsA, wrong,
                "merged"), LlamaGraph.Variant.LOGITS));
        assertEquals("merged: tensor 'model.norm.weight' has shape [4, 8]; config.json (LlamaForCausalLM) implies [32]",
                e.getMessage());
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreBadInput() throws Exception {
        try (LlamaModel m = LlamaModel.open(runtime, config, memory(weightsA), LlamaGraph.Variant.DECODER)) {
            var e = assertThrows(BadInputException.class, () -> new Scorer(m, 2).tokenLogprobs(new long[] {1, 64}));
            assertEquals("token id 64 is outside the model's vocabulary (0..63)", e.getMessage());
            // scoring on the decoder graph returns logits only and matches the logits graph
            long[] t = {1, 7, 30, 12};
            double[] dec = new Scorer(m, 2).tokenLogprobs(t);
            try (LlamaModel l = LlamaModel.open(runtime, config, memory(weightsA), LlamaGraph.Variant.LOGITS)) {
                assertArrayEquals(new Scorer(l, 2).tokenLogprobs(t), dec, 1e-6);
            }
        }
    }

    static long[] referenceGreedy(ReferenceLlama ref, long[] prompt, int n) {
        long[] seq = prompt.clone();
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            double[][] z = ref.logits(seq);
            double[] last = z[seq.length - 1];
            int best = 0;
            for (int v = 1; v < last.length; v++) {
                if (last[v] > last[best]) {
                    best = v;
                }
            }
            out[i] = best;
            seq = java.util.Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = best;
        }
        return out;
    }
}
