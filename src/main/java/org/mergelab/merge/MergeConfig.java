package org.mergelab.merge;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.mergelab.io.DType;

/**
 * A mergekit merge configuration, {@code models:} or {@code slices:} form, as parsed (not yet checked against a method or models).
 *
 * <p>Exactly one of {@code models} and {@code slices} is non-empty.
 *
 * @param file where it was read from (for messages)
 * @param text the YAML as written, saved beside the output as {@code mergelab_config.yml}
 * @param baseModel the {@code base_model} path, or null
 * @param dtype compute/load dtype, or null (inputs are rounded to it on load)
 * @param outDtype dtype written, or null (then {@code dtype}, else the donor model's dtype)
 * @param tokenizerSource {@code base}, a model path, or null (= the donor's tokenizer)
 * @param warnings things accepted but ignored, to be shown to the user
 */
public record MergeConfig(Path file, String text, String method, String baseModel, List<ModelEntry> models,
        List<OutputSlice> slices, Map<String, ParameterSetting> parameters, DType dtype, DType outDtype,
        String tokenizerSource, List<String> warnings) {

    /** One {@code models:} entry: a model path and its own parameters. */
    public record ModelEntry(String model, Map<String, ParameterSetting> parameters) {}

    /** One {@code slices:} entry: output layers made from the same number of layers of each source. */
    public record OutputSlice(List<InputSlice> sources, String baseModel, Map<String, ParameterSetting> parameters) {}

    /** A slice source: layers {@code [start, end)} of a model, with that model's own parameters. */
    public record InputSlice(String model, int start, int end, Map<String, ParameterSetting> parameters) {}

    /** Whether the config uses {@code slices:} (else {@code models:}). */
    public boolean usesSlices() {
        return !slices.isEmpty();
    }
}
