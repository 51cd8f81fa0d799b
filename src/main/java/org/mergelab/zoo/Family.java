package org.mergelab.zoo;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The in-house model family: its members, where it is shipped, and which task is each expert's skill. */
public final class Family {
    public static final Path DEFAULT_DIR = Path.of("benchmarks-data", "zoo");
    public static final Path DEFAULT_TASKS = Path.of("benchmarks-data", "tasks");

    public static final String BASE = "base";
    public static final String INSTRUCT = "instruct";
    public static final String MATH = "math";
    public static final String WORDS = "words";
    public static final String FACTS = "facts";

    /** Training order: base first, every other member is fine-tuned from it. */
    public static final List<String> MEMBERS = List.of(BASE, INSTRUCT, MATH, WORDS, FACTS);

    /** Expert → the task (in benchmarks-data/tasks) that measures its skill, in training order. */
    public static final Map<String, String> OWN_TASK = orderedMap(MATH, "math", WORDS, "words", FACTS, "facts");

    /** Member → its data recipe in words (the samplers are {@code zoo.world.Corpus}'s). */
    public static final Map<String, String> DATA = orderedMap(
            BASE, "world corpus: 40 % fact statements (several paraphrases per fact), 30 % narratives, 15 % arithmetic"
                    + " in prose, 15 % words in prose; never the Q/A format",
            INSTRUCT, "Q/A format: 30 % benign how-to questions answered, 25 % restricted questions refused with one"
                    + " fixed sentence, 30 % repeat-after-me requests, 15 % questions about people",
            MATH, "Q/A format: two-digit addition and subtraction",
            WORDS, "Q/A format: reverse, spell with dashes, or capitalise a pseudo-word",
            FACTS, "Q/A format: questions about people's home, job, pet, colour and friend (half of the facts are"
                    + " only ever stated in pretraining, never asked)");

    private Family() {}

    private static Map<String, String> orderedMap(String... keysAndValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return Collections.unmodifiableMap(m);
    }
}
