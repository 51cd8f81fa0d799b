package org.mergelab.experiment;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A sweep spec ({@code experiments/NAME.yaml}, see README "Experiments") as parsed and checked for form: keys, types,
 * aliases, methods, parameter names and ranges. {@link SweepPlan} checks it against the model folders and task files.
 *
 * @param file the spec file
 * @param hash SHA-256 of the spec file's bytes
 * @param name the experiment's name (default: the file name); names the default results folder
 * @param models model folders by alias, in spec order, as absolute paths
 * @param tokenizer a folder whose tokenizer.json every model is evaluated with, or null: each model's own (a merge
 *     uses its donor's, as {@code mergelab merge} copies it)
 * @param references aliases of the models evaluated as they are
 * @param report the spec's {@code report:} section as loaded, untouched (the report package owns it), or null
 */
public record ExperimentSpec(Path file, String hash, String name, Map<String, Path> models, Tasks tasks,
        Path tokenizer, List<String> references, List<Merge> merges, Object report) {

    /**
     * Which tasks run: folder {@code dir/split} holds a split's task files (the format of {@code mergelab eval}).
     *
     * @param names the tasks to run, or empty for every task of each split folder
     * @param limit items per task, 0 for all
     */
    public record Tasks(Path dir, List<String> names, List<String> splits, int limit) {}

    /**
     * One {@code merges:} entry: a method over some models and a grid of parameter values.
     *
     * @param where its key in the spec ({@code merges[2]}), for messages
     * @param method a {@code merge_method} of {@code mergelab merge}, or {@link #LERP}
     * @param base the base model's alias, or null
     * @param parameters one axis per parameter (per model where given so); the grid is their cartesian product
     * @param seeds seeds of the random methods' masks; {@code [0]} for the others
     * @param dtype the merge's dtype (mergekit's {@code dtype}), or null for the models' own
     */
    public record Merge(String where, String method, String base, List<String> models, List<ParamAxis> parameters,
            List<Long> seeds, String dtype) {
        /**
         * The sweep's name for plain linear interpolation from the base ({@code t = 0}) to the other model:
         * mergekit's {@code linear} with weights {@code 1 − t} and {@code t}.
         */
        public static final String LERP = "lerp";
    }

    /**
     * The values one parameter takes: one value, or a grid axis.
     *
     * @param model the alias the values are given for, or null: every model the parameter applies to (a per-model
     *     parameter: every model but the base, or every model when the method treats the base as an ordinary input)
     * @param values numbers ({@code Long} or {@code Double}), booleans or strings
     */
    public record ParamAxis(String name, String model, List<Object> values) {
        /** The parameter's name in result rows and labels: {@code t}, or {@code weight.instruct} for one model's. */
        public String key() {
            return model == null ? name : name + "." + model;
        }
    }

    /** The tasks' split folder, e.g. {@code benchmarks-data/tasks/val}. */
    public Path splitDir(String split) {
        return tasks.dir().resolve(split);
    }

    /** Convenience for messages: {@code experiments/x.yaml: key}. */
    String at(String key) {
        return file + ": " + key;
    }
}
