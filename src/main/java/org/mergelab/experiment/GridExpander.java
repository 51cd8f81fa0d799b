package org.mergelab.experiment;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import org.mergelab.BadInputException;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Turns a spec into its cells: the references first, then each merge's grid, the cartesian product of its parameter
 * axes (the first axis varying slowest) times its seeds.
 *
 * <p>Labels: a reference is its alias; a merge is its method, then {@code key=value} for every parameter. When two
 * merges of one method differ in their models the method is qualified, {@code delerp(base→instruct)}; when they
 * differ in dtype, {@code dtype=…} follows; {@code seed=…} ends the label when a merge has several seeds.
 */
final class GridExpander {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private GridExpander() {}

    /** @param modelHashes content hash of every model, by alias ({@link ModelHashes}) */
    static List<Cell> expand(ExperimentSpec spec, Map<String, String> modelHashes) {
        List<Cell> cells = new ArrayList<>();
        for (String alias : spec.references()) {
            ObjectNode recipe = recipe(spec, Cell.Kind.REFERENCE);
            recipe.put("model", alias);
            recipe.put("hash", modelHashes.get(alias));
            cells.add(new Cell(id(recipe), Cell.Kind.REFERENCE, alias, null, alias, null, List.of(alias), Map.of(),
                    null, null, "references", null));
        }
        for (ExperimentSpec.Merge m : spec.merges()) {
            String prefix = m.method() + qualifier(spec, m);
            String dtype = differsInDtype(spec, m) ? " dtype=" + (m.dtype() == null ? "default" : m.dtype()) : "";
            for (Map<ExperimentSpec.ParamAxis, Object> point : product(m.parameters())) {
                Map<String, Object> params = new LinkedHashMap<>();
                point.forEach((axis, v) -> params.put(axis.key(), v));
                StringBuilder label = new StringBuilder(prefix);
                params.forEach((k, v) -> label.append(' ').append(k).append('=').append(text(v)));
                label.append(dtype);
                MergekitConfig config = MergekitConfig.of(m, point, spec.models());
                for (long seed : m.seeds()) {
                    String seedPart = m.seeds().size() > 1 ? " seed=" + seed : "";
                    cells.add(new Cell(id(mergeRecipe(spec, m, params, seed, modelHashes)), Cell.Kind.MERGE,
                            label + seedPart, m.method(), null, m.base(), m.models(), params, seed, m.dtype(),
                            m.where(), config));
                }
            }
        }
        checkUnique(spec, cells);
        return List.copyOf(cells);
    }

    private static ObjectNode mergeRecipe(ExperimentSpec spec, ExperimentSpec.Merge m, Map<String, Object> params,
            long seed, Map<String, String> modelHashes) {
        ObjectNode recipe = recipe(spec, Cell.Kind.MERGE);
        recipe.put("method", m.method());
        recipe.put("base", m.base());
        if (m.base() != null) {
            recipe.put("base_hash", modelHashes.get(m.base()));
        }
        ArrayNode models = recipe.putArray("models");
        for (String a : m.models()) {
            models.addArray().add(a).add(modelHashes.get(a));
        }
        ObjectNode p = recipe.putObject("params");
        new TreeMap<>(params).forEach((k, v) -> p.put(k, canonical(v)));
        recipe.put("seed", seed);
        recipe.put("dtype", m.dtype());
        return recipe;
    }

    private static ObjectNode recipe(ExperimentSpec spec, Cell.Kind kind) {
        ObjectNode recipe = JSON.createObjectNode();
        recipe.put("experiment", spec.name());
        recipe.put("kind", kind.key());
        return recipe;
    }

    /** The first 16 hex characters of the recipe's SHA-256. */
    private static String id(ObjectNode recipe) {
        return Hashing.sha256(recipe.toString()).substring("sha256:".length(), "sha256:".length() + 16);
    }

    /** Every combination of one value per axis, in order, the first axis varying slowest. */
    static List<Map<ExperimentSpec.ParamAxis, Object>> product(List<ExperimentSpec.ParamAxis> axes) {
        List<Map<ExperimentSpec.ParamAxis, Object>> points = new ArrayList<>();
        points.add(new LinkedHashMap<>());
        for (ExperimentSpec.ParamAxis axis : axes) {
            List<Map<ExperimentSpec.ParamAxis, Object>> next = new ArrayList<>();
            for (Map<ExperimentSpec.ParamAxis, Object> p : points) {
                for (Object v : axis.values()) {
                    Map<ExperimentSpec.ParamAxis, Object> q = new LinkedHashMap<>(p);
                    q.put(axis, v);
                    next.add(q);
                }
            }
            points = next;
        }
        return points;
    }

    /** {@code (base→a,b)} when another merge of the same method uses other models, else nothing. */
    private static String qualifier(ExperimentSpec spec, ExperimentSpec.Merge m) {
        boolean ambiguous = spec.merges().stream().anyMatch(o -> o.method().equals(m.method())
                && (!Objects.equals(o.base(), m.base()) || !o.models().equals(m.models())));
        if (!ambiguous) {
            return "";
        }
        List<String> others = m.models().stream().filter(a -> !a.equals(m.base())).toList();
        return "(" + (m.base() != null ? m.base() + "→" : "") + String.join(",", others) + ")";
    }

    private static boolean differsInDtype(ExperimentSpec spec, ExperimentSpec.Merge m) {
        return spec.merges().stream().anyMatch(o -> o.method().equals(m.method())
                && !Objects.equals(o.dtype(), m.dtype()));
    }

    /** A value as labels show it: numbers without trailing zeros ({@code 1}, {@code 0.999}). */
    static String text(Object v) {
        return v instanceof Number ? canonical(v) : String.valueOf(v);
    }

    /** Numbers in plain decimal without trailing zeros, so 1 and 1.0 are the same recipe. */
    private static String canonical(Object v) {
        if (v instanceof Number n) {
            BigDecimal d = n instanceof Long l ? BigDecimal.valueOf(l) : BigDecimal.valueOf(n.doubleValue());
            return d.stripTrailingZeros().toPlainString();
        }
        return v.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + ":" + v;
    }

    private static void checkUnique(ExperimentSpec spec, List<Cell> cells) {
        Map<String, Cell> byId = new HashMap<>();
        Map<String, Cell> byLabel = new HashMap<>();
        for (Cell c : cells) {
            Cell same = byId.putIfAbsent(c.id(), c);
            if (same != null) {
                throw new BadInputException(spec.file() + ": " + same.where() + " and " + c.where()
                        + " give the same cell '" + c.label() + "'; list it once");
            }
            Cell named = byLabel.putIfAbsent(c.label(), c);
            if (named != null) {
                throw new BadInputException(spec.file() + ": " + named.where() + " and " + c.where()
                        + " give two cells the label '" + c.label() + "'; rename a model alias");
            }
        }
    }
}
