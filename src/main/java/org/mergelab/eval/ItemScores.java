package org.mergelab.eval;

/**
 * A task's primary metric ({@link TaskType#primaryMetric()}) item by item, in task-file order, so results can be
 * compared item against item (paired bootstrap). The task's value is the mean of {@code values}, or with
 * {@code weights} (a corpus-weighted metric such as bits_per_byte, weighted by UTF-8 bytes)
 * {@code Σ values·weights / Σ weights}.
 *
 * @param weights null when the metric is a plain mean
 */
public record ItemScores(double[] values, double[] weights) {}
