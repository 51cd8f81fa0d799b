package org.mergelab.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.BadInputException;

/** Task files and their data: what they mean, and one-line errors naming file and line for what is wrong. */
class TaskLoaderTest {
    @TempDir
    Path dir;

    Path spec(String name, String yaml) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, yaml);
        return p;
    }

    Path data(String name, String... lines) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n");
        return p;
    }

    String error(Path spec) {
        return assertThrows(BadInputException.class, () -> TaskLoader.load(List.of(spec), 0)).getMessage();
    }

    @Test
    void readsEverySettingWithDefaults() throws Exception {
        data("d.jsonl", "{\"q\": \"2+2\", \"a\": 4}", "", "{\"q\": \"3+3\", \"a\": [\"6\", \"six\"]}");
        Path s = spec("arith.yml", "type: generate\ndata: d.jsonl\nprompt: \"Q: {q}?\\nA:\"\nanswer: a\n"
                + "stop: [\"\\n\", \"Q:\"]\nmax_tokens: 8\nregex: \"(\\\\d+)\"\n");
        Task t = TaskLoader.load(List.of(s), 0).get(0);
        assertEquals("arith", t.name(), "name defaults to the file stem");
        assertEquals(TaskType.GENERATE, t.spec().type());
        assertEquals(List.of("\n", "Q:"), t.spec().stop());
        assertEquals(8, t.spec().maxTokens());
        assertEquals("(\\d+)", t.spec().regex().pattern());
        assertTrue(t.spec().addBos());
        assertTrue(t.spec().ignoreCase());
        assertEquals(List.of(new TaskItem.Prompt(1, "Q: 2+2?\nA:", List.of("4")),
                new TaskItem.Prompt(3, "Q: 3+3?\nA:", List.of("6", "six"))), t.items());
        assertTrue(t.hash().matches("sha256:[0-9a-f]{64}"));
        assertEquals(1, TaskLoader.load(List.of(s), 1).get(0).items().size(), "--limit keeps the first items");
    }

    @Test
    void hashCoversTaskFileAndData() throws Exception {
        data("d.jsonl", "{\"text\": \"abc\"}");
        Path s = spec("p.yaml", "type: perplexity\ndata: d.jsonl\n");
        String h1 = TaskLoader.load(List.of(s), 0).get(0).hash();
        data("d.jsonl", "{\"text\": \"abd\"}");
        String h2 = TaskLoader.load(List.of(s), 0).get(0).hash();
        spec("p.yaml", "type: perplexity\ndata: d.jsonl\nadd_bos: false\n");
        String h3 = TaskLoader.load(List.of(s), 0).get(0).hash();
        assertNotEquals(h1, h2);
        assertNotEquals(h2, h3);
    }

    @Test
    void multipleChoiceLiteralChoicesAndTextAnswers() throws Exception {
        data("mc.jsonl", "{\"prompt\": \"Is water wet?\", \"answer\": \"yes\"}", "{\"prompt\": \"Is fire cold?\","
                + " \"answer\": 1}");
        Path s = spec("mc.json", "{\"type\": \"multiple_choice\", \"data\": \"mc.jsonl\","
                + " \"choices\": [\"yes\", \"no\"],"
                + " \"target_delimiter\": \"  \"}");
        Task t = TaskLoader.load(List.of(s), 0).get(0);
        assertEquals(List.of(new TaskItem.Choice(1, "Is water wet?", List.of("yes", "no"), 0),
                new TaskItem.Choice(2, "Is fire cold?", List.of("yes", "no"), 1)), t.items());
        assertEquals("  ", t.spec().targetDelimiter());
    }

    @Test
    void foldersLoadSortedAndNamesMustBeUnique() throws Exception {
        data("d.jsonl", "{\"text\": \"abc\"}");
        spec("b.yaml", "type: perplexity\ndata: d.jsonl\n");
        spec("a.json", "{\"type\": \"perplexity\", \"data\": \"d.jsonl\"}");
        Files.writeString(dir.resolve("notes.txt"), "ignored");
        assertEquals(List.of("a", "b"), TaskLoader.load(List.of(dir), 0).stream().map(Task::name).toList());
        spec("c.yaml", "type: perplexity\nname: a\ndata: d.jsonl\n");
        assertEquals(dir.resolve("c.yaml") + ": task name 'a' is also used by " + dir.resolve("a.json"),
                assertThrows(BadInputException.class, () -> TaskLoader.load(List.of(dir), 0)).getMessage());
    }

    @Test
    void taskFileErrorsNameFileAndLine() throws Exception {
        data("d.jsonl", "{\"text\": \"abc\", \"prompt\": \"p\", \"answer\": \"a\"}");
        Path f = dir.resolve("t.yaml");
        assertEquals(f + ":2: unknown type 'mcq'; expected one of perplexity, multiple_choice, generate, refusal",
                error(spec("t.yaml", "data: d.jsonl\ntype: mcq\n")));
        assertEquals(f + ":1: missing 'type'; expected one of perplexity, multiple_choice, generate, refusal",
                error(spec("t.yaml", "data: d.jsonl\n")));
        assertEquals(f + ":3: unknown key 'stops' for a generate task; expected one of [add_bos, answer, data,"
                + " ignore_case, max_length, max_tokens, name, prompt, regex, stop, type]",
                error(spec("t.yaml", "type: generate\ndata: d.jsonl\nstops: [x]\n")));
        assertEquals(f + ":3: unknown key 'stop' for a perplexity task; expected one of [add_bos, data, max_length,"
                + " name, prompt, type]", error(spec("t.yaml", "type: perplexity\ndata: d.jsonl\nstop: [x]\n")));
        assertEquals(f + ":3: duplicate key 'data'", error(spec("t.yaml", "type: perplexity\ndata: d.jsonl\n"
                + "data: e.jsonl\n")));
        assertTrue(error(spec("t.yaml", "type: perplexity\n  data: d.jsonl\n")).startsWith(f + ":2: "),
                "YAML syntax errors carry the line");
        assertEquals(f + ":2: data file " + dir.resolve("nope.jsonl") + " not found",
                error(spec("t.yaml", "type: perplexity\ndata: nope.jsonl\n")));
        assertEquals(f + ":3: expected an integer >= 1", error(spec("t.yaml", "type: generate\ndata: d.jsonl\n"
                + "max_tokens: lots\n")));
        assertEquals(f + ":3: expected true or false", error(spec("t.yaml", "type: perplexity\ndata: d.jsonl\n"
                + "add_bos: maybe\n")));
        assertEquals(f + ":3: invalid regular expression '(\\d+': Unclosed group",
                error(spec("t.yaml", "type: generate\ndata: d.jsonl\nregex: \"(\\\\d+\"\n")));
        assertEquals(f + ":3: prompt template has a lone '}' at character 3; write }} for a literal brace",
                error(spec("t.yaml", "type: generate\ndata: d.jsonl\nprompt: \"ab}\"\n")));
        assertEquals(f + ":3: an empty stop string would stop every generation at once",
                error(spec("t.yaml", "type: generate\ndata: d.jsonl\nstop: [\"\"]\n")));
        assertEquals(f + ":1: expected a mapping of task settings (name, type, data, ...)", error(spec("t.yaml",
                "- type: generate\n")));
    }

    @Test
    void dataErrorsNameFileAndLine() throws Exception {
        Path d = dir.resolve("d.jsonl");
        spec("g.yaml", "type: generate\ndata: d.jsonl\nprompt: \"Q: {question}\"\n");
        Path g = dir.resolve("g.yaml");
        data("d.jsonl", "{\"question\": \"x\", \"answer\": \"y\"}", "{\"question\": \"x\", \"answer\": ");
        assertTrue(error(g).startsWith(d + ":2: not valid JSON: "), error(g));
        data("d.jsonl", "[1, 2]");
        assertEquals(d + ":1: expected a JSON object per line", error(g));
        data("d.jsonl", "{\"question\": \"x\", \"answer\": \"y\"}", "", "{\"q\": \"x\", \"answer\": \"y\"}");
        assertEquals(d + ":3: no field 'question' (used by the prompt template at " + g + ":3)", error(g));
        data("d.jsonl", "{\"question\": {\"a\": 1}, \"answer\": \"y\"}");
        assertEquals(d + ":1: field 'question' is an object; the prompt template needs text, a number or a boolean",
                error(g));
        data("d.jsonl", "{\"question\": \"x\"}");
        assertEquals(d + ":1: field 'answer' is missing; expected the answer (text or list of texts)", error(g));
        data("d.jsonl", "");
        assertEquals(d + ": no examples (one JSON object per line expected)", error(g));

        Path mc = spec("mc.yaml", "type: multiple_choice\ndata: d.jsonl\n");
        data("d.jsonl", "{\"prompt\": \"p\", \"choices\": [\"a\", \"b\"], \"answer\": 2}");
        assertEquals(d + ":1: answer index 2 is outside 0..1", error(mc));
        data("d.jsonl", "{\"prompt\": \"p\", \"choices\": [\"a\", \"b\"], \"answer\": \"c\"}");
        assertEquals(d + ":1: answer 'c' is not one of the choices [a, b]", error(mc));
        data("d.jsonl", "{\"prompt\": \"p\", \"choices\": \"a\", \"answer\": 0}");
        assertEquals(d + ":1: field 'choices' is a string; expected the list of choices", error(mc));
        data("d.jsonl", "{\"prompt\": \"p\", \"choices\": [\"a\"], \"answer\": 0}");
        assertEquals(d + ":1: 1 choice(s); multiple choice needs at least 2", error(mc));
    }
}
