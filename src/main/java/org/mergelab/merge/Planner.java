package org.mergelab.merge;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.mergelab.BadInputException;
import org.mergelab.io.DType;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.io.OutTensor;
import org.mergelab.io.TensorInfo;
import org.mergelab.merge.methods.MethodRegistry;

/**
 * Turns a config into a {@link MergePlan}. Two stages, both before any tensor data is read: {@link #check} needs only
 * the config (method, model set, parameter names and types); {@link #plan} adds the opened models (tensor sets,
 * shapes, per-tensor parameter values).
 */
public final class Planner {
    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)(?:layers|h|blocks|layer)\\.(\\d+)\\.");

    private Planner() {}

    /** The config's method and model set, checked without touching any model. */
    public record Checked(MergeConfig config, MergeMethod method, MergeMethod.ModelSet models, List<Path> paths,
            List<String> warnings) {}

    public static Checked check(MergeConfig cfg) {
        Path file = cfg.file();
        MergeMethod method = MethodRegistry.find(cfg.method()).orElseThrow(() -> new BadInputException(file
                + ": unknown merge_method '" + cfg.method() + "'; expected one of " + MethodRegistry.names()));
        List<String> names = new ArrayList<>();
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < cfg.models().size(); i++) {
            String name = cfg.models().get(i).model();
            Path p = Path.of(name).toAbsolutePath().normalize();
            int dup = paths.indexOf(p);
            if (dup >= 0) {
                throw new BadInputException(file + ": models[" + i + "] '" + name + "' is listed twice (also models["
                        + dup + "]); list each model once");
            }
            names.add(name);
            paths.add(p);
        }
        int baseIndex = -1;
        if (cfg.baseModel() != null) {
            Path base = Path.of(cfg.baseModel()).toAbsolutePath().normalize();
            baseIndex = paths.indexOf(base);
            if (baseIndex < 0) {
                names.add(cfg.baseModel());
                paths.add(base);
                baseIndex = paths.size() - 1;
            }
        }
        MergeMethod.ModelSet models = new MergeMethod.ModelSet(List.copyOf(names), baseIndex);
        try {
            method.checkModels(models);
        } catch (BadInputException e) {
            throw new BadInputException(file + ": " + e.getMessage());
        }
        List<String> warnings = new ArrayList<>(cfg.warnings());
        checkParameterNames(cfg, method, warnings);
        return new Checked(cfg, method, models, List.copyOf(paths), List.copyOf(warnings));
    }

    private static void checkParameterNames(MergeConfig cfg, MergeMethod method, List<String> warnings) {
        Map<String, ParamSpec> specs = new HashMap<>();
        method.params().forEach(s -> specs.put(s.name(), s));
        Path file = cfg.file();
        cfg.parameters().forEach((name, setting) -> {
            ParamSpec spec = specs.get(name);
            if (spec == null) {
                warnings.add(file + ": parameters." + name + " is not a parameter of " + method.name() + "; ignored");
            } else {
                checkType(file, "parameters." + name, spec, setting);
            }
        });
        for (int i = 0; i < cfg.models().size(); i++) {
            String where = "models[" + i + "].parameters.";
            for (var e : cfg.models().get(i).parameters().entrySet()) {
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

    private static Object convert(Path file, String where, ParamSpec spec, Object v) {
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

    /** Builds the plan over opened models ({@code folders} in the order of {@code checked.paths()}). */
    public static MergePlan plan(Checked checked, List<ModelFolder> folders) {
        MergeConfig cfg = checked.config();
        MergeMethod.ModelSet models = checked.models();
        int donor = models.hasBase() ? models.baseIndex() : 0;
        ModelFolder donorFolder = folders.get(donor);
        checkSameTensorSet(folders, donor);
        int layers = layerCount(donorFolder);
        List<TensorTask> tasks = new ArrayList<>();
        for (ModelTensor dt : donorFolder.tensors()) {
            String name = dt.name();
            List<ModelTensor> inputs = new ArrayList<>();
            for (int i = 0; i < folders.size(); i++) {
                ModelTensor t = folders.get(i).tensor(name);
                if (!t.info().sameShape(dt.info())) {
                    throw new BadInputException(folders.get(i).dir() + ": tensor '" + name + "' has shape "
                            + t.info().shapeString() + " but " + donorFolder.dir() + " has " + dt.info().shapeString()
                            + " (vocabulary resizing is not supported yet)");
                }
                if (t.dtype().isFloat() != dt.dtype().isFloat()) {
                    throw new BadInputException(folders.get(i).dir() + ": tensor '" + name + "' is " + t.dtype()
                            + " but " + donorFolder.dir() + " stores it as " + dt.dtype());
                }
                inputs.add(t);
            }
            if (!dt.dtype().isFloat()) {
                OutTensor out = new OutTensor(name, dt.dtype(), dt.info().shape());
                tasks.add(new TensorTask(out, List.of(), new ResolvedParams(Map.of(), List.of()), 0, dt));
                continue;
            }
            double layerT = layerT(name, layers);
            ResolvedParams params = resolve(checked, name, layerT);
            try {
                checked.method().checkParams(params, models, name);
            } catch (BadInputException e) {
                throw new BadInputException(cfg.file() + ": " + e.getMessage());
            }
            DType outType = cfg.outDtype() != null ? cfg.outDtype() : cfg.dtype() != null ? cfg.dtype() : dt.dtype();
            tasks.add(new TensorTask(new OutTensor(name, outType, dt.info().shape()), List.copyOf(inputs), params,
                    layerT, null));
        }
        return new MergePlan(cfg, checked.method(), models, List.copyOf(folders), donor, List.copyOf(tasks));
    }

    private static void checkSameTensorSet(List<ModelFolder> folders, int donor) {
        ModelFolder d = folders.get(donor);
        for (ModelFolder f : folders) {
            if (f == d) {
                continue;
            }
            for (ModelTensor t : d.tensors()) {
                if (f.tensor(t.name()) == null) {
                    throw new BadInputException(f.dir() + ": has no tensor '" + t.name() + "' (present in " + d.dir()
                            + "); all models must have the same tensors");
                }
            }
            for (ModelTensor t : f.tensors()) {
                if (d.tensor(t.name()) == null) {
                    throw new BadInputException(f.dir() + ": has tensor '" + t.name() + "' that " + d.dir()
                            + " lacks; all models must have the same tensors");
                }
            }
        }
    }

    private static int layerCount(ModelFolder donor) {
        int fromConfig = donor.numHiddenLayers();
        if (fromConfig > 0) {
            return fromConfig;
        }
        int max = -1;
        for (ModelTensor t : donor.tensors()) {
            max = Math.max(max, layerIndex(t.name()));
        }
        return max + 1;
    }

    static int layerIndex(String tensorName) {
        Matcher m = LAYER.matcher(tensorName);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /**
     * Position of a tensor's layer in [0, 1], {@code layer/(L−1)} (1 when there is a single layer). Embeddings, the
     * final norm and lm_head take 0, as mergekit 0.1.x does.
     */
    static double layerT(String tensorName, int layers) {
        int idx = layerIndex(tensorName);
        if (idx < 0) {
            return 0;
        }
        return layers > 1 ? (double) idx / (layers - 1) : 1;
    }

    /** Precedence: the model's own parameters, then the global parameters, then the method's default. */
    static ResolvedParams resolve(Checked checked, String tensor, double layerT) {
        MergeConfig cfg = checked.config();
        MergeMethod method = checked.method();
        MergeMethod.ModelSet models = checked.models();
        Map<String, Object> globals = new LinkedHashMap<>();
        List<Map<String, Object>> perModel = new ArrayList<>();
        for (int i = 0; i < models.count(); i++) {
            perModel.add(new LinkedHashMap<>());
        }
        for (ParamSpec spec : method.params()) {
            if (spec.scope() == ParamSpec.Scope.GLOBAL) {
                Object v = lookup(cfg.parameters(), spec, tensor, layerT, cfg.file(), "parameters.");
                if (v == null) {
                    v = spec.defaultValue();
                }
                if (v == null) {
                    throw new BadInputException(cfg.file() + ": " + method.name() + " needs parameter '" + spec.name()
                            + "'" + (cfg.parameters().containsKey(spec.name())
                                    ? " for tensor '" + tensor + "' (no filter matched it)"
                                    : "; set it under parameters:"));
                }
                globals.put(spec.name(), v);
                continue;
            }
            for (int i = 0; i < models.count(); i++) {
                boolean isBase = i == models.baseIndex();
                if (isBase && method.baseRole() == MergeMethod.BaseRole.SPECIAL) {
                    continue;
                }
                boolean listed = i < cfg.models().size();
                Object v = listed ? lookup(cfg.models().get(i).parameters(), spec, tensor, layerT, cfg.file(),
                        "models[" + i + "].parameters.") : null;
                if (v == null) {
                    v = lookup(cfg.parameters(), spec, tensor, layerT, cfg.file(), "parameters.");
                }
                if (v == null) {
                    v = spec.defaultValue();
                }
                if (v == null) {
                    throw new BadInputException(cfg.file() + ": " + (listed
                            ? "models[" + i + "] (" + models.names().get(i) + ") needs parameter '" + spec.name()
                                    + "' for " + method.name() + (hasSetting(cfg, i, spec.name())
                                            ? " for tensor '" + tensor + "' (no filter matched it)" : "")
                            : "base_model " + models.names().get(i) + " has no '" + spec.name() + "'; " + method.name()
                                    + " treats it as an ordinary input: list it under models with a " + spec.name()
                                    + ", or drop base_model"));
                }
                perModel.get(i).put(spec.name(), v);
            }
        }
        return new ResolvedParams(globals, perModel);
    }

    private static boolean hasSetting(MergeConfig cfg, int model, String name) {
        return cfg.models().get(model).parameters().containsKey(name) || cfg.parameters().containsKey(name);
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
}
