package org.mergelab.zoo.world;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.eval.Task;
import org.mergelab.eval.TaskItem;
import org.mergelab.eval.TaskLoader;
import org.mergelab.eval.TaskType;

/** The written task files: loadable by the evaluator, sized as documented, reproducible, and committed as written. */
class TaskSetsTest {
    static final World WORLD = WorldTest.WORLD;
    /** The family's context: BOS + prompt + generated tokens must fit, or the evaluator cuts the prompt. */
    static final int CONTEXT = 128;
    static final Map<String, TaskType> TYPES = Map.of("math", TaskType.GENERATE, "words", TaskType.GENERATE,
            "facts", TaskType.GENERATE, "instruct", TaskType.GENERATE, "restricted", TaskType.REFUSAL,
            "benign", TaskType.REFUSAL, "knowledge", TaskType.MULTIPLE_CHOICE, "narratives", TaskType.PERPLEXITY);

    @TempDir
    static Path fresh;

    @BeforeAll
    static void writeOnce() throws IOException {
        TaskSets.write(WORLD, fresh);
    }

    static Map<String, Task> load(Path dir) throws IOException {
        return TaskLoader.load(List.of(dir), 0).stream().collect(Collectors.toMap(Task::name, Function.identity()));
    }

    @Test
    void everyTaskLoadsWithItsTypeAndCount() throws IOException {
        for (String split : List.of("val", "test")) {
            Map<String, Task> tasks = load(fresh.resolve(split));
            assertEquals(TYPES.keySet(), tasks.keySet());
            for (Task t : tasks.values()) {
                assertEquals(TYPES.get(t.name()), t.spec().type(), t.name());
                int expected = t.name().equals("narratives")
                        ? split.equals("test") ? HeldOut.TEST_NARRATIVES : HeldOut.VAL_NARRATIVES
                        : split.equals("test") ? HeldOut.TEST_ITEMS : HeldOut.VAL_ITEMS;
                assertEquals(expected, t.items().size(), split + "/" + t.name());
                for (TaskItem item : t.items()) {
                    switch (item) {
                        case TaskItem.Prompt p -> {
                            assertEquals(List.of("\n"), t.spec().stop());
                            assertTrue(1 + p.prompt().length() + t.spec().maxTokens() <= CONTEXT, p.prompt());
                            p.answers().forEach(a -> assertTrue(a.length() + 2 <= t.spec().maxTokens(), a));
                        }
                        case TaskItem.Choice c -> {
                            assertEquals(4, c.choices().size());
                            assertEquals(4, new HashSet<>(c.choices()).size(), c.choices().toString());
                            assertEquals(" ", t.spec().targetDelimiter());
                        }
                        case TaskItem.Document d -> assertTrue(d.text().length() <= Phrasebook.MAX_CHARS, d.text());
                    }
                }
            }
            assertFalse(tasks.get("words").spec().ignoreCase(), "capitals must be checked");
        }
    }

    @Test
    void answersAreTheWorldsFacts() throws IOException {
        Task facts = load(fresh.resolve("test")).get("facts");
        Task knowledge = load(fresh.resolve("test")).get("knowledge");
        for (int i = 0; i < facts.items().size(); i++) {
            TaskItem.Prompt p = (TaskItem.Prompt) facts.items().get(i);
            TaskItem.Choice c = (TaskItem.Choice) knowledge.items().get(i);
            assertEquals(p.prompt(), c.prompt());
            assertEquals(p.answers(), List.of(c.choices().get(c.gold())));
            assertTrue(CorpusTest.isTrueFact(new Example(p.prompt(), " " + p.answers().getFirst())), p.prompt());
        }
    }

    @Test
    void refusalPatternsSeparateTheRefusalFromAnswers() throws IOException {
        Task restricted = load(fresh.resolve("test")).get("restricted");
        Task benign = load(fresh.resolve("test")).get("benign");
        assertEquals(restricted.spec().refusalPatterns().toString(), benign.spec().refusalPatterns().toString());
        var patterns = restricted.spec().refusalPatterns();
        assertTrue(patterns.stream().anyMatch(p -> p.matcher(" " + Corpus.refusal()).find()));
        for (Phrasebook.HowTo h : Phrasebook.BENIGN) {
            assertTrue(patterns.stream().noneMatch(p -> p.matcher(h.answer().text()).find()), h.answer().text());
        }
        Set<String> restrictedPrompts = prompts(restricted);
        assertTrue(prompts(benign).stream().noneMatch(restrictedPrompts::contains));
    }

    @Test
    void splitsAreDisjoint() throws IOException {
        Map<String, Task> val = load(fresh.resolve("val"));
        Map<String, Task> test = load(fresh.resolve("test"));
        for (String name : TYPES.keySet()) {
            Set<String> v = prompts(val.get(name));
            assertEquals(val.get(name).items().size(), v.size(), name + ": no duplicates within a split");
            assertTrue(prompts(test.get(name)).stream().noneMatch(v::contains), name);
        }
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes(@TempDir Path again, @TempDir Path other) throws IOException {
        TaskSets.write(World.generate(World.DEFAULT_SEED), again);
        assertSameFiles(files(fresh), files(again));
        TaskSets.write(World.generate(World.DEFAULT_SEED + 1), other);
        Map<String, byte[]> a = files(fresh);
        Map<String, byte[]> b = files(other);
        assertEquals(a.keySet(), b.keySet());
        for (String f : a.keySet()) {
            if (f.endsWith(".jsonl")) {
                assertFalse(java.util.Arrays.equals(a.get(f), b.get(f)), f);
            }
        }
    }

    /** The committed benchmarks-data/tasks are exactly what the default seed writes (regenerate: see its README). */
    @Test
    void committedTaskFilesMatchARegeneration() throws IOException {
        Path committed = Path.of("benchmarks-data", "tasks");
        Map<String, byte[]> files = files(committed);
        assertTrue(files.containsKey("README.md"), "benchmarks-data/tasks/README.md");
        files.remove("README.md");
        assertSameFiles(files(fresh), files);
    }

    private static void assertSameFiles(Map<String, byte[]> expected, Map<String, byte[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        assertEquals(2 * 2 * TYPES.size(), expected.size(), "a YAML and a JSONL per task and split");
        expected.forEach((f, bytes) -> assertArrayEquals(bytes, actual.get(f), f));
    }

    private static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        }
        return out;
    }

    private static Set<String> prompts(Task t) {
        return t.items().stream().map(i -> switch (i) {
            case TaskItem.Prompt p -> p.prompt();
            case TaskItem.Choice c -> c.prompt();
            case TaskItem.Document d -> d.text();
        }).collect(Collectors.toSet());
    }

    @Test
    void differentTasksOfASplitAskDifferentThings() throws IOException {
        Map<String, Task> test = load(fresh.resolve("test"));
        Set<String> seen = new HashSet<>();
        for (String name : List.of("math", "words", "facts", "instruct", "restricted", "benign", "narratives")) {
            for (String p : prompts(test.get(name))) {
                assertTrue(seen.add(p), name + ": " + p);
            }
        }
        assertNotEquals(0, seen.size());
    }
}
