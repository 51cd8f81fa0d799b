package org.mergelab.eval;

/**
 * One number a task reports, with its standard error (null when it cannot be estimated, e.g. n = 1) and the number
 * of items behind it.
 */
public record Metric(String name, double value, Double stderr, int n, boolean higherIsBetter) {}
