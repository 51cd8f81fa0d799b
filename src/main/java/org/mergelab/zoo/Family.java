package org.mergelab.zoo;

import java.nio.file.Path;
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

    /** Expert → the task (in benchmarks-data/tasks) that measures its skill. */
    public static final Map<String, String> OWN_TASK = Map.of(MATH, "math", WORDS, "words", FACTS, "facts");

    private Family() {}
}
