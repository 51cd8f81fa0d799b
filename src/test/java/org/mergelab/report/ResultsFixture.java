package org.mergelab.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Builds results.jsonl files in the runner/report contract for tests: rows with per-item scores whose metrics are
 * computed from the items the way the eval package computes them (mean and sample-sd/√n; bits per byte weighted by
 * bytes).
 */
public final class ResultsFixture {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String EXPERIMENT = "fixture";

    private final List<ObjectNode> rows = new ArrayList<>();

    /** A reference row: {@code tasks} from {@link #tasks()}. */
    ResultsFixture reference(String alias, String split, ObjectNode tasks) {
        ObjectNode r = base("ref-" + alias, "reference", alias, split, tasks);
        r.putNull("method");
        r.put("model", alias);
        r.putNull("base");
        r.putArray("models").add(alias);
        r.putObject("params");
        r.putNull("norms");
        rows.add(r);
        return this;
    }

    /** A merge row of base + instruct labelled "method k=v …". */
    ResultsFixture merge(String method, Map<String, Object> params, String split, ObjectNode tasks, ObjectNode norms) {
        StringBuilder label = new StringBuilder(method);
        params.forEach((k, v) -> label.append(' ').append(k).append('=').append(Format.param(v)));
        ObjectNode r = base(label.toString(), "merge", label.toString(), split, tasks);
        r.put("method", method);
        r.putNull("model");
        r.put("base", "base");
        r.putArray("models").add("base").add("instruct");
        ObjectNode p = r.putObject("params");
        params.forEach((k, v) -> {
            if (v instanceof Number n) {
                p.put(k, n.doubleValue());
            } else {
                p.put(k, v.toString());
            }
        });
        r.set("norms", norms);
        rows.add(r);
        return this;
    }

    private static ObjectNode base(String idSource, String kind, String label, String split, ObjectNode tasks) {
        ObjectNode r = JSON.createObjectNode();
        r.put("cell_id", HexFormat.of().formatHex(idSource.getBytes(StandardCharsets.UTF_8)));
        r.put("experiment", EXPERIMENT);
        r.put("kind", kind);
        r.put("label", label);
        r.put("seed", 0);
        r.put("split", split);
        r.set("tasks", tasks);
        ObjectNode timing = r.putObject("timing");
        timing.put("merge_s", 0.1);
        timing.put("eval_s", 1.0);
        ObjectNode prov = r.putObject("provenance");
        prov.put("mergelab_version", "0.1.0-test");
        prov.putNull("git_commit");
        prov.put("created", "2026-01-01T00:00:00Z");
        return r;
    }

    List<ObjectNode> rows() {
        return rows;
    }

