package org.mergelab.experiment;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.mergelab.BadInputException;
import org.mergelab.io.DType;
import org.mergelab.merge.ConfigParser;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.methods.MethodRegistry;

/**
 * Reads a sweep spec into an {@link ExperimentSpec}, checking its form: every problem is one line naming the spec file
 * and the key. What needs the model folders or task files is checked by {@link SweepPlan}.
 */
public final class SpecParser {
    /** The in-house model family, swept when a spec names no models. */
    public static final Path DEFAULT_MODELS = Path.of("benchmarks-data", "zoo");
    public static final Path DEFAULT_TASKS = Path.of("benchmarks-data", "tasks");
    static final List<String> DEFAULT_SPLITS = List.of("val", "test");
    /** The methods whose masks are random (DARE and DELLA draw from CounterRandom): the only ones seeds apply to. */
    static final Set<String> RANDOM_METHODS = Set.of("dare_linear", "dare_ties", "della", "della_linear");
    /** More values than this in one range is a typo in the step, not a sweep. */
    static final int MAX_RANGE = 10_000;

    private static final List<String> TOP = List.of("name", "models", "tokenizer", "tasks", "references", "merges",
            "report");
    private static final List<String> TASK_KEYS = List.of("dir", "names", "splits", "limit");
    private static final List<String> MERGE_KEYS = List.of("method", "base", "models", "parameters", "seeds", "dtype");
    private static final List<String> RANGE_KEYS = List.of("from", "to", "step");
    /** Aliases, experiment and split names: they become labels, CSV columns and folder names. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private final Path file;

    private SpecParser(Path file) {
        this.file = file;
    }

    public static ExperimentSpec parse(Path file) throws IOException {
        String text = ConfigParser.readText(file);
        return new SpecParser(file).spec(text, ConfigParser.loadYaml(file, text));
    }

    private ExperimentSpec spec(String text, Object root) throws IOException {
        if (root == null) {
            throw new BadInputException(file + ": empty spec; expected a mapping with models, tasks, references and"
                    + " merges");
        }
        Map<String, Object> top = mapping(root, "the top level", TOP);
        String name = top.containsKey("name") ? name(top.get("name"), "name") : defaultName();
        Map<String, Path> models = top.containsKey("models") ? models(top.get("models")) : familyModels();
        Path tokenizer = top.containsKey("tokenizer") ? path(top.get("tokenizer"), "tokenizer") : null;
        ExperimentSpec.Tasks tasks = tasks(top.get("tasks"));
        List<String> references = top.containsKey("references")
                ? aliases(top.get("references"), "references", models, true) : List.copyOf(models.keySet());
        List<ExperimentSpec.Merge> merges = new ArrayList<>();
        if (top.containsKey("merges")) {
            List<?> list = list(top.get("merges"), "merges");
            for (int i = 0; i < list.size(); i++) {
                merges.add(merge(list.get(i), "merges[" + i + "]", models));
            }
        }
        if (references.isEmpty() && merges.isEmpty()) {
            throw new BadInputException(file + ": nothing to run; list references or merges");
        }
        return new ExperimentSpec(file, Hashing.sha256(text.getBytes(StandardCharsets.UTF_8)), name, models, tasks,
                tokenizer, references, List.copyOf(merges), top.get("report"));
    }

    private String defaultName() {
        String n = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        if (!NAME.matcher(n).matches()) {
            throw new BadInputException(file + ": the file name '" + n + "' cannot name the experiment; set name:"
                    + " (letters, digits, '.', '_', '-')");
        }
        return n;
    }

    private Map<String, Path> models(Object node) {
        Map<String, Object> m = mapping(node, "models", null);
        if (m.isEmpty()) {
            throw bad("models", "is empty; map each alias to a model folder");
        }
        Map<String, Path> out = new LinkedHashMap<>();
        Map<Path, String> seen = new LinkedHashMap<>();
        m.forEach((alias, value) -> {
            String key = "models." + alias;
            name(alias, key);
            Path p = path(value, key);
            String other = seen.putIfAbsent(p, alias);
            if (other != null) {
                throw bad(key, "is the same folder as models." + other + " (" + p + "); give each model one alias");
            }
            out.put(alias, p);
        });
        return out;
    }

    /** Every model folder (with a config.json) in benchmarks-data/zoo, by folder name. */
    private Map<String, Path> familyModels() throws IOException {
        Map<String, Path> out = new LinkedHashMap<>();
        if (Files.isDirectory(DEFAULT_MODELS)) {
            try (Stream<Path> s = Files.list(DEFAULT_MODELS)) {
                s.filter(p -> Files.isRegularFile(p.resolve("config.json"))).sorted().forEach(p -> out.put(
                        p.getFileName().toString(), p.toAbsolutePath().normalize()));
            }
        }
        if (out.isEmpty()) {
            throw bad("models", "not given, and " + DEFAULT_MODELS + " (the in-house family) holds no model folders;"
                    + " map aliases to model folders under models:");
        }
        return out;
    }

