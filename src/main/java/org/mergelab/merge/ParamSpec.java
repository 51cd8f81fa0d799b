package org.mergelab.merge;

import java.util.List;

/**
 * A parameter a merge method declares: its name, whether it is set once for the merge or per model, its type, and
 * its default ({@code null} = required). {@code CHOICE} parameters take one of {@code choices} (strings).
 */
public record ParamSpec(String name, Scope scope, Kind kind, Object defaultValue, List<String> choices) {
    public enum Scope { GLOBAL, PER_MODEL }

    public enum Kind { NUMBER, BOOLEAN, INTEGER, CHOICE }

    public ParamSpec {
        choices = List.copyOf(choices);
    }

    public static ParamSpec global(String name, Kind kind, Object defaultValue) {
        return new ParamSpec(name, Scope.GLOBAL, kind, defaultValue, List.of());
    }

    public static ParamSpec perModel(String name, Kind kind, Object defaultValue) {
        return new ParamSpec(name, Scope.PER_MODEL, kind, defaultValue, List.of());
    }

    /** A global parameter taking one of {@code choices}; the default is the first. */
    public static ParamSpec choice(String name, String... choices) {
        return new ParamSpec(name, Scope.GLOBAL, Kind.CHOICE, choices[0], List.of(choices));
    }

    public boolean required() {
        return defaultValue == null;
    }
}
