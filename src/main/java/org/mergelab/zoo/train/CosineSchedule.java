package org.mergelab.zoo.train;

/**
 * The learning rate of step {@code s} (0-based) of a run: linear warm-up from 0 to {@code peak} over
 * {@code warmupSteps}, then a cosine decay to {@code floor} at {@code totalSteps} (held after it). The trainer takes
 * the rate per step ({@link LlamaTrainer#step}), so a schedule is just this function.
 */
public record CosineSchedule(double peak, double floor, int warmupSteps, int totalSteps) {
    public CosineSchedule {
        if (!(peak > 0) || !(floor >= 0) || floor > peak || warmupSteps < 0 || totalSteps <= warmupSteps) {
            throw new IllegalArgumentException("need peak > 0, 0 <= floor <= peak, 0 <= warmup < total: " + peak
                    + ", " + floor + ", " + warmupSteps + ", " + totalSteps);
        }
    }

    public double at(int step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        double progress = Math.min(1.0, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
        return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