    private ExperimentSpec.Tasks tasks(Object node) {
        Map<String, Object> m = node == null ? Map.of() : mapping(node, "tasks", TASK_KEYS);
        Path dir = m.containsKey("dir") ? path(m.get("dir"), "tasks.dir") : DEFAULT_TASKS.toAbsolutePath();
        List<String> names = m.containsKey("names") ? strings(m.get("names"), "tasks.names") : List.of();
        List<String> splits = m.containsKey("splits") ? strings(m.get("splits"), "tasks.splits") : DEFAULT_SPLITS;
        for (String s : splits) {
            name(s, "tasks.splits");
        }
        int limit = 0;
        if (m.containsKey("limit")) {
            if (!(m.get("limit") instanceof Integer n) || n < 1) {
                throw bad("tasks.limit", "must be a whole number >= 1 (items per task), got "
                        + describe(m.get("limit")));
            }
            limit = n;
        }
        return new ExperimentSpec.Tasks(dir, names, splits, limit);
    }

    private ExperimentSpec.Merge merge(Object node, String where, Map<String, Path> models) {
        Map<String, Object> m = mapping(node, where, MERGE_KEYS);
        Object methodNode = m.get("method");
        if (methodNode == null) {
            throw bad(where, "has no method; expected one of " + methodNames());
        }
        String methodName = string(methodNode, where + ".method");
        boolean lerp = methodName.equals(ExperimentSpec.Merge.LERP);
        MergeMethod method = lerp ? null : MethodRegistry.find(methodName).orElseThrow(() -> bad(where + ".method",
                "unknown method '" + methodName + "'; expected one of " + methodNames()));
        String base = m.containsKey("base") ? alias(m.get("base"), where + ".base", models) : null;
        if (!m.containsKey("models")) {
            throw bad(where, "has no models; list the aliases to merge");
        }
        List<String> inputs = aliases(m.get("models"), where + ".models", models, false);
        if (lerp) {
            long others = inputs.stream().filter(a -> !a.equals(base)).count();
            if (base == null || others != 1) {
                throw bad(where, "lerp interpolates from a base (t = 0) to one other model (t = 1); set base: and"
                        + " list one other model");
            }
        }
        Set<String> mergeModels = new LinkedHashSet<>(inputs);
        if (base != null) {
            mergeModels.add(base);
        }
        List<ExperimentSpec.ParamAxis> axes = new ArrayList<>();
        if (m.containsKey("parameters")) {
            mapping(m.get("parameters"), where + ".parameters", null).forEach((param, value) -> axes.addAll(
                    axes(param, value, where + ".parameters." + param, methodName, method, base, mergeModels)));
        }
        if (lerp && axes.isEmpty()) {
            throw bad(where + ".parameters", "lerp needs t (0 = the base, 1 = the other model)");
        }
        List<Long> seeds = List.of(0L);
        if (m.containsKey("seeds")) {
            if (!RANDOM_METHODS.contains(methodName)) {
                throw bad(where + ".seeds", "apply only to the random methods " + RANDOM_METHODS.stream().sorted()
                        .toList() + "; " + methodName + " is deterministic");
            }
            seeds = seeds(m.get("seeds"), where + ".seeds");
        }
        String dtype = null;
        if (m.containsKey("dtype")) {
            dtype = string(m.get("dtype"), where + ".dtype");
            DType.fromConfigName(dtype, file + ": " + where + ".dtype");
        }
        return new ExperimentSpec.Merge(where, methodName, base, inputs, List.copyOf(axes), seeds, dtype);
    }

