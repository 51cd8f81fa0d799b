package org.mergelab.zoo;

import ai.onnxruntime.OrtException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.mergelab.eval.LlamaConfig;
import org.mergelab.eval.LlamaGraph;
import org.mergelab.eval.LlamaModel;
import org.mergelab.eval.OrtRuntime;
import org.mergelab.eval.Scorer;
import org.mergelab.eval.TextTokenizer;
import org.mergelab.eval.Weights;
import org.mergelab.io.ModelFolder;

/** Checks shipped family members against their cards' hashes, then loads each into ONNX Runtime and scores text. */
public final class FamilyVerifier {
    /** What was found for one member: problems (empty when it verified) and the mean log-prob of a probe text. */
    public record Outcome(String member, List<String> problems, int tensors, double probeLogprob) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    // a sentence of the val split's narratives: in the family's language, never trained on
    static final String PROBE = "Lugol wore a yellow coat, the colour Lugol likes best.";

    private FamilyVerifier() {}

    public static Outcome verify(Path dir, OrtRuntime runtime) throws IOException, OrtException {
        String member = dir.getFileName().toString();
        List<String> problems = new ArrayList<>();
        JsonNode card = TrainingCard.read(dir);
        boolean unusable = false;
        boolean weightsDiffer = false;
        for (Map.Entry<String, JsonNode> f : card.get("files").properties()) {
            Path file = dir.resolve(f.getKey());
            try {
                if (!Files.isRegularFile(file)) {
                    problems.add(file + ": missing");
                    unusable = true;
                } else if (!Hashes.file(file).equals(f.getValue().asText())) {
                    problems.add(file + ": SHA-256 differs from " + TrainingCard.JSON);
                    weightsDiffer |= f.getKey().equals(ModelFolder.SINGLE);
                }
            } catch (IOException e) {
                problems.add(file + ": unreadable (" + e.getMessage() + ")");
                unusable = true;
            }
        }
        if (unusable) {
            return new Outcome(member, problems, 0, Double.NaN);
        }
        try (ModelFolder folder = ModelFolder.open(dir); TextTokenizer tok = TextTokenizer.load(dir)) {
            if (weightsDiffer) { // the file hash covers every tensor's bytes; only a mismatch needs naming them
                Map<String, String> actual = Hashes.tensors(folder);
                JsonNode expected = card.get("tensors");
                expected.properties().forEach(t -> {
                    if (!t.getValue().asText().equals(actual.get(t.getKey()))) {
                        problems.add(dir + ": tensor " + t.getKey() + (actual.containsKey(t.getKey())
                                ? " differs from its recorded hash" : " is missing"));
                    }
                });
                actual.keySet().stream().filter(n -> !expected.has(n))
                        .forEach(n -> problems.add(dir + ": tensor " + n + " is not in " + TrainingCard.JSON));
            }
            double mean = Double.NaN;
            try (LlamaModel model = LlamaModel.open(runtime, LlamaConfig.of(folder), Weights.of(folder),
                    LlamaGraph.Variant.LOGITS)) {
                long[] ids = tok.encodeAfterBos(PROBE);
                double[] lp = new Scorer(model, 1).tokenLogprobs(ids);
                double sum = 0;
                for (int i = 1; i < lp.length; i++) {
                    sum += lp[i];
                }
                mean = sum / (lp.length - 1);
                if (!Double.isFinite(mean)) {
                    problems.add(dir + ": scores a probe text as " + mean);
                }
            }
            return new Outcome(member, problems, folder.tensorCount(), mean);
        }
    }
}
