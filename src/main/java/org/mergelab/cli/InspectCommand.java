package org.mergelab.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.io.SafetensorsFile;
import org.mergelab.merge.ModelComparison;
import org.mergelab.merge.NormStats;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "inspect", mixinStandardHelpOptions = true, description = "List a model folder's tensors: dtype, shape, elements, L2 norm, and totals.")
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL_DIR")
    Path dir;

    @Option(names = "--json", description = "one JSON object instead of a table")
    boolean json;

    @Option(names = "--against", paramLabel = "OTHER_DIR",
            description = "compare with another model: per-layer norms, norm of the difference, cosine")
    Path against;

    @Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (against != null) {
            return compare(out);
        }
        try (ModelFolder m = ModelFolder.open(dir)) {
            ObjectNode root = JsonMapper.builder().build().createObjectNode();
            root.put("model", m.dir().toAbsolutePath().toString());
            ArrayNode list = root.putArray("tensors");
            long numel = 0;
            long bytes = 0;
            double squares = 0;
            for (ModelTensor t : m.tensors()) {
                double ss = NormStats.sumOfSquares(t);
                ObjectNode e = list.addObject();
                e.put("name", t.name());
                e.put("dtype", t.dtype().name());
                ArrayNode shape = e.putArray("shape");
                for (long d : t.info().shape()) {
                    shape.add(d);
                }
                e.put("numel", t.info().numel());
                if (!t.dtype().isFloat()) {
                    e.putNull("l2_norm"); // integer buffers have no weight norm
                } else {
                    // NaN or Infinity stays visible (a broken merge), rather than passing for an integer tensor
                    e.put("l2_norm", Math.sqrt(ss));
                    squares += ss;
                }
                numel += t.info().numel();
                bytes += t.info().byteSize();
            }
            ObjectNode totals = root.putObject("totals");
            totals.put("tensors", m.tensorCount());
            totals.put("numel", numel);
            totals.put("bytes", bytes);
            totals.put("shards", m.shards().size());
            totals.put("l2_norm", Math.sqrt(squares));
            if (json) {
                out.println(SafetensorsFile.jsonPretty(root));
            } else {
                printTable(out, root);
            }
        }
        return Main.OK;
    }

    private Integer compare(PrintWriter out) throws java.io.IOException {
        try (ModelFolder a = ModelFolder.open(dir); ModelFolder b = ModelFolder.open(against)) {
            List<ModelComparison.Row> rows = ModelComparison.compare(a, b);
            if (json) {
                ObjectNode root = JsonMapper.builder().build().createObjectNode();
                root.put("a", a.dir().toAbsolutePath().toString());
                root.put("b", b.dir().toAbsolutePath().toString());
                ArrayNode list = root.putArray("rows");
                for (ModelComparison.Row r : rows) {
                    ObjectNode e = list.addObject();
                    e.put("name", r.name());
                    if (r.layer() >= 0) {
                        e.put("layer", r.layer());
                    }
                    e.put("numel", r.numel());
                    putNumber(e, "norm_a", r.normA());
                    putNumber(e, "norm_b", r.normB());
                    putNumber(e, "norm_diff", r.normDiff());
                    putNumber(e, "cosine", r.cosine());
                    r.onlyIn().forEach(e.putArray("unmatched")::add);
                }
                out.println(SafetensorsFile.jsonPretty(root));
                return Main.OK;
            }
            String row = "%-32s %12s %12s %12s %10s %10s%n";
            out.printf(Locale.ROOT, row, "layer/tensor", "norm A", "norm B", "norm A-B", "rel diff", "cosine");
            for (ModelComparison.Row r : rows) {
                out.printf(Locale.ROOT, row, r.name(), fmt(r.normA()), fmt(r.normB()), fmt(r.normDiff()),
                        fmt(r.normDiff() / r.normA()), fmt(r.cosine()));
                for (String u : r.onlyIn()) {
                    out.println("  unmatched (missing or different shape in the other model): " + u);
                }
            }
        }
        return Main.OK;
    }

    private static void putNumber(ObjectNode e, String key, double v) {
        if (Double.isNaN(v)) {
            e.putNull(key);
        } else {
            e.put(key, v);
        }
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.6g", v);
    }

    private static void printTable(PrintWriter out, ObjectNode root) {
        int width = 4;
        for (var t : root.get("tensors")) {
            width = Math.max(width, t.get("name").asText().length());
        }
        String row = "%-" + width + "s  %-5s  %-18s  %14s  %12s%n";
        out.printf(Locale.ROOT, row, "name", "dtype", "shape", "numel", "l2_norm");
        for (var t : root.get("tensors")) {
            var norm = t.get("l2_norm");
            out.printf(Locale.ROOT, row, t.get("name").asText(), t.get("dtype").asText(), t.get("shape").toString(),
                    t.get("numel").asLong(), norm.isNull() ? "-" : formatNorm(norm.asDouble()));
        }
        var tot = root.get("totals");
        out.printf(Locale.ROOT, "%d tensors, %d elements, %s in %d shard(s), total L2 norm %s%n",
                tot.get("tensors").asInt(), tot.get("numel").asLong(), Sizes.format(tot.get("bytes").asLong()),
                tot.get("shards").asInt(), formatNorm(tot.get("l2_norm").asDouble()));
    }

    private static String formatNorm(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : String.valueOf(v);
    }
}
