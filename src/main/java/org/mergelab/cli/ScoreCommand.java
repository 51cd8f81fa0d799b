package org.mergelab.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.mergelab.BadInputException;
import org.mergelab.eval.LlamaConfig;
import org.mergelab.eval.LlamaGraph;
import org.mergelab.eval.LlamaModel;
import org.mergelab.eval.OrtRuntime;
import org.mergelab.eval.Scorer;
import org.mergelab.eval.TextTokenizer;
import org.mergelab.eval.Weights;
import org.mergelab.io.ModelFolder;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Log-probability of every token given the ones before it, with ONNX Runtime.",
            "The last line of stdout is {\"tokens\": [...], \"logprobs\": [null, lp1, ...]}, "
                    + "logprobs[i] = log P(token_i | tokens_<i)."})
final class ScoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL_DIR", description = "HF model folder (Llama, Mistral, Qwen2)")
    Path dir;

    static final class Input {
        @Option(names = "--token-ids", paramLabel = "IDS", split = ",", required = true,
                description = "comma-separated token ids, scored as given")
        List<Long> ids;

        @Option(names = "--text", paramLabel = "TEXT", required = true,
                description = "text, encoded with the model's tokenizer.json after its BOS token")
        String text;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--no-bos", description = "with --text: do not put the BOS token first")
    boolean noBos;

    @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime threads (default: all cores)")
    Integer threads;

    @Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        int n = EvalCommand.threads(spec, threads);
        try (ModelFolder folder = ModelFolder.open(dir)) {
            LlamaConfig config = LlamaConfig.of(folder);
            long[] tokens;
            if (input.text != null) {
                try (TextTokenizer tok = TextTokenizer.load(dir)) {
                    tokens = noBos ? tok.encode(input.text) : tok.encodeAfterBos(input.text);
                }
            } else {
                tokens = input.ids.stream().mapToLong(Long::longValue).toArray();
            }
            if (tokens.length == 0) {
                throw new BadInputException("nothing to score: the text encodes to no tokens");
            }
            for (long t : tokens) {
                if (t < 0 || t >= config.vocabSize()) {
                    throw new BadInputException("token id " + t + " is outside the vocabulary of " + dir + " (0.."
                            + (config.vocabSize() - 1) + ")");
                }
            }
            OrtRuntime runtime = OrtRuntime.create(n);
            double[] lp;
            try (LlamaModel model = LlamaModel.open(runtime, config, Weights.of(folder), LlamaGraph.Variant.LOGITS)) {
                lp = new Scorer(model, 1).tokenLogprobs(tokens);
            }
            ObjectNode out = JsonMapper.builder().build().createObjectNode();
            ArrayNode t = out.putArray("tokens");
            for (long id : tokens) {
                t.add(id);
            }
            ArrayNode l = out.putArray("logprobs");
            l.addNull();
            for (int i = 1; i < lp.length; i++) {
                if (Double.isFinite(lp[i])) {
                    l.add(lp[i]);
                } else {
                    l.add(String.valueOf(lp[i])); // NaN/-Infinity from a broken model, kept visible
                }
            }
            spec.commandLine().getOut().println(out.toString());
        }
        return Main.OK;
    }
}
