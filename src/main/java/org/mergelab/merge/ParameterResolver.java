package org.mergelab.merge;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.mergelab.BadInputException;

/**
 * Checks parameter names and types against a method's declarations, and resolves values per tensor with mergekit's
 * precedence: the source's own parameters (matched against the input tensor name), then the slice's, then the global
 * ones (both matched against the output tensor name), then the method default.
 */
final class ParameterResolver {
    private ParameterResolver() {}

    /** Warnings for unknown or misplaced parameters; errors for values of the wrong type. */
    static void checkNames(MergeConfig cfg, MergeMethod method, List<Planner.Slice> slices, List<String> warnings) {
        Map<String, ParamSpec> specs = new HashMap<>();
        method.params().forEach(s -> specs.put(s.name(), s));
        Path file = cfg.file();
        checkLevel(file, "parameters.", cfg.parameters(), specs, method, warnings);
        for (Planner.Slice slice : slices) {
            if (!slice.where().isEmpty()) {
                checkLevel(file, slice.where() + ".parameters.", slice.params(), specs, method, warnings);
            }
            for (Planner.Source src : slice.sources()) {
                String where = src.where() + ".parameters.";
                for (var e : src.params().entrySet()) {
                    ParamSpec spec = specs.get(e.getKey());
                    if (spec == null) {
                        warnings.add(file + ": " + where + e.getKey() + " is not a parameter of " + method.name()
                                + "; ignored");
                    } else if (spec.scope() == ParamSpec.Scope.GLOBAL) {
                        warnings.add(file + ": " + where + e.getKey() + " has no effect: '" + e.getKey()
                                + "' is a global parameter of " + method.name() + "; set it under parameters:");
                    } else {
                        checkType(file, where + e.getKey(), spec, e.getValue());
                    }
                }
            }
        }
    }

    private static void checkLevel(Path file, String where, Map<String, ParameterSetting> settings,
            Map<String, ParamSpec> specs, MergeMethod method, List<String> warnings) {
        settings.forEach((name, setting) -> {
            ParamSpec spec = specs.get(name);
            if (spec == null) {
                warnings.add(file + ": " + where + name + " is not a parameter of " + method.name() + "; ignored");
            } else {
                checkType(file, where + name, spec, setting);
            }
        });
    }

    /** Every value a setting can produce must fit the parameter's kind. */
    private static void checkType(Path file, String where, ParamSpec spec, ParameterSetting setting) {
        switch (setting) {
            case ParameterSetting.Scalar s -> convert(file, where, spec, s.value());
            case ParameterSetting.Gradient g -> {
                if (spec.kind() != ParamSpec.Kind.NUMBER) {
                    throw new BadInputException(file + ": " + where + " is a list of numbers; expected "
                            + kindName(spec.kind()));
                }
                for (double anchor : g.anchors()) {
                    convert(file, where, spec, anchor);
                }
            }
            case ParameterSetting.Steps st -> st.values().forEach(v -> convert(file, where, spec, v));
            case ParameterSetting.Conditionals c -> {
                for (int i = 0; i < c.cases().size(); i++) {
                    checkType(file, where + "[" + i + "].value", spec, c.cases().get(i).value());
                }
            }
        }
    }