    /** One parameter's axes: one, or one per model for {@code {alias: value}}. */
    private List<ExperimentSpec.ParamAxis> axes(String param, Object node, String where, String methodName,
            MergeMethod method, String base, Set<String> mergeModels) {
        ParamSpec.Scope scope;
        if (method == null) {
            if (!param.equals("t")) {
                throw bad(where, "is not a parameter of lerp; it has t");
            }
            scope = ParamSpec.Scope.GLOBAL;
        } else {
            scope = method.params().stream().filter(p -> p.name().equals(param)).findFirst()
                    .orElseThrow(() -> bad(where, "is not a parameter of " + methodName + "; it has "
                            + method.params().stream().map(ParamSpec::name).toList()))
                    .scope();
        }
        if (!(node instanceof Map<?, ?> map) || isRange(map)) {
            return List.of(new ExperimentSpec.ParamAxis(param, null, values(node, where)));
        }
        if (scope == ParamSpec.Scope.GLOBAL) {
            throw bad(where, "is a global parameter of " + methodName + "; give one value, a list or a range"
                    + " {from, to, step}, not values per model");
        }
        List<ExperimentSpec.ParamAxis> out = new ArrayList<>();
        mapping(node, where, null).forEach((alias, value) -> {
            if (!mergeModels.contains(alias)) {
                throw bad(where + "." + alias, "'" + alias + "' is not one of this merge's models " + mergeModels);
            }
            if (alias.equals(base) && method.baseRole() == MergeMethod.BaseRole.SPECIAL) {
                throw bad(where + "." + alias, "the base takes no per-model parameters in " + methodName);
            }
            out.add(new ExperimentSpec.ParamAxis(param, alias, values(value, where + "." + alias)));
        });
        return out;
    }

    private static boolean isRange(Map<?, ?> map) {
        return map.keySet().stream().anyMatch(RANGE_KEYS::contains);
    }

    /** A scalar (one value), a list (an axis) or a range {from, to, step} (an axis, both ends included). */
    private List<Object> values(Object node, String where) {
        if (node instanceof Map<?, ?> map) {
            if (!isRange(map)) {
                throw bad(where, "must be a value, a list of values or a range {from, to, step}");
            }
            return range(mapping(node, where, RANGE_KEYS), where);
        }
        if (node instanceof List<?> list) {
            if (list.isEmpty()) {
                throw bad(where, "is an empty list");
            }
            List<Object> out = new ArrayList<>();
            Set<Object> seen = new LinkedHashSet<>();
            for (int i = 0; i < list.size(); i++) {
                Object v = scalar(list.get(i), where + "[" + i + "]");
                if (!seen.add(v)) {
                    throw bad(where, "lists " + v + " twice");
                }
                out.add(v);
            }
            return out;
        }
        return List.of(scalar(node, where));
    }

