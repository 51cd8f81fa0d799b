package org.mergelab.zoo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.mergelab.BadInputException;
import org.mergelab.Version;
import org.mergelab.eval.Metric;
import org.mergelab.eval.TaskResult;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.SafetensorsFile;
import org.mergelab.zoo.train.ModelShape;

/**
 * A member's training card: {@code training.json} (what {@code zoo verify} checks: file and tensor hashes) and
 * {@code TRAINING.md} (the same for people: data recipe, seed, schedule, loss curve, wall time, quality bars).
 */
public final class TrainingCard {
    public static final String JSON = "training.json";
    public static final String MARKDOWN = "TRAINING.md";

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private TrainingCard() {}

    /** Writes both files into the member's folder. */
    public static void write(Path dir, FamilyTrainer.Run run, ModelShape shape, long familySeed,
            Map<String, TaskResult> quality, List<QualityBars.Bar> bars) throws IOException {
        ObjectNode card = MAPPER.createObjectNode();
        FamilyTrainer.Recipe r = run.recipe();
        card.put("name", r.name());
        card.put("parent", r.parent());
        card.put("mergelab_version", Version.get());
        card.put("family_seed", familySeed);
        card.put("seed", run.seed());
        card.put("data", Family.DATA.get(r.name()));
        card.put("replay_fraction", r.replay());
        ObjectNode sh = card.putObject("shape");
        sh.put("layers", shape.layers()).put("hidden", shape.hidden()).put("intermediate", shape.intermediate())
                .put("heads", shape.heads()).put("kv_heads", shape.kvHeads()).put("vocab", shape.vocab())
                .put("context", shape.context()).put("parameters", shape.parameters());
        ObjectNode sched = card.putObject("schedule");
        sched.put("steps", r.steps()).put("batch_rows", r.batch()).put("tokens_per_row", shape.context())
                .put("peak_lr", r.peakLr()).put("warmup_steps", r.warmup())
                .put("lr_schedule", "linear warm-up, cosine decay to 0.1 x peak").put("optimizer", "AdamW")
                .put("weight_decay", r.weightDecay());
        ArrayNode curve = card.putArray("loss_curve");
        for (double[] p : run.lossCurve()) {
            curve.addArray().add((int) p[0]).add(round(p[1]));
        }
        card.put("final_train_loss", round(run.lossCurve().getLast()[1]));
        card.put("heldout_narrative_loss", round(run.heldOutNarrativeLoss()));
        card.put("tokens_seen", run.tokens());
        card.put("wall_seconds", Math.round(run.wallSeconds() * 10) / 10.0);
        ObjectNode q = card.putObject("quality_test_split");
        quality.forEach((task, res) -> {
            ObjectNode t = q.putObject(task);
            for (Metric m : res.metrics()) {
                ObjectNode mn = t.putObject(m.name());
                mn.put("value", round(m.value()));
                if (m.stderr() != null) {
                    mn.put("stderr", round(m.stderr()));
                }
                mn.put("n", m.n());
            }
        });
        ArrayNode bn = card.putArray("bars");
        for (QualityBars.Bar b : bars) {
            bn.addObject().put("bar", b.description()).put("value", round(b.value())).put("target", b.target())
                    .put("met", b.met());
        }
        ObjectNode files = card.putObject("files");
        for (String f : Hashes.PINNED_FILES) {
            files.put(f, Hashes.file(dir.resolve(f)));
        }
        try (ModelFolder folder = ModelFolder.open(dir)) {
            ObjectNode tensors = card.putObject("tensors");
            Hashes.tensors(folder).forEach(tensors::put);
        }
        Files.writeString(dir.resolve(JSON), SafetensorsFile.jsonPretty(card) + "\n");
        Files.writeString(dir.resolve(MARKDOWN), markdown(card));
    }

