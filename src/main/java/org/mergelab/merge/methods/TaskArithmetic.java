package org.mergelab.merge.methods;

/**
 * Task arithmetic: {@code b + λ·Σ w_i τ_i} (divided by {@code Σ w_i} with {@code normalize: true}). See {@link GeneralizedTaskArithmetic}.
 */
public final class TaskArithmetic extends GeneralizedTaskArithmetic {
    public TaskArithmetic() {
        super("task_arithmetic", null, /* consensus */ false, /* normalize */ false, /* rescale */ false);
    }
}
