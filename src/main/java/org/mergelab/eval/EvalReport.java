package org.mergelab.eval;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;

import org.mergelab.Version;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The results of evaluating one model: per task its metrics (value, stderr, n, direction), the task hash and time;
 * the model's identity (hash over its float32 weights), the run's settings and timings, and MergeLab's version.
 *
 * @param model where the weights came from
 * @param storedDtypes the checkpoint's dtypes before widening to float32 (e.g. "BF16")
 * @param limit --limit (0 for none)
 */
public record EvalReport(String model, LlamaModel.Info info, List<String> storedDtypes, int batchSize, int threads,
        int limit, double loadSeconds, double totalSeconds, List<TaskResult> results) {

    public ObjectNode toJson() {
        ObjectNode root = JsonMapper.builder().build().createObjectNode();
        root.put("mergelab_version", Version.get());
        root.put("created", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        ObjectNode m = root.putObject("model");
        m.put("path", model);
        m.put("architecture", info.architecture());
        m.put("identity", info.identity());
        m.put("parameters", info.parameters());
        storedDtypes.forEach(m.putArray("stored_dtypes")::add);
        m.put("graph", info.variant().name().toLowerCase(Locale.ROOT));
        ObjectNode c = root.putObject("config");
        c.put("batch_size", batchSize);
        c.put("threads", threads);
        if (limit > 0) {
            c.put("limit", limit);
        } else {
            c.putNull("limit");
        }
        ObjectNode t = root.putObject("timings");
        t.put("load_seconds", round(loadSeconds));
        t.put("session_seconds", round(info.sessionSeconds()));
        t.put("tasks_seconds", round(results.stream().mapToDouble(TaskResult::seconds).sum()));
        t.put("total_seconds", round(totalSeconds));
        ObjectNode tasks = root.putObject("tasks");
        for (TaskResult r : results) {
            ObjectNode o = tasks.putObject(r.task().name());
            o.put("type", r.task().spec().type().key());
            o.put("task_file", r.task().spec().specFile().toString());
            o.put("data_file", r.task().spec().data().toString());
            o.put("task_hash", r.task().hash());
            o.put("n", r.n());
            o.put("seconds", round(r.seconds()));
            ObjectNode ms = o.putObject("metrics");
            for (Metric x : r.metrics()) {
                ObjectNode mo = ms.putObject(x.name());
                number(mo, "value", x.value());
                if (x.stderr() == null) {
                    mo.putNull("stderr");
                } else {
                    number(mo, "stderr", x.stderr());
                }
                mo.put("n", x.n());
                mo.put("higher_is_better", x.higherIsBetter());
            }
        }
        return root;
    }

    /** A table: task, metric (↑ higher is better, ↓ lower), value, stderr, n; columns as wide as their cells. */
    public String table() {
        List<String[]> rows = new java.util.ArrayList<>();
        rows.add(new String[] {"task", "metric", "value", "stderr", "n"});
        for (TaskResult r : results) {
            for (Metric x : r.metrics()) {
                String arrow = x.higherIsBetter() ? " ↑" : " ↓";
                rows.add(new String[] {r.task().name(), x.name() + arrow, format(x.value()),
                    x.stderr() == null ? "-" : "±" + format(x.stderr()), String.valueOf(x.n())});
            }
        }
        int[] w = new int[5];
        for (String[] row : rows) {
            for (int i = 0; i < 5; i++) {
                w[i] = Math.max(w[i], row[i].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (String[] row : rows) {
            b.append(String.format(Locale.ROOT, "%-" + w[0] + "s  %-" + w[1] + "s  %" + w[2] + "s  %" + w[3] + "s  %"
                    + w[4] + "s%n", (Object[]) row));
        }
        return b.toString();
    }

    private static String format(double v) {
        if (!Double.isFinite(v)) {
            return String.valueOf(v);
        }
        return String.format(Locale.ROOT, Math.abs(v) >= 1e6 ? "%.4e" : "%.4f", v);
    }

    /** JSON has no NaN or Infinity: such values (a broken merge) are written as strings, visibly. */
    private static void number(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.put(key, String.valueOf(v));
        }
    }

    private static double round(double seconds) {
        return Math.round(seconds * 1000) / 1000.0;
    }
}
