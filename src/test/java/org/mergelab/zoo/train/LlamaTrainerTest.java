package org.mergelab.zoo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.BadInputException;
import org.mergelab.eval.LlamaGraph;
import org.mergelab.eval.LlamaModel;
import org.mergelab.eval.OrtRuntime;
import org.mergelab.eval.Scorer;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.zoo.CharTokenizer;
import org.mergelab.zoo.world.Example;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The trainer on micro shapes (2 layers, width 32, context 32): it learns, it is causal and deterministic, and its
 * exported folder is the same model to the evaluation's ONNX Runtime graph as to SameDiff.
 */
class LlamaTrainerTest {
    static final ModelShape MICRO = new ModelShape(2, 32, 64, 2, 2, CharTokenizer.VOCAB_SIZE, 32, 10000.0, 1e-5);
    /** Grouped-query attention: 4 query heads over 2 key/value heads. */
    static final ModelShape MICRO_GQA = new ModelShape(2, 32, 64, 4, 2, CharTokenizer.VOCAB_SIZE, 32, 500.0, 1e-6);

    @TempDir
    Path dir;

    /** Three short sentences, round and round. */
    static Supplier<Example> repetitive() {
        String[] docs = {"the cat sat on the mat.", "a dog ran to the log.", "the cat ran."};
        int[] next = {0};
        return () -> Example.text(docs[next[0]++ % docs.length]);
    }

    static int[] ids(String text) {
        int[] t = new int[text.length() + 1];
        t[0] = CharTokenizer.BOS;
        for (int i = 0; i < text.length(); i++) {
            t[i + 1] = CharTokenizer.id(text.charAt(i));
        }
        return t;
    }

    static void train(LlamaTrainer trainer, int steps, double lr) {
        Packer packer = new Packer(trainer.shape().context());
        Supplier<Example> source = repetitive();
        for (int i = 0; i < steps; i++) {
            trainer.step(packer.next(source, 4), lr);
        }
    }

    @Test
    void lossFallsOnARepetitiveCorpus() {
        Packer packer = new Packer(MICRO.context());
        Supplier<Example> source = repetitive();
        Batch probe = new Packer(MICRO.context()).next(repetitive(), 4);
        try (LlamaTrainer trainer = LlamaTrainer.create(MICRO, 1)) {
            double before = trainer.loss(probe);
            assertEquals(Math.log(CharTokenizer.VOCAB_SIZE), before, 0.1, "an untrained model is near uniform");
            double first = trainer.step(packer.next(source, 4), 3e-3);
            assertEquals(before, first, 1e-5, "step() returns the loss before its update");
            for (int i = 1; i < 30; i++) {
                trainer.step(packer.next(source, 4), 3e-3);
            }
            double after = trainer.loss(probe);
            assertTrue(after < before - 2, "loss " + before + " -> " + after);
            assertEquals(30, trainer.steps());
        }
    }

    @Test
    void lossAveragesOverMaskedTargetsOnly() {
        try (LlamaTrainer trainer = LlamaTrainer.create(MICRO, 3)) {
            Batch b = new Packer(MICRO.context()).next(repetitive(), 2);
            double[] lp = trainer.tokenLogprobs(concat(b.input()[0], b.target()[0][MICRO.context() - 1]));
            float[][] mask = new float[2][MICRO.context()];
            mask[0][4] = 1;
            mask[0][9] = 3; // weights, not just 0/1: Σ w·CE / Σ w
            double want = -(lp[5] + 3 * lp[10]) / 4;
            assertEquals(want, trainer.loss(new Batch(b.input(), b.target(), mask)), 1e-5);
        }
    }

    private static int[] concat(int[] row, int last) {
        int[] t = java.util.Arrays.copyOf(row, row.length + 1);
        t[row.length] = last;
        return t;
    }

    @Test
    void laterTokensDoNotChangeEarlierLogprobs() {
        try (LlamaTrainer trainer = LlamaTrainer.create(MICRO_GQA, 5)) {
            train(trainer, 5, 3e-3);
            int[] a = ids("the cat sat on the mat.");
            int[] b = a.clone();
            b[12] = CharTokenizer.id('Q');
            double[] la = trainer.tokenLogprobs(a);
            double[] lb = trainer.tokenLogprobs(b);
            for (int i = 1; i < 12; i++) {
                assertEquals(la[i], lb[i], 0.0, "position " + i + " must not see position 12");
            }
            assertNotEquals(la[12], lb[12]);
            assertTrue(Math.abs(la[13] - lb[13]) > 1e-4, "position 13 sees the changed token");
        }
    }

    @Test
    void sameSeedAndDataGiveIdenticalWeights() {
        Map<String, float[]> first;
        try (LlamaTrainer a = LlamaTrainer.create(MICRO, 9)) {
            train(a, 4, 3e-3);
            first = a.weights();
        }
        try (LlamaTrainer b = LlamaTrainer.create(MICRO, 9)) {
            train(b, 4, 3e-3);
            Map<String, float[]> second = b.weights();
            assertEquals(first.keySet(), second.keySet());
            first.forEach((name, v) -> assertArrayEquals(v, second.get(name), 0f, name));
        }
        try (LlamaTrainer c = LlamaTrainer.create(MICRO, 10)) {
            assertNotEquals(first.get("lm_head.weight")[0], c.weights().get("lm_head.weight")[0]);
        }
    }

