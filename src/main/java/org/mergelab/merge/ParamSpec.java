package org.mergelab.merge;

/**
 * A parameter a merge method declares: its name, whether it is set once for the merge or per model, its type, and
 * its default ({@code null} = required).
 */
public record ParamSpec(String name, Scope scope, Kind kind, Object defaultValue) {
    public enum Scope { GLOBAL, PER_MODEL }

    public enum Kind { NUMBER, BOOLEAN, INTEGER }

    public static ParamSpec global(String name, Kind kind, Object defaultValue) {
        return new ParamSpec(name, Scope.GLOBAL, kind, defaultValue);
    }

    public static ParamSpec perModel(String name, Kind kind, Object defaultValue) {
        return new ParamSpec(name, Scope.PER_MODEL, kind, defaultValue);
    }

    public boolean required() {
        return defaultValue == null;
    }
}