    /**
     * from, from + step, … up to and including {@code to}, computed in decimal so 0.1 steps land on 0.3, not
     * 0.30000000000000004; whole numbers when all three are.
     */
    private List<Object> range(Map<String, Object> m, String where) {
        for (String k : RANGE_KEYS) {
            if (!(m.get(k) instanceof Number)) {
                throw bad(where, "a range needs numbers from, to and step; " + k + " is " + describe(m.get(k)));
            }
        }
        BigDecimal from = decimal(m.get("from"));
        BigDecimal to = decimal(m.get("to"));
        BigDecimal step = decimal(m.get("step"));
        if (step.signum() <= 0) {
            throw bad(where, "step must be > 0, got " + step.toPlainString());
        }
        if (to.compareTo(from) < 0) {
            throw bad(where, "is empty: from " + from.toPlainString() + " is above to " + to.toPlainString());
        }
        BigInteger count = to.subtract(from).divideToIntegralValue(step).toBigInteger().add(BigInteger.ONE);
        if (count.compareTo(BigInteger.valueOf(MAX_RANGE)) > 0) {
            throw bad(where, "has " + count + " values; at most " + MAX_RANGE + " (is the step right?)");
        }
        boolean whole = RANGE_KEYS.stream().allMatch(k -> isWhole(m.get(k)));
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < count.intValue(); i++) {
            BigDecimal v = from.add(step.multiply(BigDecimal.valueOf(i)));
            out.add(whole ? (Object) v.longValueExact() : (Object) v.doubleValue());
        }
        return out;
    }

    private static boolean isWhole(Object n) {
        return n instanceof Integer || n instanceof Long || n instanceof BigInteger;
    }

    private static BigDecimal decimal(Object n) {
        return isWhole(n) ? new BigDecimal(n.toString()) : BigDecimal.valueOf(((Number) n).doubleValue());
    }

    /** A parameter value: numbers as Long or Double, booleans, strings. */
    private Object scalar(Object node, String where) {
        if (node instanceof Integer || node instanceof Long) {
            return ((Number) node).longValue();
        }
        if (node instanceof Number n) {
            double d = n.doubleValue();
            if (!Double.isFinite(d)) {
                throw bad(where, "must be a finite number, got " + node);
            }
            return d;
        }
        if (node instanceof Boolean || node instanceof String) {
            return node;
        }
        throw bad(where, "must be a number, a boolean or a string, got " + describe(node));
    }

    private List<Long> seeds(Object node, String where) {
        List<?> list = node instanceof List<?> l ? l : List.of(node);
        if (list.isEmpty()) {
            throw bad(where, "is an empty list");
        }
        Set<Long> out = new LinkedHashSet<>();
        for (Object o : list) {
            if (!(o instanceof Integer || o instanceof Long)) {
                throw bad(where, "must be whole numbers, got " + describe(o));
            }
            if (!out.add(((Number) o).longValue())) {
                throw bad(where, "lists seed " + o + " twice");
            }
        }
        return List.copyOf(out);
    }

    private List<String> aliases(Object node, String where, Map<String, Path> models, boolean mayBeEmpty) {
        List<?> list = list(node, where);
        if (list.isEmpty() && !mayBeEmpty) {
            throw bad(where, "is an empty list");
        }
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String a = alias(list.get(i), where + "[" + i + "]", models);
            if (!out.add(a)) {
                throw bad(where, "lists '" + a + "' twice");
            }
        }
        return List.copyOf(out);
    }

    private String alias(Object node, String where, Map<String, Path> models) {
        String a = string(node, where);
        if (!models.containsKey(a)) {
            throw bad(where, "unknown model '" + a + "'; the models are " + models.keySet());
        }
        return a;
    }

    private List<String> strings(Object node, String where) {
        List<?> list = list(node, where);
        if (list.isEmpty()) {
            throw bad(where, "is an empty list; leave the key out for the default");
        }
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String s = string(list.get(i), where + "[" + i + "]");
            if (!out.add(s)) {
                throw bad(where, "lists '" + s + "' twice");
            }
        }
        return List.copyOf(out);
    }

    private String name(Object node, String where) {
        String s = string(node, where);
        if (!NAME.matcher(s).matches()) {
            throw bad(where, "'" + s + "' is not a name (letters, digits, '.', '_', '-'; starting with a letter or"
                    + " digit)");
        }
        return s;
    }

    /** A path as written, resolved against the current directory. */
    private Path path(Object node, String where) {
        return Path.of(string(node, where)).toAbsolutePath().normalize();
    }

    private String string(Object node, String where) {
        if (!(node instanceof String s) || s.isBlank()) {
            throw bad(where, "must be a non-empty string, got " + describe(node));
        }
        return s;
    }

    private List<?> list(Object node, String where) {
        if (!(node instanceof List<?> l)) {
            throw bad(where, "must be a list, got " + describe(node));
        }
        return l;
    }

    /** A mapping with text keys; with {@code allowed}, any other key is an error (a typo would silently do nothing). */
    @SuppressWarnings("unchecked")
    private Map<String, Object> mapping(Object node, String where, List<String> allowed) {
        if (!(node instanceof Map<?, ?> m)) {
            throw bad(where, "must be a mapping (key: value), got " + describe(node));
        }
        for (Object k : m.keySet()) {
            if (!(k instanceof String key)) {
                throw bad(where, "has a non-text key '" + k + "'");
            }
            if (allowed != null && !allowed.contains(key)) {
                throw bad(where, "has unknown key '" + key + "'; expected " + String.join(", ", allowed));
            }
        }
        return (Map<String, Object>) m;
    }

    private static String methodNames() {
        List<String> names = new ArrayList<>(MethodRegistry.names());
        names.add(ExperimentSpec.Merge.LERP);
        return String.join(", ", names);
    }

    private static String describe(Object node) {
        if (node == null) {
            return "nothing";
        }
        if (node instanceof Map<?, ?>) {
            return "a mapping";
        }
        if (node instanceof List<?>) {
            return "a list";
        }
        return "'" + node + "'";
    }

    private BadInputException bad(String key, String message) {
        return new BadInputException(file + ": " + key + ": " + message);
    }
}
