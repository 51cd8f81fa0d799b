package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.eval.BigramModel;
import org.mergelab.eval.ReferenceLlama;
import org.mergelab.eval.TinyModels;
import org.mergelab.io.DType;
import org.mergelab.zoo.CharTokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** {@code mergelab score} and {@code mergelab eval} end to end, and their one-line errors (exit 2). */
class EvalCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path dir;
    static Path random;
    static Path bigramDir;
    static BigramModel bigram;
    static Path tasks;

    @BeforeAll
    static void models() throws Exception {
        TinyModels.Spec spec = TinyModels.Spec.llama().gqa();
        random = TinyModels.write(dir.resolve("random"), spec, TinyModels.weights(spec, 9, DType.BF16), DType.BF16);
        bigram = BigramModel.withSuccessors(42, BigramModel.CHAINS);
        bigramDir = bigram.write(dir.resolve("bigram"));
        tasks = Files.createDirectories(dir.resolve("tasks"));
        Files.writeString(tasks.resolve("arith.yaml"), "type: generate\ndata: arith.jsonl\nprompt: \"{q}=\"\n"
                + "stop: [\"\\n\"]\nmax_tokens: 5\n");
        Files.writeString(tasks.resolve("arith.jsonl"), "{\"q\": \"2+2\", \"answer\": \"4\"}\n"
                + "{\"q\": \"3+3\", \"answer\": \"6\"}\n{\"q\": \"1+3\", \"answer\": \"4\"}\n");
        Files.writeString(tasks.resolve("yesno.yaml"), "type: multiple_choice\ndata: yesno.jsonl\nchoices: [\"NO\","
                + " \"YES\"]\ntarget_delimiter: \"\"\n");
        Files.writeString(tasks.resolve("yesno.jsonl"), "{\"prompt\": \"Is it?\", \"answer\": \"NO\"}\n"
                + "{\"prompt\": \"Go!\", \"answer\": 1}\n");
        Files.writeString(tasks.resolve("text.yaml"), "type: perplexity\ndata: text.jsonl\n");
        Files.writeString(tasks.resolve("text.jsonl"), "{\"text\": \"hello world\"}\n{\"text\": \"abc abc\"}\n");
        Files.writeString(tasks.resolve("refuse.yaml"), "type: refusal\ndata: refuse.jsonl\nstop: [\"\\n\"]\n"
                + "patterns: [\"^NO\"]\n");
        Files.writeString(tasks.resolve("refuse.jsonl"), "{\"prompt\": \"Secret?\"}\n{\"prompt\": \"Joke!\"}\n");
    }

    static JsonNode lastLine(String out) throws Exception {
        List<String> lines = out.strip().lines().toList();
        return JSON.readTree(lines.get(lines.size() - 1));
    }

    @Test
    void scoreTokenIdsMatchesFloat64Reference() throws Exception {
        long[] ids = {1, 17, 3, 60, 22, 5, 5, 41};
        CliRun r = CliRun.of("score", random, "--token-ids", "1,17,3,60,22,5,5,41", "--threads", 1);
        assertEquals(0, r.code(), r.err());
        JsonNode j = lastLine(r.out());
        assertEquals(List.of("tokens", "logprobs"), List.copyOf(iterable(j.fieldNames())));
        double[] want = ReferenceLlama.load(random).logprobs(ids);
        assertEquals(ids.length, j.get("tokens").size());
        assertTrue(j.get("logprobs").get(0).isNull());
        for (int i = 0; i < ids.length; i++) {
            assertEquals(ids[i], j.get("tokens").get(i).asLong());
            if (i > 0) {
                assertEquals(want[i], j.get("logprobs").get(i).asDouble(), 1e-4, "token " + i);
            }
        }
    }

    @Test
    void scoreTextPrependsBos() throws Exception {
        CliRun r = CliRun.of("score", bigramDir, "--text", "Hi!\nYES");
        assertEquals(0, r.code(), r.err());
        JsonNode j = lastLine(r.out());
        long[] ids = BigramModel.ids("Hi!\nYES", true);
        assertEquals(ids.length, j.get("tokens").size());
        for (int i = 1; i < ids.length; i++) {
            assertEquals(ids[i], j.get("tokens").get(i).asLong());
            assertEquals(bigram.logprob(ids[i - 1], ids[i]), j.get("logprobs").get(i).asDouble(), 1e-5);
        }
        JsonNode noBos = lastLine(CliRun.of("score", bigramDir, "--text", "Hi", "--no-bos").out());
        assertEquals("[" + CharTokenizer.id('H') + "," + CharTokenizer.id('i') + "]", noBos.get("tokens").toString());
        assertEquals(bigram.logprob(CharTokenizer.id('H'), CharTokenizer.id('i')), noBos.get("logprobs").get(1)
                .asDouble(), 1e-5);
    }

    @Test
    void evalWritesResultsAndPrintsATable() throws Exception {
        Path out = dir.resolve("results/run1.json");
        CliRun r = CliRun.of("eval", bigramDir, "--tasks", tasks, "--out", out, "--batch-size", 2, "--threads", 2);
        assertEquals(0, r.code(), r.err());
        JsonNode j = JSON.readTree(out.toFile());
        assertTrue(j.get("mergelab_version").isTextual());
        assertTrue(j.at("/model/identity").asText().matches("sha256:[0-9a-f]{64}"));
        assertEquals("LlamaForCausalLM", j.at("/model/architecture").asText());
        assertEquals("decoder", j.at("/model/graph").asText());
        assertEquals(List.of("arith", "refuse", "text", "yesno"), List.copyOf(iterable(j.get("tasks").fieldNames())));
        JsonNode arith = j.at("/tasks/arith");
        assertEquals("generate", arith.get("type").asText());
        assertEquals(3, arith.get("n").asInt());
        assertTrue(arith.get("task_hash").asText().startsWith("sha256:"));
        assertEquals(2.0 / 3, arith.at("/metrics/exact_match/value").asDouble(), 1e-12);
        assertEquals(Math.sqrt(1.5 * 2 / 9 / 3), arith.at("/metrics/exact_match/stderr").asDouble(), 1e-12);
        assertEquals(3, arith.at("/metrics/exact_match/n").asInt());
        assertTrue(arith.at("/metrics/exact_match/higher_is_better").asBoolean());
        assertEquals(1.0, j.at("/tasks/yesno/metrics/acc/value").asDouble());
        assertEquals(0.5, j.at("/tasks/refuse/metrics/refusal_rate/value").asDouble());
        assertEquals(5.0, j.at("/tasks/refuse/metrics/willingness/value").asDouble());
        double nll = -(bigram.sum(BigramModel.ids("hello world", true), 1) + bigram.sum(BigramModel.ids("abc abc",
                true), 1));
        assertEquals(nll / 18 / Math.log(2), j.at("/tasks/text/metrics/bits_per_byte/value").asDouble(), 1e-5);
        for (String k : List.of("load_seconds", "session_seconds", "tasks_seconds", "total_seconds")) {
            assertTrue(j.at("/timings/" + k).asDouble() >= 0, k);
        }
        assertTrue(j.at("/config/limit").isNull());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("arith\\s+exact_match ↑\\s+0\\.6667\\s+±0\\.3333\\s+3")),
                r.out());
        assertTrue(r.out().contains("results in " + out), r.out());

        Path limited = dir.resolve("results/run2.json");
        CliRun l = CliRun.of("eval", bigramDir, "--tasks", tasks.resolve("arith.yaml"), tasks.resolve("text.yaml"),
                "--out", limited, "--limit", 1);
        assertEquals(0, l.code(), l.err());
        JsonNode lj = JSON.readTree(limited.toFile());
        assertEquals(1, lj.at("/tasks/arith/n").asInt());
        assertEquals(1, lj.at("/config/limit").asInt());
        assertEquals("decoder", lj.at("/model/graph").asText(), "a generate task needs the decoder graph");
        assertEquals(j.at("/model/identity"), lj.at("/model/identity"));
    }

    @Test
    void badInputIsOneLineAndExitTwo() throws Exception {
        Path gpt2 = Files.createDirectories(dir.resolve("gpt2"));
        Files.copy(random.resolve("model.safetensors"), gpt2.resolve("model.safetensors"));
        Files.writeString(gpt2.resolve("config.json"), "{\"architectures\": [\"GPT2LMHeadModel\"], \"n_embd\": 32}");
        expectBad(gpt2.resolve("config.json") + ": architecture GPT2LMHeadModel is not supported for evaluation;"
                + " supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM", "score", gpt2, "--token-ids",
                "1,2");

        TinyModels.Spec three = new TinyModels.Spec("LlamaForCausalLM", 3, 32, 48, 4, 2, 0, 64, false, false, 0);
        Path short1 = TinyModels.write(dir.resolve("short"), TinyModels.config(three, DType.BF16),
                TinyModels.shapes(TinyModels.Spec.llama().gqa()), TinyModels.weights(TinyModels.Spec.llama().gqa(),
                        1, DType.BF16), DType.BF16);
        expectBad(short1 + ": missing tensor 'model.layers.2.self_attn.q_proj.weight' and 8 more required by"
                + " config.json (LlamaForCausalLM, 3 layers)", "score", short1, "--token-ids", "1,2");

        expectBad("token id 64 is outside the vocabulary of " + random + " (0..63)", "score", random, "--token-ids",
                "1,64");
        expectBad(random.resolve("tokenizer.json") + ": missing; text needs the model's tokenizer.json", "score",
                random, "--text", "hi");
        Path noData = Files.writeString(dir.resolve("nodata.yaml"), "type: generate\ndata: nope.jsonl\n");
        expectBad(noData + ":2: data file " + dir.resolve("nope.jsonl") + " not found", "eval", bigramDir, "--tasks",
                noData, "--out", dir.resolve("x.json"));
        Path badTask = Files.writeString(dir.resolve("bad.yaml"), "type: generate\ndata: nope.jsonl\nstops: [x]\n");
        expectBad(badTask + ":3: unknown key 'stops' for a generate task; expected one of [add_bos, answer, data,"
                + " ignore_case, max_length, max_tokens, name, prompt, regex, stop, type]", "eval", bigramDir,
                "--tasks", badTask, "--out", dir.resolve("x.json"));
        assertTrue(!Files.exists(dir.resolve("x.json")));

        CliRun both = CliRun.of("score", random, "--token-ids", "1", "--text", "x");
        assertEquals(2, both.code());
        assertEquals(1, both.err().strip().lines().count(), both.err());
        CliRun noOut = CliRun.of("eval", bigramDir, "--tasks", tasks);
        assertEquals(2, noOut.code());
        assertTrue(noOut.err().contains("--out"), noOut.err());
    }

    static void expectBad(String message, Object... args) {
        CliRun r = CliRun.of(args);
        assertEquals(2, r.code(), r.err());
        assertEquals("mergelab: " + message, r.err().strip());
    }

    static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
