package org.mergelab.zoo.world;

/**
 * One training document of the in-house family: {@code prompt + completion} is the text the model sees (after BOS,
 * followed by EOS). The loss covers the completion (and EOS) only; pretraining documents have an empty prompt, so
 * every token counts.
 */
public record Example(String prompt, String completion) {
    public Example {
        if (prompt == null || completion == null) {
            throw new IllegalArgumentException("prompt and completion must not be null");
        }
    }

    /** A pretraining document: loss on every character. */
    public static Example text(String text) {
        return new Example("", text);
    }

    public String text() {
        return prompt + completion;
    }
}
