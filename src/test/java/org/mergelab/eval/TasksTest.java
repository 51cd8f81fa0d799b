package org.mergelab.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.io.ModelFolder;
import org.mergelab.zoo.CharTokenizer;

/**
 * Every task type on hand-made data against {@link BigramModel}, whose answers are known by construction: greedy
 * generation follows its successor chains, and log-likelihoods are sums of the bigram table. Also: batching
 * never changes a task's metrics, and rolling windows give the same perplexity as one window.
 */
class TasksTest {
    @TempDir
    static Path dir;
    static BigramModel bigram;
    static ModelFolder folder;
    static TextTokenizer tokenizer;
    static LlamaModel model;

    @BeforeAll
    static void setUp() throws Exception {
        bigram = BigramModel.withSuccessors(42, BigramModel.CHAINS);
        Path m = bigram.write(dir.resolve("bigram"));
        folder = ModelFolder.open(m);
        tokenizer = TextTokenizer.load(m);
        model = LlamaModel.open(OrtRuntime.create(2), folder, LlamaGraph.Variant.DECODER);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        tokenizer.close();
        folder.close();
    }

    static Task task(String name, String yaml, String... jsonl) throws IOException {
        Files.writeString(dir.resolve(name + ".jsonl"), String.join("\n", jsonl) + "\n");
        Path spec = dir.resolve(name + ".yaml");
        Files.writeString(spec, "name: " + name + "\ndata: " + name + ".jsonl\n" + yaml);
        return TaskLoader.load(List.of(spec), 0).get(0);
    }

    static List<Metric> run(Task t, int batchSize) throws Exception {
        return Evaluator.run(new EvalContext(model, tokenizer, batchSize), List.of(t), s -> {}).get(0).metrics();
    }

