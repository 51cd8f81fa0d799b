package org.mergelab.merge;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.mergelab.BadInputException;
import org.mergelab.io.DType;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/** Reads mergekit YAML into a {@link MergeConfig}; every problem is one line naming the file and the key. */
public final class ConfigParser {
    private static final Set<String> TOP_LEVEL = Set.of("merge_method", "base_model", "models", "slices", "modules",
            "parameters", "dtype", "out_dtype", "tokenizer_source", "tokenizer", "chat_template", "name");

    private ConfigParser() {}

    public static MergeConfig parse(Path file) throws IOException {
        return parse(file, readText(file));
    }

    /** A config file's text; a missing, unreadable or non-UTF-8 file is bad input naming the file. */
    public static String readText(Path file) throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": config file not found");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new BadInputException(file + ": not UTF-8 text");
        } catch (IOException e) {
            // a folder, a special file, no permission: still the user's input, so one line and exit code 2
            throw new BadInputException(file + ": cannot read the config file ("
                    + (Files.isDirectory(file) ? "it is a folder" : oneLine(e.getMessage())) + ")");
        }
    }

    public static MergeConfig parse(Path file, String text) {
        Object root = loadYaml(file, text);
        if (root == null) {
            throw new BadInputException(file + ": empty config; expected a mapping with merge_method and models");
        }
        Map<String, Object> top = mapping(file, root, "the top level");
        List<String> warnings = new ArrayList<>();
        for (String key : top.keySet()) {
            if (!TOP_LEVEL.contains(key)) {
                warnings.add(file + ": unknown key '" + key + "' ignored");
            }
        }
        if (top.containsKey("modules")) {
            throw new BadInputException(file + ": 'modules:' configs (multi-module models) are not supported yet;"
                    + " use 'models:' or 'slices:'");
        }
        if (top.containsKey("chat_template")) {
            warnings.add(file + ": chat_template is not applied yet; the donor's tokenizer_config.json is copied as is");
        }
        String method = string(file, top.get("merge_method"), "merge_method", true);
        String base = string(file, top.get("base_model"), "base_model", false);
        Object modelsNode = top.get("models");
        Object slicesNode = top.get("slices");
        if (modelsNode != null && slicesNode != null) {
            throw new BadInputException(file + ": set either 'models:' or 'slices:', not both");
        }
        if (modelsNode == null && slicesNode == null) {
            throw new BadInputException(file + ": missing 'models:' (the list of models to merge) or 'slices:'");
        }
        List<MergeConfig.ModelEntry> models = new ArrayList<>();
        List<MergeConfig.OutputSlice> slices = new ArrayList<>();
        if (modelsNode != null) {
            if (!(modelsNode instanceof List<?> modelList) || modelList.isEmpty()) {
                throw new BadInputException(file
                        + ": 'models' must be a non-empty list of {model: PATH, parameters: {...}}");
            }
            for (int i = 0; i < modelList.size(); i++) {
                models.add(modelEntry(file, modelList.get(i), "models[" + i + "]"));
            }
        } else {
            if (!(slicesNode instanceof List<?> sliceList) || sliceList.isEmpty()) {
                throw new BadInputException(file + ": 'slices' must be a non-empty list of {sources: [...]}");
            }
            for (int i = 0; i < sliceList.size(); i++) {
                slices.add(outputSlice(file, sliceList.get(i), "slices[" + i + "]", warnings));
            }
        }
        Map<String, ParameterSetting> params = parameters(file, top.get("parameters"), "parameters");
        DType dtype = dtype(file, top.get("dtype"), "dtype");
        DType outDtype = dtype(file, top.get("out_dtype"), "out_dtype");
        String tokenizerSource = tokenizerSource(file, top);
        return new MergeConfig(file, text, method, base, List.copyOf(models), List.copyOf(slices), params, dtype,
                outDtype, tokenizerSource, List.copyOf(warnings));
    }

    /**
     * YAML text as maps, lists and scalars (null for an empty document); a syntax error or a duplicate key is bad input
     * naming {@code file}, line and column.
     */
    public static Object loadYaml(Path file, String text) {
        try {
            // YAML 1.2 core schema, closest to the PyYAML mergekit uses: .5, +0.5, ~, Null and True are what they look
            // like (the engine's default JSON schema would read them as strings)
            LoadSettings settings = LoadSettings.builder().setLabel(file.toString()).setSchema(new CoreSchema())
                    .build();
            return new Load(settings).loadFromString(text);
        } catch (MarkedYamlEngineException e) {
            String where = e.getProblemMark().map(m -> ":" + (m.getLine() + 1) + ":" + (m.getColumn() + 1)).orElse("");
            String problem = oneLine(e.getProblem());
            // some problems only make sense after their context ("expected a single document ... but found another")
            if (problem.startsWith("but ") && e.getContext() != null) {
                problem = oneLine(e.getContext()) + " " + problem;
            }
            throw new BadInputException(file + where + ": YAML syntax error: " + problem);
        } catch (YamlEngineException e) {
            throw new BadInputException(file + ": YAML error: " + oneLine(e.getMessage()));
        }
    }

    private static MergeConfig.ModelEntry modelEntry(Path file, Object node, String where) {
        if (node instanceof String) {
            return new MergeConfig.ModelEntry(string(file, node, where, true), Map.of());
        }
        Map<String, Object> m = mapping(file, node, where);
        for (String key : m.keySet()) {
            if (!key.equals("model") && !key.equals("parameters")) {
                throw new BadInputException(file + ": " + where + " has unknown key '" + key
                        + "'; expected model and parameters");
            }
        }
        String model = string(file, m.get("model"), where + ".model", true);
        return new MergeConfig.ModelEntry(model, parameters(file, m.get("parameters"), where + ".parameters"));
    }

    private static MergeConfig.OutputSlice outputSlice(Path file, Object node, String where, List<String> warnings) {
        Map<String, Object> m = mapping(file, node, where);
        for (String key : m.keySet()) {
            switch (key) {
                case "sources", "base_model", "parameters" -> { }
                case "residual_weight" -> warnings.add(file + ": " + where + ".residual_weight is ignored (as in mergekit)");
                default -> throw new BadInputException(file + ": " + where + " has unknown key '" + key
                        + "'; expected sources, base_model and parameters");
            }
        }
        if (!(m.get("sources") instanceof List<?> list) || list.isEmpty()) {
            throw new BadInputException(file + ": " + where + ".sources must be a non-empty list of"
                    + " {model: PATH, layer_range: [start, end]}");
        }
        List<MergeConfig.InputSlice> sources = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            sources.add(inputSlice(file, list.get(i), where + ".sources[" + i + "]"));
        }
        return new MergeConfig.OutputSlice(List.copyOf(sources), string(file, m.get("base_model"), where
                + ".base_model", false), parameters(file, m.get("parameters"), where + ".parameters"));
    }

    private static MergeConfig.InputSlice inputSlice(Path file, Object node, String where) {
        Map<String, Object> m = mapping(file, node, where);
        for (String key : m.keySet()) {
            if (!key.equals("model") && !key.equals("layer_range") && !key.equals("parameters")) {
                throw new BadInputException(file + ": " + where + " has unknown key '" + key
                        + "'; expected model, layer_range and parameters");
            }
        }
        String model = string(file, m.get("model"), where + ".model", true);
        if (!(m.get("layer_range") instanceof List<?> range) || range.size() != 2
                || !(range.get(0) instanceof Integer start) || !(range.get(1) instanceof Integer end)) {
            throw new BadInputException(file + ": " + where + ".layer_range must be [start, end] (two integers)");
        }
        if (start < 0 || end <= start) {
            throw new BadInputException(file + ": " + where + ".layer_range [" + start + ", " + end
                    + "] is empty or negative; expected 0 <= start < end");
        }
        return new MergeConfig.InputSlice(model, start, end, parameters(file, m.get("parameters"),
                where + ".parameters"));
    }

    private static Map<String, ParameterSetting> parameters(Path file, Object node, String where) {
        if (node == null) {
            return Map.of();
        }
        Map<String, Object> m = mapping(file, node, where);
        Map<String, ParameterSetting> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, setting(file, v, where + "." + k)));
        return out;
    }

    /** Scalar, gradient (list of numbers), step list, or conditional(s) {filter, value}. */
    static ParameterSetting setting(Path file, Object node, String where) {
        if (node == null) {
            throw new BadInputException(file + ": " + where + " has no value");
        }
        if (node instanceof Map<?, ?>) {
            return new ParameterSetting.Conditionals(List.of(conditional(file, node, where)));
        }
        if (node instanceof List<?> list) {
            if (list.isEmpty()) {
                throw new BadInputException(file + ": " + where + " is an empty list");
            }
            if (list.stream().allMatch(x -> x instanceof Map<?, ?>)) {
                List<ParameterSetting.Conditional> cases = new ArrayList<>();
                for (int i = 0; i < list.size(); i++) {
                    cases.add(conditional(file, list.get(i), where + "[" + i + "]"));
                }
                return new ParameterSetting.Conditionals(cases);
            }
            if (list.stream().allMatch(x -> x instanceof Number)) {
                double[] g = new double[list.size()];
                for (int i = 0; i < g.length; i++) {
                    g[i] = ((Number) list.get(i)).doubleValue();
                }
                return new ParameterSetting.Gradient(g);
            }
            if (list.stream().allMatch(x -> x instanceof String || x instanceof Boolean)) {
                return new ParameterSetting.Steps(List.copyOf(list));
            }
            throw new BadInputException(file + ": " + where + " mixes numbers with other values; expected a gradient "
                    + "(list of numbers) or a list of {filter, value}");
        }
        return new ParameterSetting.Scalar(scalar(node));
    }

    private static ParameterSetting.Conditional conditional(Path file, Object node, String where) {
        Map<String, Object> m = mapping(file, node, where);
        for (String key : m.keySet()) {
            if (!key.equals("filter") && !key.equals("value")) {
                throw new BadInputException(file + ": " + where + " has unknown key '" + key
                        + "'; a conditional has filter and value");
            }
        }
        if (!m.containsKey("value")) {
            throw new BadInputException(file + ": " + where + " has no 'value'");
        }
        String filter = string(file, m.get("filter"), where + ".filter", false);
        Object value = m.get("value");
        if (value instanceof Map<?, ?>) {
            throw new BadInputException(file + ": " + where + ".value must be a scalar or a list of numbers");
        }
        return new ParameterSetting.Conditional(filter, setting(file, value, where + ".value"));
    }

    private static Object scalar(Object v) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        return v;
    }

    private static String tokenizerSource(Path file, Map<String, Object> top) {
        Object legacy = top.get("tokenizer_source");
        Object tok = top.get("tokenizer");
        if (legacy != null && tok != null) {
            throw new BadInputException(file + ": set either tokenizer_source or tokenizer, not both");
        }
        if (legacy != null) {
            return checkSupported(file, string(file, legacy, "tokenizer_source", true), "tokenizer_source");
        }
        if (tok == null) {
            return null;
        }
        Map<String, Object> m = mapping(file, tok, "tokenizer");
        for (String k : m.keySet()) {
            if (!k.equals("source")) {
                throw new BadInputException(file + ": tokenizer." + k + " is not supported yet");
            }
        }
        if (!m.containsKey("source")) {
            throw new BadInputException(file + ": tokenizer.source is not set, which means 'union' in mergekit; "
                    + "union is not supported yet; set source: base or a model path");
        }
        return checkSupported(file, string(file, m.get("source"), "tokenizer.source", true), "tokenizer.source");
    }

    private static String checkSupported(Path file, String source, String key) {
        if (source.equals("union")) {
            throw new BadInputException(file + ": " + key + " 'union' is not supported yet; use 'base' or a model path");
        }
        return source;
    }

    private static DType dtype(Path file, Object node, String key) {
        if (node == null) {
            return null;
        }
        return DType.fromConfigName(string(file, node, key, true), file + ": " + key);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mapping(Path file, Object node, String where) {
        if (!(node instanceof Map<?, ?> m)) {
            throw new BadInputException(file + ": " + where + " must be a mapping (key: value), got " + describe(node));
        }
        for (Object k : m.keySet()) {
            if (!(k instanceof String)) {
                throw new BadInputException(file + ": " + where + " has a non-text key '" + k + "'");
            }
        }
        return (Map<String, Object>) m;
    }

    private static String string(Path file, Object node, String where, boolean required) {
        if (node == null) {
            if (required) {
                throw new BadInputException(file + ": missing '" + where + "'");
            }
            return null;
        }
        if (!(node instanceof String s) || s.isBlank()) {
            throw new BadInputException(file + ": " + where + " must be a non-empty string, got " + describe(node));
        }
        return s;
    }

    private static String describe(Object node) {
        if (node instanceof Map<?, ?>) {
            return "a mapping";
        }
        if (node instanceof List<?>) {
            return "a list";
        }
        return "'" + node + "'";
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\n\\s*", " ").trim();
    }
}