    @Test
    void exportThenLoadKeepsNamesShapesAndBf16Values() throws IOException {
        Path out = dir.resolve("micro");
        Map<String, float[]> trained;
        try (LlamaTrainer trainer = LlamaTrainer.create(MICRO_GQA, 2)) {
            train(trainer, 3, 3e-3);
            trained = trainer.weights();
            ObjectNode extra = JsonMapper.builder().build().createObjectNode();
            extra.putObject("mergelab_zoo").put("steps", 3);
            trainer.export(out, extra);
        }
        try (ModelFolder folder = ModelFolder.open(out)) {
            assertEquals("bfloat16", folder.config().get("torch_dtype").asText());
            assertEquals(3, folder.config().get("mergelab_zoo").get("steps").asInt());
            assertEquals(MICRO_GQA.context(), folder.config().get("max_position_embeddings").asInt());
            assertEquals(MICRO_GQA.tensors().keySet().stream().toList(),
                    folder.tensors().stream().map(t -> t.name()).toList());
            folder.tensors().forEach(t -> assertArrayEquals(MICRO_GQA.tensors().get(t.name()), t.info().shape()));
        }
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
        try (LlamaTrainer loaded = LlamaTrainer.load(out)) {
            assertEquals(MICRO_GQA, loaded.shape());
            Map<String, float[]> back = loaded.weights();
            assertEquals(trained.keySet(), back.keySet());
            trained.forEach((name, v) -> {
                float[] w = back.get(name);
                for (int i = 0; i < v.length; i++) {
                    assertEquals(FloatCodec.roundTo(org.mergelab.io.DType.BF16, v[i]), w[i], 0f, name + "[" + i + "]");
                }
            });
        }
        assertThrows(BadInputException.class, () -> {
            try (LlamaTrainer t = LlamaTrainer.create(MICRO, 1)) {
                t.export(out, JsonMapper.builder().build().createObjectNode());
            }
        }, "an existing export is not replaced unless asked");
    }

    @Test
    void exportedFolderScoresTheSameInOnnxRuntime() throws Exception {
        OrtRuntime runtime = OrtRuntime.create(1);
        for (ModelShape shape : new ModelShape[] {MICRO, MICRO_GQA}) {
            Path out = dir.resolve("equal-" + shape.kvHeads() + "-" + shape.heads());
            try (LlamaTrainer trainer = LlamaTrainer.create(shape, 4)) {
                train(trainer, 15, 3e-3); // trained a little, so log-probs differ clearly between tokens
                trainer.export(out, JsonMapper.builder().build().createObjectNode());
            }
            int[] tokens = ids("a dog sat on the log, the cat ran to the mat."); // 46 > context: two checks below
            int[] first = java.util.Arrays.copyOf(tokens, shape.context() + 1);
            try (LlamaTrainer loaded = LlamaTrainer.load(out); ModelFolder folder = ModelFolder.open(out);
                    LlamaModel ort = LlamaModel.open(runtime, folder, LlamaGraph.Variant.LOGITS)) {
                for (int[] seq : new int[][] {first, java.util.Arrays.copyOf(tokens, 9)}) {
                    double[] mine = loaded.tokenLogprobs(seq);
                    double[] theirs = new Scorer(ort, 1).tokenLogprobs(java.util.Arrays.stream(seq).asLongStream()
                            .toArray());
                    double spread = 0;
                    for (int i = 1; i < seq.length; i++) {
                        assertEquals(theirs[i], mine[i], 1e-3, shape + " token " + i);
                        spread = Math.max(spread, Math.abs(mine[i] - mine[1]));
                    }
                    assertTrue(spread > 0.5 || seq.length < 10, "a trained model's log-probs vary: " + spread);
                }
            }
        }
    }

    @Test
    void loadRefusesWhatItCannotContinue() throws IOException {
        Path out = dir.resolve("m");
        try (LlamaTrainer trainer = LlamaTrainer.create(MICRO, 1)) {
            trainer.export(out, JsonMapper.builder().build().createObjectNode());
        }
        Path config = out.resolve(ModelFolder.CONFIG);
        String json = Files.readString(config);
        Files.writeString(config, json.replace("\"tie_word_embeddings\" : false", "\"tie_word_embeddings\" : true"));
        BadInputException e = assertThrows(BadInputException.class, () -> LlamaTrainer.load(out));
        assertTrue(e.getMessage().contains("tie_word_embeddings"), e.getMessage());
        Files.writeString(config, json.replace("\"intermediate_size\" : 64", "\"intermediate_size\" : 65"));
        e = assertThrows(BadInputException.class, () -> LlamaTrainer.load(out));
        assertTrue(e.getMessage().contains("mlp.gate_proj.weight"), e.getMessage());
    }

    @Test
    void trainingPrintsNothingOnStandardOutput() throws IOException {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (LlamaTrainer trainer = LlamaTrainer.create(MICRO, 8)) {
            train(trainer, 2, 1e-3); // the first step builds the backward graph, which SameDiff announces op by op
            trainer.tokenLogprobs(ids("the cat"));
            trainer.export(dir.resolve("quiet"), JsonMapper.builder().build().createObjectNode());
        } finally {
            System.setOut(stdout);
        }
        assertEquals("", captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void rejectsBatchesOfAnotherLengthOrNoWeightAndIdsOutsideTheVocabulary() {
        try (LlamaTrainer trainer = LlamaTrainer.create(MICRO, 1)) {
            Batch longRows = new Packer(40).next(repetitive(), 2);
            assertThrows(IllegalArgumentException.class, () -> trainer.step(longRows, 1e-3));
            Batch b = new Packer(MICRO.context()).next(repetitive(), 2);
            Batch unweighted = new Batch(b.input(), b.target(), new float[2][MICRO.context()]);
            assertThrows(IllegalArgumentException.class, () -> trainer.step(unweighted, 1e-3));
            assertThrows(IllegalArgumentException.class, () -> trainer.tokenLogprobs(new int[] {1, 100}));
            assertThrows(IllegalArgumentException.class, () -> trainer.tokenLogprobs(new int[MICRO.context() + 2]));
        }
    }
}