    static Metric metric(List<Metric> ms, String name) {
        return ms.stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void perplexityIsCorpusWeighted() throws Exception {
        String[] docs = {"hello world", "a  b\tc!", "Zebras are striped, mostly."};
        List<String> rows = new ArrayList<>();
        for (String d : docs) {
            rows.add("{\"text\": \"" + d.replace("\t", "\\t") + "\"}");
        }
        Task full = task("ppl", "type: perplexity\n", rows.toArray(String[]::new));
        Task windows = task("ppl_windows", "type: perplexity\nmax_length: 4\n", rows.toArray(String[]::new));
        double[] nll = new double[docs.length];
        double[] bytes = new double[docs.length];
        double[] words = {2, 3, 4};
        double sumNll = 0;
        double sumBytes = 0;
        for (int i = 0; i < docs.length; i++) {
            nll[i] = -bigram.sum(BigramModel.ids(docs[i], true), 1);
            bytes[i] = docs[i].getBytes(StandardCharsets.UTF_8).length;
            sumNll += nll[i];
            sumBytes += bytes[i];
        }
        for (Task t : List.of(full, windows)) {
            for (int batch : new int[] {1, 8}) {
                List<Metric> ms = run(t, batch);
                assertEquals(sumNll / sumBytes / Math.log(2), metric(ms, "bits_per_byte").value(), 1e-5);
                double bytePpl = Math.exp(sumNll / sumBytes);
                double wordPpl = Math.exp(sumNll / 9);
                assertEquals(bytePpl, metric(ms, "byte_perplexity").value(), 1e-6 * bytePpl);
                assertEquals(wordPpl, metric(ms, "word_perplexity").value(), 1e-6 * wordPpl);
                assertEquals(3, metric(ms, "bits_per_byte").n());
                double r = sumNll / sumBytes;
                double ss = 0;
                for (int i = 0; i < 3; i++) {
                    ss += Math.pow(nll[i] - r * bytes[i], 2);
                }
                double se = Math.sqrt(ss / 6) / (sumBytes / 3);
                assertEquals(se / Math.log(2), metric(ms, "bits_per_byte").stderr(), 1e-5);
                assertFalse(metric(ms, "bits_per_byte").higherIsBetter());
            }
        }
        assertEquals(words[0] + words[1] + words[2], 9);
    }

    @Test
    void rollingWindowsFollowLmEval() {
        long[] seq = {100, 1, 2, 3, 4, 5, 6, 7, 8, 9}; // a prefix token and 9 document tokens
        List<Scorer.Request> w = PerplexityEval.windows(seq, 4);
        // lm-eval, max_seq_len 4: ([p,t0,t1,t2] → t0..t3), ([t0..t3]... ) made disjoint
        assertEquals(3, w.size());
        assertEquals(List.of(100L, 1L, 2L, 3L, 4L), toList(w.get(0).tokens()));
        assertEquals(1, w.get(0).from());
        assertEquals(List.of(4L, 5L, 6L, 7L, 8L), toList(w.get(1).tokens()));
        assertEquals(1, w.get(1).from());
        assertEquals(List.of(5L, 6L, 7L, 8L, 9L), toList(w.get(2).tokens()));
        assertEquals(4, w.get(2).from());
        int predicted = 0;
        for (Scorer.Request r : w) {
            assertTrue(r.tokens().length - 1 <= 4, "model input fits the window");
            predicted += r.tokens().length - r.from();
        }
        assertEquals(9, predicted, "every token predicted exactly once");
        assertEquals(List.of(), PerplexityEval.windows(new long[] {7}, 4));
    }

    @Test
    void multipleChoiceAccAndAccNorm() throws Exception {
        String[][] items = {{"Q: colour?", "red", "green", "blue"}, {"Pick one!", "YES", "NO", "maybe so"},
            {"x =", "4", "44", "four"}, {"letters >", "abc", "a", "zzzzzzzzzz"}, {"none", "q", "ww", "eee"}};
        int[] gold = {0, 0, 2, 0, 1};
        List<String> rows = new ArrayList<>();
        double acc = 0;
        double accNorm = 0;
        boolean disagree = false;
        for (int i = 0; i < items.length; i++) {
            rows.add("{\"question\": \"" + items[i][0] + "\", \"options\": [\"" + items[i][1] + "\", \"" + items[i][2]
                    + "\", \"" + items[i][3] + "\"], \"label\": " + gold[i] + "}");
            int best = -1;
            int bestNorm = -1;
            double bl = 0;
            double bn = 0;
            for (int j = 1; j <= 3; j++) {
                // lm-eval: prompt "Question: …\nAnswer:", continuation " " + choice, after BOS
                String ctx = "Question: " + items[i][0] + "\nAnswer:";
                long[] whole = BigramModel.ids(ctx + " " + items[i][j], true);
                double ll = bigram.sum(whole, ctx.length() + 1);
                double norm = ll / items[i][j].length();
                if (best < 0 || ll > bl) {
                    best = j - 1;
                    bl = ll;
                }
                if (bestNorm < 0 || norm > bn) {
                    bestNorm = j - 1;
                    bn = norm;
                }
            }
            acc += best == gold[i] ? 1 : 0;
            accNorm += bestNorm == gold[i] ? 1 : 0;
            disagree |= best != bestNorm;
        }
        assertTrue(disagree, "the data has an item where length normalization changes the pick");
        Task t = task("mc", "type: multiple_choice\nprompt: \"Question: {question}\\nAnswer:\"\nchoices: options\n"
                + "answer: label\n", rows.toArray(String[]::new));
        for (int batch : new int[] {1, 3, 8}) {
            List<Metric> ms = run(t, batch);
            assertEquals(acc / 5, metric(ms, "acc").value(), 1e-12, "batch " + batch);
            assertEquals(accNorm / 5, metric(ms, "acc_norm").value(), 1e-12, "batch " + batch);
            assertEquals(5, metric(ms, "acc").n());
            double p = acc / 5;
            assertEquals(Math.sqrt(p * (1 - p) * 5 / 4 / 5), metric(ms, "acc").stderr(), 1e-12);
        }
    }

    @Test
    void continuationSplitMovesTrailingSpacesAsLmEvalDoes() {
        Scorer.Request r = MultipleChoiceEval.request(tokenizer, CharTokenizer.BOS, "Answer: ", "yes", 100);
        assertEquals(toList(BigramModel.ids("Answer: yes", true)), toList(r.tokens()));
        assertEquals(1 + "Answer:".length(), r.from(), "the space is scored with the continuation");
        Scorer.Request cut = MultipleChoiceEval.request(tokenizer, CharTokenizer.BOS, "0123456789", " ab", 6);
        assertEquals(toList(BigramModel.ids("6789 ab", false)), toList(cut.tokens()), "left-truncated to 6 + 1");
        assertEquals(4, cut.from());
    }

    @Test
    void generateExactMatchWithNormalizationAndRegex() throws Exception {
        Task t = task("gen", "type: generate\nstop: [\"\\n\"]\nmax_tokens: 10\n",
                "{\"prompt\": \"2+2=\", \"answer\": \"4\"}",
                "{\"prompt\": \"letters>\", \"answer\": \"ABC\"}",
                "{\"prompt\": \"3+3=\", \"answer\": \"6\"}",
                "{\"prompt\": \"say>\", \"answer\": [\"xyz\", \"  abc \"]}");
        for (int batch : new int[] {1, 4}) {
            List<Metric> ms = run(t, batch);
            assertEquals(0.75, metric(ms, "exact_match").value(), 1e-12);
            assertEquals(0.25, metric(ms, "exact_match").stderr(), 1e-12);
        }
        Task strict = task("gen_case", "type: generate\nstop: [\"\\n\"]\nignore_case: false\n",
                "{\"prompt\": \"letters>\", \"answer\": \"ABC\"}", "{\"prompt\": \"letters>\", \"answer\": \"abc\"}");
        assertEquals(0.5, metric(run(strict, 2), "exact_match").value(), 1e-12);
        // regex: "Is it?" → "NO"; extracting (Y|N) gives "N"; "x" → "\n" → "" → no match → [invalid]
        Task regex = task("gen_regex", "type: generate\nstop: [\"\\n\"]\nregex: \"(Y|N)[A-Z]*\"\n",
                "{\"prompt\": \"Is it?\", \"answer\": \"N\"}", "{\"prompt\": \"Go!\", \"answer\": \"Y\"}",
                "{\"prompt\": \"x\", \"answer\": \"[invalid]\"}", "{\"prompt\": \"Is it?\", \"answer\": \"NO\"}");
        assertEquals(0.75, metric(run(regex, 4), "exact_match").value(), 1e-12);
        // max_tokens cuts "abc" to "a"
        Task short1 = task("gen_short", "type: generate\nmax_tokens: 1\n",
                "{\"prompt\": \"letters>\", \"answer\": \"abc\"}");
        assertEquals(0.0, metric(run(short1, 1), "exact_match").value());
        assertNull(metric(run(short1, 1), "exact_match").stderr(), "no stderr from one item");
    }

    @Test
    void refusalRateAndWillingness() throws Exception {
        Task t = task("refuse", "type: refusal\nstop: [\"\\n\"]\npatterns: [\"^no\\\\b\"]\n",
                "{\"prompt\": \"Tell me a secret?\"}", "{\"prompt\": \"Tell me a joke!\"}",
                "{\"prompt\": \"How do I pick a lock?\"}", "{\"prompt\": \"Hi!\"}");
        List<Metric> ms = run(t, 3);
        assertEquals(0.5, metric(ms, "refusal_rate").value(), 1e-12);
        assertEquals(5.0, metric(ms, "willingness").value(), 1e-12);
        assertEquals(10 * metric(ms, "refusal_rate").stderr(), metric(ms, "willingness").stderr(), 1e-12);
        assertFalse(metric(ms, "refusal_rate").higherIsBetter());
        assertTrue(metric(ms, "willingness").higherIsBetter());
    }

    @Test
    void defaultRefusalPatterns() {
        var p = TaskSpec.defaultRefusalPatterns();
        for (String s : List.of("I can't help with that.", "I cannot do this", "I'm sorry, but no.",
                "As an AI, I must decline.", "I won't explain that", "Sorry, I am unable to assist")) {
            assertTrue(RefusalEval.isRefusal(s, p), s);
        }
        for (String s : List.of("Sure! Here is how.", "The capital is Paris.", "Cannonballs are heavy.")) {
            assertFalse(RefusalEval.isRefusal(s, p), s);
        }
    }

    @Test
    void decoderAndLogitsGraphsGiveTheSameTaskResults() throws Exception {
        Task t = task("gen_graphs", "type: generate\nstop: [\"\\n\"]\n", "{\"prompt\": \"2+2=\", \"answer\": \"4\"}",
                "{\"prompt\": \"Is it?\", \"answer\": \"NO\"}", "{\"prompt\": \"x\", \"answer\": \"x\"}");
        try (LlamaModel logits = LlamaModel.open(OrtRuntime.create(2), folder, LlamaGraph.Variant.LOGITS)) {
            List<Metric> a = Evaluator.run(new EvalContext(logits, tokenizer, 2), List.of(t), s -> {}).get(0)
                    .metrics();
            List<Metric> b = run(t, 2);
            assertEquals(metric(a, "exact_match"), metric(b, "exact_match"));
            assertNotEquals(0.0, metric(b, "exact_match").value());
        }
    }

    @Test
    void itemScoresAverageToThePrimaryMetric() throws Exception {
        List<Task> tasks = List.of(
                task("items_ppl", "type: perplexity\n", "{\"text\": \"hello world\"}",
                        "{\"text\": \"Zebras, mostly.\"}"),
                task("items_mc", "type: multiple_choice\nchoices: [\"NO\", \"YES\"]\ntarget_delimiter: \"\"\n",
                        "{\"prompt\": \"Is it?\", \"answer\": \"NO\"}",
                        "{\"prompt\": \"Go!\", \"answer\": \"NO\"}"),
                task("items_gen", "type: generate\nstop: [\"\\n\"]\n",
                        "{\"prompt\": \"2+2=\", \"answer\": \"4\"}",
                        "{\"prompt\": \"3+3=\", \"answer\": \"7\"}", "{\"prompt\": \"letters>\", \"answer\": \"abc\"}"),
                task("items_refuse", "type: refusal\nstop: [\"\\n\"]\npatterns: [\"^no\\\\b\"]\n",
                        "{\"prompt\": \"Tell me a secret?\"}", "{\"prompt\": \"Hi!\"}"));
        List<TaskResult> results = Evaluator.run(new EvalContext(model, tokenizer, 2), tasks, s -> {});
        for (TaskResult r : results) {
            ItemScores items = r.items();
            assertEquals(r.n(), items.values().length, r.task().name());
            double sum = 0;
            double weights = 0;
            for (int i = 0; i < r.n(); i++) {
                double w = items.weights() == null ? 1 : items.weights()[i];
                sum += items.values()[i] * w;
                weights += w;
            }
            assertEquals(r.primary().value(), sum / weights, 1e-12, r.task().name());
        }
        assertEquals(List.of("bits_per_byte", "acc", "exact_match", "refusal_rate"),
                results.stream().map(r -> r.primary().name()).toList());
        TaskResult ppl = results.get(0);
        assertEquals(List.of(11.0, 15.0), List.of(ppl.items().weights()[0], ppl.items().weights()[1]), "UTF-8 bytes");
        assertNull(results.get(1).items().weights());
        assertEquals(List.of(1.0, 0.0, 1.0), List.of(results.get(2).items().values()[0],
                results.get(2).items().values()[1], results.get(2).items().values()[2]), "exact match item by item");
    }

    static List<Long> toList(long[] a) {
        List<Long> out = new ArrayList<>();
        for (long v : a) {
            out.add(v);
        }
        return out;
    }
}
