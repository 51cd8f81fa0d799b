package org.mergelab.merge;

import java.util.List;
import java.util.Map;

/**
 * Parameter values for one output tensor after filters, gradients, precedence and defaults: globals once, per-model
 * values per input (in input order). Types are checked when the plan is built, so the getters cannot fail on bad
 * input; an absent optional parameter reads as its default.
 */
public record ResolvedParams(Map<String, Object> globals, List<Map<String, Object>> perModel) {
    public ResolvedParams {
        globals = Map.copyOf(globals);
        perModel = perModel.stream().map(Map::copyOf).toList();
    }

    public double number(String name) {
        return ((Number) get(globals, name)).doubleValue();
    }

    public int integer(String name) {
        return ((Number) get(globals, name)).intValue();
    }

    public boolean flag(String name) {
        return (Boolean) get(globals, name);
    }

    /** A {@link ParamSpec.Kind#CHOICE} parameter's value. */
    public String choice(String name) {
        return (String) get(globals, name);
    }

    public double number(String name, int input) {
        return ((Number) get(perModel.get(input), name)).doubleValue();
    }

    /** Whether input {@code input} has a value for per-model parameter {@code name} (none on a base model). */
    public boolean has(String name, int input) {
        return perModel.get(input).containsKey(name);
    }

    private static Object get(Map<String, Object> m, String name) {
        Object v = m.get(name);
        if (v == null) {
            throw new IllegalStateException("parameter '" + name + "' was not resolved");
        }
        return v;
    }
}