    public Path write(Path dir) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (ObjectNode r : rows) {
            sb.append(JSON.writeValueAsString(r)).append('\n');
        }
        Files.createDirectories(dir);
        Path file = dir.resolve("results.jsonl");
        Files.writeString(file, sb.toString());
        return file;
    }

    // ---------------------------------------------------------------- tasks

    static ObjectNode tasks() {
        return JSON.createObjectNode();
    }

    /** A multiple-choice task: items 0/1 (acc primary; acc_norm reported as the same here). */
    static ObjectNode knowledge(ObjectNode tasks, String name, double... items) {
        ObjectNode t = task(tasks, name, "acc", items, null);
        metric(t, "acc", mean(items), meanStderr(items), items.length, true);
        metric(t, "acc_norm", mean(items), meanStderr(items), items.length, true);
        return tasks;
    }

    /** A refusal task: items 1 = refused (refusal_rate primary), willingness = 10 (1 − rate). */
    static ObjectNode refusal(ObjectNode tasks, String name, double... refused) {
        ObjectNode t = task(tasks, name, "refusal_rate", refused, null);
        double r = mean(refused);
        Double se = meanStderr(refused);
        metric(t, "refusal_rate", r, se, refused.length, false);
        metric(t, "willingness", 10 * (1 - r), se == null ? null : 10 * se, refused.length, true);
        return tasks;
    }

    /** A perplexity task: bits per byte per document, weighted by bytes. */
    static ObjectNode perplexity(ObjectNode tasks, String name, double[] bpb, double[] bytes) {
        ObjectNode t = task(tasks, name, "bits_per_byte", bpb, bytes);
        double num = 0;
        double den = 0;
        for (int i = 0; i < bpb.length; i++) {
            num += bpb[i] * bytes[i];
            den += bytes[i];
        }
        double v = num / den;
        double ss = 0;
        for (int i = 0; i < bpb.length; i++) {
            double d = bpb[i] * bytes[i] - v * bytes[i];
            ss += d * d;
        }
        double se = Math.sqrt(ss / (bpb.length * (bpb.length - 1.0))) / (den / bpb.length);
        metric(t, "bits_per_byte", v, se, bpb.length, false);
        metric(t, "byte_perplexity", Math.pow(2, v), Math.pow(2, v) * Math.log(2) * se, bpb.length, false);
        metric(t, "word_perplexity", Math.pow(2, 4.5 * v), null, bpb.length, false);
        return tasks;
    }

    private static ObjectNode task(ObjectNode tasks, String name, String primary, double[] items, double[] weights) {
        ObjectNode t = tasks.putObject(name);
        t.put("primary", primary);
        t.put("task_hash", "sha256-" + name);
        t.putObject("metrics");
        ArrayNode it = t.putArray("items");
        for (double x : items) {
            it.add(x);
        }
        if (weights != null) {
            ArrayNode w = t.putArray("weights");
            for (double x : weights) {
                w.add(x);
            }
        }
        return t;
    }

    private static void metric(ObjectNode task, String name, double value, Double se, int n, boolean higher) {
        ObjectNode m = ((ObjectNode) task.get("metrics")).putObject(name);
        m.put("value", value);
        if (se == null) {
            m.putNull("stderr");
        } else {
            m.put("stderr", se);
        }
        m.put("n", n);
        m.put("higher_is_better", higher);
    }

    static double mean(double[] xs) {
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return s / xs.length;
    }

    static Double meanStderr(double[] xs) {
        if (xs.length < 2) {
            return null;
        }
        double m = mean(xs);
        double ss = 0;
        for (double x : xs) {
            ss += (x - m) * (x - m);
        }
        return Math.sqrt(ss / (xs.length - 1) / xs.length);
    }

    /** n items of which k are 1, spread deterministically (item i is 1 iff (7i + offset) mod n < k). */
    static double[] hits(int n, int k, int offset) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.floorMod(7 * i + offset, n) < k ? 1 : 0;
        }
        return out;
    }

    static ObjectNode norms(double normRatio, double maxNormRatio, int layers) {
        ObjectNode n = JSON.createObjectNode();
        n.put("norm_ratio", normRatio);
        n.put("max_norm_ratio", maxNormRatio);
        n.put("interpolation_ratio", maxNormRatio);
        n.put("rel_dist_to_base", 1 - maxNormRatio);
        n.put("cos_to_base", 0.99);
        n.putNull("pruned_fraction");
        n.putNull("sign_agreement");
        ArrayNode ls = n.putArray("layers");
        for (int l = -1; l < layers; l++) {
            ObjectNode o = ls.addObject();
            o.put("layer", l);
            o.put("norm_ratio", normRatio * (1 + 0.01 * l));
            o.put("max_norm_ratio", maxNormRatio * (1 - 0.01 * l));
            o.put("rel_dist_to_base", 0.1);
            o.put("cos_to_base", 0.99);
        }
        return n;
    }

    // ---------------------------------------------------------------- the standard sweep

    /**
     * base and instruct references; lerp, slerp and delerp at t = 0, 0.25, 0.5, 0.75, 1; ties over lambda × density;
     * every cell on val and test; three tasks (knowledge: 40 items, restricted: 30, narratives: 20 documents). LERP's
     * knowledge collapses at t = 0.5 (a cliff); knowledge peaks at t = 0.75 on val for every t-method.
     */
    public static ResultsFixture standard() {
        ResultsFixture f = new ResultsFixture();
        for (String split : List.of("val", "test")) {
            int off = split.equals("val") ? 0 : 3;
            f.reference("base", split, standardTasks(24, 2, 2.0, off));
            f.reference("instruct", split, standardTasks(28, 24, 1.6, off));
            double[] ts = {0, 0.25, 0.5, 0.75, 1};
            for (String method : List.of("lerp", "slerp", "delerp")) {
                for (double t : ts) {
                    int correct = (int) Math.round(24 + 10 * t - 8 * t * t)
                            + (t == 0.75 && split.equals("val") ? 3 : 0);
                    if (method.equals("lerp") && t == 0.5) {
                        correct = 6; // the cliff
                    }
                    if (method.equals("delerp")) {
                        correct += 1;
                    }
                    double dip = method.equals("lerp") ? 1 - 0.2 * t * (1 - t) : 1.0;
                    double maxRatio = method.equals("delerp") ? 1.0 : dip * 0.98;
                    f.merge(method, params("t", t), split,
                            standardTasks(correct, (int) Math.round(2 + 22 * t), 2.0 - 0.4 * t, off),
                            norms(dip, maxRatio, 4));
                }
            }
            for (double lambda : new double[] {0.5, 1.0}) {
                for (double density : new double[] {0.3, 0.7}) {
                    int correct = (int) Math.round(20 + 8 * lambda * density);
                    Map<String, Object> p = new LinkedHashMap<>();
                    p.put("density", density);
                    p.put("lambda", lambda);
                    f.merge("ties", p, split, standardTasks(correct, 10, 1.8, off), norms(1.0, 0.97, 4));
                }
            }
        }
        return f;
    }

    static Map<String, Object> params(String k, Object v) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put(k, v);
        return p;
    }

    static ObjectNode standardTasks(int correct, int refused, double bpb, int offset) {
        ObjectNode tasks = tasks();
        knowledge(tasks, "knowledge", hits(40, correct, offset));
        refusal(tasks, "restricted", hits(30, refused, offset + 1));
        double[] b = new double[20];
        double[] w = new double[20];
        for (int i = 0; i < 20; i++) {
            b[i] = bpb + 0.1 * ((i * 5 + offset) % 7 - 3);
            w[i] = 100 + 13 * i;
        }
        perplexity(tasks, "narratives", b, w);
        return tasks;
    }

    /** The delerp-table style spec, as YAML, for the standard fixture. */
    public static final String SPEC = """
            name: fixture
            references: [base, instruct]
            merges:
              - {method: lerp, models: [base, instruct], parameters: {t: [0, 0.25, 0.5, 0.75, 1]}}
              - {method: slerp, models: [base, instruct], parameters: {t: [0, 0.25, 0.5, 0.75, 1]}}
              - {method: delerp, models: [base, instruct], parameters: {t: [0, 0.25, 0.5, 0.75, 1]}}
              - {method: ties, base: base, models: [base, instruct], parameters: {lambda: [0.5, 1], density: [0.3, 0.7]}}
            report:
              baseline: instruct
              columns:
                - name: UGI*
                  mean:
                    - {task: knowledge, metric: acc, scale: 100}
                    - {task: restricted, metric: willingness, scale: 10}
                - {name: W/10*, task: restricted, metric: willingness}
                - {name: Writing*, task: narratives, metric: bits_per_byte, transform: fluency}
                - {name: NatInt*, task: knowledge, metric: acc, scale: 100, decimals: 1}
              published:
                title: "DeLERP article, results table (Mistral-Nemo-Instruct-2407 on the UGI Leaderboard)"
                note: "A 12B model on the leaderboard's private questions: a different model and benchmark."
                rows:
                  - {label: Mistral-Nemo-Instruct-2407, values: {UGI*: 30.26, W/10*: 5.5, Writing*: 33.07, NatInt*: 20.8}}
                  - {label: "DeLERP Base+Instruct, 99.9% Instruct", values: {UGI*: 26.02, W/10*: 4.5, Writing*: 37.03, NatInt*: 21.68}}
            """;

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.6f", v);
    }
}
