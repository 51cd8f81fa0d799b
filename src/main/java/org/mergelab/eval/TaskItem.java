package org.mergelab.eval;

import java.util.List;

/** One prepared example of a task, with the line of its data file (1-based) for messages. */
public sealed interface TaskItem {
    int line();

    /** A document whose every token is scored. */
    record Document(int line, String text) implements TaskItem {}

    /** A prompt, its choices (scored as {@code delimiter + choice}) and the index of the correct one. */
    record Choice(int line, String prompt, List<String> choices, int gold) implements TaskItem {}

    /** A prompt to continue; {@code answers} are the accepted answers (empty for refusal tasks). */
    record Prompt(int line, String prompt, List<String> answers) implements TaskItem {}
}