    static Object convert(Path file, String where, ParamSpec spec, Object v) {
        switch (spec.kind()) {
            case NUMBER -> {
                if (v instanceof Double d && Double.isFinite(d)) {
                    return d;
                }
            }
            case INTEGER -> {
                if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < Integer.MAX_VALUE) {
                    return (int) d.doubleValue();
                }
            }
            case BOOLEAN -> {
                if (v instanceof Boolean b) {
                    return b;
                }
            }
            case CHOICE -> {
                if (v instanceof String str && spec.choices().contains(str)) {
                    return str;
                }
                throw new BadInputException(file + ": " + where + " is '" + v + "'; expected one of "
                        + String.join(", ", spec.choices()));
            }
        }
        throw new BadInputException(file + ": " + where + " is '" + v + "'; expected " + kindName(spec.kind()));
    }

    private static String kindName(ParamSpec.Kind kind) {
        return switch (kind) {
            case NUMBER -> "a number";
            case INTEGER -> "an integer";
            case BOOLEAN -> "true or false";
            case CHOICE -> "one of the listed words";
        };
    }

    /**
     * Values for one output tensor of {@code slice}.
     *
     * @param inputNames the tensor name read from each source (differs from {@code output} when layers are renumbered)
     */
    static ResolvedParams resolve(MergeConfig cfg, MergeMethod method, Planner.Slice slice, List<String> inputNames,
            String output, double layerT) {
        Map<String, Object> globals = new LinkedHashMap<>();
        List<Map<String, Object>> perModel = new ArrayList<>();
        for (int i = 0; i < slice.sources().size(); i++) {
            perModel.add(new LinkedHashMap<>());
        }
        Path file = cfg.file();
        for (ParamSpec spec : method.params()) {
            if (spec.scope() == ParamSpec.Scope.GLOBAL) {
                Object v = sliceOrGlobal(cfg, slice, spec, output, layerT);
                if (v == null) {
                    boolean set = cfg.parameters().containsKey(spec.name()) || slice.params().containsKey(spec.name());
                    throw new BadInputException(file + ": " + method.name() + " needs parameter '" + spec.name() + "'"
                            + (set ? " for tensor '" + output + "' (no filter matched it)"
                                    : "; set it under parameters:"));
                }
                globals.put(spec.name(), v);
                continue;
            }
            for (int i = 0; i < slice.sources().size(); i++) {
                Planner.Source src = slice.sources().get(i);
                if (i == slice.base() && method.baseRole() == MergeMethod.BaseRole.SPECIAL) {
                    continue;
                }
                Object v = lookup(src.params(), spec, inputNames.get(i), layerT, file, src.where() + ".parameters.");
                if (v == null) {
                    v = sliceOrGlobal(cfg, slice, spec, output, layerT);
                }
                if (v == null) {
                    boolean set = src.params().containsKey(spec.name()) || cfg.parameters().containsKey(spec.name())
                            || slice.params().containsKey(spec.name());
                    throw new BadInputException(file + ": " + (src.appendedBase()
                            ? "base_model " + src.name() + " has no '" + spec.name() + "'; " + method.name()
                                    + " treats it as an ordinary input: list it under models with a " + spec.name()
                                    + ", or drop base_model"
                            : src.where() + " (" + src.name() + ") needs parameter '" + spec.name() + "' for "
                                    + method.name() + (set ? " for tensor '" + output + "' (no filter matched it)"
                                            : "")));
                }
                perModel.get(i).put(spec.name(), v);
            }
        }
        return new ResolvedParams(globals, perModel);
    }

    private static Object sliceOrGlobal(MergeConfig cfg, Planner.Slice slice, ParamSpec spec, String output,
            double layerT) {
        Object v = lookup(slice.params(), spec, output, layerT, cfg.file(), slice.where() + ".parameters.");
        if (v == null) {
            v = lookup(cfg.parameters(), spec, output, layerT, cfg.file(), "parameters.");
        }
        return v != null ? v : spec.defaultValue();
    }

    private static Object lookup(Map<String, ParameterSetting> settings, ParamSpec spec, String tensor, double layerT,
            Path file, String where) {
        ParameterSetting s = settings.get(spec.name());
        if (s != null) {
            Optional<Object> v = s.resolve(tensor, layerT);
            if (v.isPresent()) {
                return convert(file, where + spec.name(), spec, v.get());
            }
        }
        return null;
    }

    /** Every filter string used anywhere in the config's parameters. */
    static List<String> filters(MergeConfig cfg, List<Planner.Slice> slices) {
        List<String> out = new ArrayList<>();
        collect(cfg.parameters(), out);
        for (Planner.Slice s : slices) {
            collect(s.params(), out);
            s.sources().forEach(src -> collect(src.params(), out));
        }
        return out;
    }

    private static void collect(Map<String, ParameterSetting> settings, List<String> out) {
        for (ParameterSetting s : settings.values()) {
            if (s instanceof ParameterSetting.Conditionals c) {
                for (var k : c.cases()) {
                    if (k.filter() != null && !k.filter().equals("*") && !out.contains(k.filter())) {
                        out.add(k.filter());
                    }
                }
            }
        }
    }
}
