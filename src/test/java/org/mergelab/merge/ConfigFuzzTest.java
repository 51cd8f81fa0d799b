package org.mergelab.merge;

import java.nio.file.Path;

import org.mergelab.BadInputException;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The config parser and the model-free checks on arbitrary text: a config either passes or is rejected with
 * {@link BadInputException}; nothing else may escape. The dictionary seeds mergekit's vocabulary so the fuzzer reaches
 * the method and parameter checks quickly.
 */
class ConfigFuzzTest {
    private static final Path LABEL = Path.of("fuzz.yml");

    @FuzzTest(maxDuration = "25s")
    @DictionaryEntries({"merge_method: ", "models:", "slices:", "sources:", "layer_range: [", "base_model: ",
        "parameters:", "- filter: ", "value: ", "weight: ", "t: ", "density: ", "slerp", "delerp", "linear",
        "nuslerp", "passthrough", "karcher", "multislerp", "dtype: bfloat16", "tokenizer_source: ", "  - model: "})
    void ci(FuzzedDataProvider data) {
        check(data.consumeRemainingAsString());
    }

    @FuzzTest(maxDuration = "30m", maxExecutions = 1_200_000)
    void exhaustive(FuzzedDataProvider data) {
        check(data.consumeRemainingAsString());
    }

    static void check(String text) {
        try {
            MergeConfig cfg = ConfigParser.parse(LABEL, text);
            Planner.check(cfg);
        } catch (BadInputException expected) {
            if (!expected.getMessage().startsWith(LABEL.toString())) {
                throw new AssertionError("message does not name the file: " + expected.getMessage());
            }
        }
    }
}
