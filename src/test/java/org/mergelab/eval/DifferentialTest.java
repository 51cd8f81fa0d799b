package org.mergelab.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.io.DType;
import org.mergelab.io.ModelFolder;

/**
 * ORT log-probs against {@link ReferenceLlama}, an independent float64 forward pass, on random tiny checkpoints:
 * max |Δ log p| ≤ 1e-4 for every architecture variant, both graph variants, a batch of sequences of different
 * lengths (so padding is exercised too).
 */
class DifferentialTest {
    static final double TOLERANCE = 1e-4;

    @TempDir
    static Path dir;
    static OrtRuntime runtime;

    @BeforeAll
    static void runtime() {
        runtime = OrtRuntime.create(2);
    }

    @AfterAll
    static void done() {
        runtime = null;
    }

    static Stream<Arguments> cases() {
        TinyModels.Spec llama = TinyModels.Spec.llama();
        return Stream.of(
                Arguments.of("llama fp32", llama, DType.F32),
                Arguments.of("llama gqa", llama.gqa(), DType.F32),
                Arguments.of("qwen2 q/k/v biases + gqa", llama.gqa().arch("Qwen2ForCausalLM"), DType.F32),
                Arguments.of("tied embeddings", llama.tie(), DType.F32),
                Arguments.of("bf16 weights", llama.gqa(), DType.BF16),
                Arguments.of("f16 weights", llama, DType.F16),
                Arguments.of("llama attention_bias (q/k/v/o)", new TinyModels.Spec("LlamaForCausalLM", 2, 32, 48, 4,
                        2, 0, 64, false, true, 0), DType.F32),
                Arguments.of("mistral sliding window 5", llama.gqa().arch("MistralForCausalLM").window(5), DType.F32),
                Arguments.of("explicit head_dim 12", llama.headDim(12), DType.F32));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void logprobsMatchFloat64Reference(String name, TinyModels.Spec spec, DType dtype) throws Exception {
        Path m = TinyModels.write(dir.resolve(name.replaceAll("\\W+", "_")), spec,
                TinyModels.weights(spec, name.hashCode(), dtype), dtype);
        ReferenceLlama ref = ReferenceLlama.load(m);
        List<long[]> seqs = sequences(spec.vocab(), name.hashCode());
        try (ModelFolder f = ModelFolder.open(m)) {
            LlamaConfig c = LlamaConfig.parse(f.config(), m.resolve("config.json")).withBiasesFrom(
                    f.tensors().stream().map(t -> t.name()).collect(java.util.stream.Collectors.toSet()));
            for (LlamaGraph.Variant v : LlamaGraph.Variant.values()) {
                try (LlamaModel model = LlamaModel.open(runtime, c, Weights.of(f), v)) {
                    List<Scorer.Request> requests = new ArrayList<>();
                    seqs.forEach(s -> requests.add(new Scorer.Request(s, 1)));
                    List<Scorer.Scored> got = new Scorer(model, 8).score(requests);
                    double worst = 0;
                    for (int i = 0; i < seqs.size(); i++) {
                        double[] want = ref.logprobs(seqs.get(i));
                        double[] have = got.get(i).logprobs();
                        assertEquals(want.length - 1, have.length);
                        for (int j = 1; j < want.length; j++) {
                            worst = Math.max(worst, Math.abs(want[j] - have[j - 1]));
                        }
                    }
                    assertTrue(worst <= TOLERANCE, name + " " + v + ": max |Δ log p| = " + worst);
                }
            }
        }
    }

    /** A few random sequences of different lengths (3..24), some starting with BOS. */
    static List<long[]> sequences(int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<long[]> out = new ArrayList<>();
        for (int len : new int[] {24, 3, 11, 17, 7}) {
            long[] s = new long[len];
            for (int i = 0; i < len; i++) {
                s[i] = r.nextInt(vocab);
            }
            s[0] = len % 2 == 0 ? 1 : s[0];
            out.add(s);
        }
        return out;
    }
}
