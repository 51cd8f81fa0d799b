package org.mergelab.bench;

import java.nio.file.Path;
import java.util.List;

import org.mergelab.BadInputException;

/** The merge config each benchmarked method runs: two-model interpolations take base + one; task-vector ones two. */
final class BenchConfigs {
    private BenchConfigs() {}

    /** Each model's weight and density in the task-vector configs (the numpy TIES baseline takes the same). */
    static final String WEIGHT = "0.5";
    static final String DENSITY = "0.5";

    static int inputCount(String method) {
        return switch (method) {
            case "linear", "slerp", "nlerp", "delerp", "nearswap", "karcher" -> 2;
            default -> 3;
        };
    }

    static String yaml(String method, List<Path> models) {
        Path base = models.get(0);
        Path a = models.get(1);
        Path b = models.get(2);
        return switch (method) {
            case "linear" -> "merge_method: linear\nmodels:\n  - model: " + base + "\n    parameters: {weight: 0.5}\n"
                    + "  - model: " + a + "\n    parameters: {weight: 0.5}\n";
            case "slerp", "nlerp", "delerp", "nearswap" -> "merge_method: " + method + "\nbase_model: " + base
                    + "\nmodels:\n  - model: " + a + "\nparameters: {t: 0.5}\n";
            case "karcher" -> "merge_method: karcher\nmodels: [" + base + ", " + a + "]\n";
            case "multislerp", "nuslerp" -> "merge_method: " + method + "\nbase_model: " + base + "\nmodels:\n"
                    + "  - model: " + a + "\n    parameters: {weight: 0.5}\n"
                    + "  - model: " + b + "\n    parameters: {weight: 0.5}\n";
            case "task_arithmetic", "ties", "dare_ties", "dare_linear", "breadcrumbs", "breadcrumbs_ties", "della",
                    "della_linear" -> "merge_method: " + method + "\nbase_model: " + base + "\nmodels:\n"
                    + "  - model: " + a + "\n    parameters: {weight: " + WEIGHT + ", density: " + DENSITY + "}\n"
                    + "  - model: " + b + "\n    parameters: {weight: " + WEIGHT + ", density: " + DENSITY + "}\n";
            case "model_stock" -> "merge_method: model_stock\nbase_model: " + base + "\nmodels: [" + a + ", " + b
                    + "]\n";
            default -> throw new BadInputException("bench: no benchmark config for method '" + method + "'");
        };
    }
}
