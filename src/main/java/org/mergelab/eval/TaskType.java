package org.mergelab.eval;

import java.util.Arrays;
import java.util.Locale;

/** The kinds of task, spelled in task files as {@link #key()}. */
public enum TaskType {
    /** Rolling log-likelihood of whole documents: bits_per_byte, byte_perplexity, word_perplexity. */
    PERPLEXITY,
    /** Log-likelihood of each choice after the prompt: acc and acc_norm. */
    MULTIPLE_CHOICE,
    /** Greedy generation compared with the answer: exact_match. */
    GENERATE,
    /** Greedy generation classified as refusal or not: refusal_rate and willingness. */
    REFUSAL;

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a task file's {@code type}; null when unknown. */
    static TaskType of(String key) {
        return Arrays.stream(values()).filter(t -> t.key().equals(key)).findFirst().orElse(null);
    }

    /** The metric a task of this type is summarized by, and whose per-item values {@link ItemScores} keeps. */
    public String primaryMetric() {
        return switch (this) {
            case PERPLEXITY -> "bits_per_byte";
            case MULTIPLE_CHOICE -> "acc";
            case GENERATE -> "exact_match";
            case REFUSAL -> "refusal_rate";
        };
    }

    /** Whether the task generates text (and so wants the KV-cache graph). */
    public boolean generates() {
        return this == GENERATE || this == REFUSAL;
    }
}