    /** Reads a member's card. */
    public static JsonNode read(Path dir) throws IOException {
        Path file = dir.resolve(JSON);
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(file + ": not found (every family member carries its training card)");
        }
        try {
            return MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new BadInputException(file + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("")
                    + ")");
        }
    }

    private static String markdown(JsonNode c) {
        StringBuilder md = new StringBuilder();
        JsonNode sh = c.get("shape");
        JsonNode s = c.get("schedule");
        md.append("# ").append(c.get("name").asText()).append(" — training card\n\n");
        md.append(c.get("parent").isNull() ? "Trained from random initialisation" : "Fine-tuned from `"
                + c.get("parent").asText() + "`").append(" by `./mergelab zoo train` (MergeLab ")
                .append(c.get("mergelab_version").asText()).append(").\n\n");
        md.append("| | |\n|---|---|\n");
        row(md, "architecture", String.format(Locale.ROOT, "Llama, %d layers, hidden %d, MLP %d, %d heads (%d KV),"
                + " vocab %d (characters), context %d; %,d parameters", sh.get("layers").asInt(),
                sh.get("hidden").asInt(), sh.get("intermediate").asInt(), sh.get("heads").asInt(),
                sh.get("kv_heads").asInt(), sh.get("vocab").asInt(), sh.get("context").asInt(),
                sh.get("parameters").asLong()));
        row(md, "data", c.get("data").asText() + (c.get("replay_fraction").asDouble() > 0
                ? String.format(Locale.ROOT, "; %.0f %% of documents replayed from the pretraining mixture",
                        100 * c.get("replay_fraction").asDouble()) : ""));
        row(md, "seeds", "family " + c.get("family_seed").asLong() + ", member " + c.get("seed").asLong());
        row(md, "schedule", String.format(Locale.ROOT, "%d steps × %d rows × %d tokens, AdamW (weight decay %s),"
                + " peak lr %s, %d warm-up steps, cosine to 0.1 × peak", s.get("steps").asInt(),
                s.get("batch_rows").asInt(), s.get("tokens_per_row").asInt(), s.get("weight_decay").asText(),
                s.get("peak_lr").asText(), s.get("warmup_steps").asInt()));
        row(md, "tokens seen", String.format(Locale.ROOT, "%,d", c.get("tokens_seen").asLong()));
        row(md, "wall time", String.format(Locale.ROOT, "%.1f s on 2 cores", c.get("wall_seconds").asDouble()));
        row(md, "final train loss", c.get("final_train_loss").asText() + " nats/token");
        row(md, "held-out narrative loss", c.get("heldout_narrative_loss").asText() + " nats/token (val split)");
        md.append("\n## Loss curve (mean train loss per ").append(FamilyTrainer.CURVE_EVERY).append(" steps)\n\n");
        StringBuilder steps = new StringBuilder("| step |");
        StringBuilder losses = new StringBuilder("| loss |");
        StringBuilder sep = new StringBuilder("|---|");
        JsonNode curve = c.get("loss_curve");
        int stride = Math.max(1, curve.size() / 10);
        for (int i = 0; i < curve.size(); i++) {
            if (i % stride == 0 || i == curve.size() - 1) {
                steps.append(' ').append(curve.get(i).get(0).asInt()).append(" |");
                losses.append(' ').append(String.format(Locale.ROOT, "%.3f", curve.get(i).get(1).asDouble()))
                        .append(" |");
                sep.append("---|");
            }
        }
        md.append(steps).append('\n').append(sep).append('\n').append(losses).append("\n\n");
        md.append("## Quality on the `test` split (`./mergelab eval`)\n\n| task | metric | value | stderr | n |\n"
                + "|---|---|---|---|---|\n");
        c.get("quality_test_split").properties().forEach(t -> t.getValue().properties().forEach(m ->
                md.append("| ").append(t.getKey()).append(" | ").append(m.getKey()).append(" | ")
                        .append(m.getValue().get("value").asText()).append(" | ")
                        .append(m.getValue().has("stderr") ? m.getValue().get("stderr").asText() : "–")
                        .append(" | ").append(m.getValue().get("n").asInt()).append(" |\n")));
        md.append("\n## Quality bars\n\n");
        if (c.get("bars").isEmpty()) {
            md.append("None apply to this member on its own.\n");
        } else {
            md.append("| bar | value | target | met |\n|---|---|---|---|\n");
            for (JsonNode b : c.get("bars")) {
                md.append("| ").append(b.get("bar").asText()).append(" | ").append(b.get("value").asText())
                        .append(" | ").append(b.get("target").asText()).append(" | ")
                        .append(b.get("met").asBoolean() ? "yes" : "**no**").append(" |\n");
            }
        }
        md.append("\nFile and tensor SHA-256 hashes are in `").append(JSON)
                .append("`; `./mergelab zoo verify` checks them.\n");
        return md.toString();
    }

    private static void row(StringBuilder md, String key, String value) {
        md.append("| ").append(key).append(" | ").append(value).append(" |\n");
    }

    private static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v;
    }
}
