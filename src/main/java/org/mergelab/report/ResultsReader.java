package org.mergelab.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.mergelab.BadInputException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads a sweep's results.jsonl (the runner/report contract). A last line without its newline is a row the runner
 * was writing when it stopped: it is skipped with a warning. When a (cell, split) appears more than once (a
 * {@code --force} rerun appends), the last line wins. Any other malformed line is bad input naming file and line.
 */
public final class ResultsReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ResultsReader() {}

    /** The rows of {@code file} and the warnings reading them produced. */
    public record Results(Path file, List<ResultRow> rows, List<String> warnings) {}

    public static Results read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": not found (run ./mergelab sweep SPEC first, or pass --results DIR)");
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read the results ("
                    + (Files.isDirectory(file) ? "it is a folder" : e.getMessage()) + ")");
        }
        List<String> warnings = new ArrayList<>();
        Map<String, ResultRow> byCellAndSplit = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        int last = lines.length - 1; // after a final newline the last piece is ""
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            ResultRow row;
            try {
                row = parse(JSON.readTree(line));
            } catch (JsonProcessingException | RowException e) {
                if (i == last) {
                    warnings.add(file + ":" + (i + 1) + ": skipped an unfinished last line (a sweep still running,"
                            + " or one that was killed)");
                    continue;
                }
                String why = e instanceof JsonProcessingException j ? "not JSON (" + j.getOriginalMessage() + ")"
                        : e.getMessage();
                throw new BadInputException(file + ":" + (i + 1) + ": " + why);
            }
            String key = row.cellId() + "\u0000" + row.split();
            byCellAndSplit.remove(key); // the latest line counts, at its own position
            byCellAndSplit.put(key, row);
        }
        if (byCellAndSplit.isEmpty()) {
            throw new BadInputException(file + ": no result rows (the sweep has not finished a cell yet)");
        }
        return new Results(file, List.copyOf(byCellAndSplit.values()), List.copyOf(warnings));
    }

    /** A contract violation in one line; the reader turns it into bad input naming the line. */
    private static final class RowException extends Exception {
        RowException(String message) {
            super(message);
        }
    }

    static ResultRow parse(JsonNode n) throws RowException {
        if (!n.isObject()) {
            throw new RowException("expected a JSON object");
        }
        String kindText = text(n, "kind", true);
        ResultRow.Kind kind = switch (kindText) {
            case "reference" -> ResultRow.Kind.REFERENCE;
            case "merge" -> ResultRow.Kind.MERGE;
            default -> throw new RowException("kind must be reference or merge, got '" + kindText + "'");
        };
        List<String> models = new ArrayList<>();
        JsonNode modelsNode = n.path("models");
        if (modelsNode.isArray()) {
            for (JsonNode m : modelsNode) {
                models.add(m.asText());
            }
        }
        Map<String, Object> params = new LinkedHashMap<>();
        JsonNode paramsNode = n.path("params");
        for (Map.Entry<String, JsonNode> e : paramsNode.properties()) {
            params.put(e.getKey(), e.getValue().isNumber() ? (Object) e.getValue().asDouble() : e.getValue().asText());
        }
        JsonNode tasksNode = n.get("tasks");
        if (tasksNode == null || !tasksNode.isObject()) {
            throw new RowException("missing 'tasks' object");
        }
        Map<String, ResultRow.TaskScores> tasks = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : tasksNode.properties()) {
            tasks.put(e.getKey(), taskScores(e.getKey(), e.getValue()));
        }
        JsonNode prov = n.path("provenance");
        return new ResultRow(text(n, "cell_id", true), text(n, "experiment", false), kind, text(n, "label", true),
                text(n, "method", false), text(n, "model", false), text(n, "base", false), List.copyOf(models),
                params, n.path("seed").asLong(0), text(n, "split", true), tasks, norms(n.get("norms")),
                text(prov, "mergelab_version", false), text(prov, "git_commit", false));
    }

    private static ResultRow.TaskScores taskScores(String task, JsonNode n) throws RowException {
        String where = "tasks." + task;
        JsonNode metricsNode = n.get("metrics");
        if (metricsNode == null || !metricsNode.isObject()) {
            throw new RowException(where + ": missing 'metrics' object");
        }
        Map<String, ResultRow.Metric> metrics = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : metricsNode.properties()) {
            JsonNode m = e.getValue();
            metrics.put(e.getKey(), new ResultRow.Metric(number(m, "value", where + ".metrics." + e.getKey()),
                    number(m, "stderr", where + ".metrics." + e.getKey()), m.path("n").asInt(0),
                    m.path("higher_is_better").asBoolean(true)));
        }
        String primary = text(n, "primary", true);
        if (!metrics.containsKey(primary)) {
            throw new RowException(where + ": primary metric '" + primary + "' is not among its metrics");
        }
        double[] items = numbers(n.get("items"), where + ".items");
        double[] weights = numbers(n.get("weights"), where + ".weights");
        if (items != null && weights != null && items.length != weights.length) {
            throw new RowException(where + ": " + items.length + " items but " + weights.length + " weights");
        }
        return new ResultRow.TaskScores(primary, text(n, "task_hash", false), metrics, items, weights);
    }

    private static ResultRow.Norms norms(JsonNode n) throws RowException {
        if (n == null || n.isNull()) {
            return null;
        }
        List<ResultRow.LayerNorms> layers = new ArrayList<>();
        for (JsonNode l : n.path("layers")) {
            String where = "norms.layers[" + layers.size() + "]";
            if (!l.path("layer").canConvertToInt()) {
                throw new RowException(where + ": missing layer number");
            }
            layers.add(new ResultRow.LayerNorms(l.path("layer").asInt(), number(l, "norm_ratio", where),
                    number(l, "max_norm_ratio", where), number(l, "rel_dist_to_base", where),
                    number(l, "cos_to_base", where)));
        }
        return new ResultRow.Norms(number(n, "norm_ratio", "norms"), number(n, "max_norm_ratio", "norms"),
                number(n, "interpolation_ratio", "norms"), number(n, "rel_dist_to_base", "norms"),
                number(n, "cos_to_base", "norms"), number(n, "pruned_fraction", "norms"),
                number(n, "sign_agreement", "norms"), List.copyOf(layers));
    }

    private static String text(JsonNode n, String key, boolean required) throws RowException {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            if (required) {
                throw new RowException("missing '" + key + "'");
            }
            return null;
        }
        if (!v.isValueNode()) {
            throw new RowException("'" + key + "' must be a string");
        }
        return v.asText();
    }

    private static Double number(JsonNode n, String key, String where) throws RowException {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw new RowException(where + "." + key + ": expected a number or null, got " + v);
        }
        return v.asDouble();
    }

    private static double[] numbers(JsonNode n, String where) throws RowException {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isArray()) {
            throw new RowException(where + ": expected an array of numbers");
        }
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            if (n.get(i).isNull()) { // a score that was not finite (a merge holding NaN): kept, never bootstrapped
                out[i] = Double.NaN;
                continue;
            }
            if (!n.get(i).isNumber()) {
                throw new RowException(String.format(Locale.ROOT, "%s[%d]: expected a number or null, got %s", where, i,
                        n.get(i)));
            }
            out[i] = n.get(i).asDouble();
        }
        return out;
    }
}
