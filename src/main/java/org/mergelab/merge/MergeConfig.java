package org.mergelab.merge;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.mergelab.io.DType;

/**
 * A mergekit merge configuration, {@code models:} form, as parsed (not yet checked against a method or models).
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
        Map<String, ParameterSetting> parameters, DType dtype, DType outDtype, String tokenizerSource,
        List<String> warnings) {

    /** One {@code models:} entry: a model path and its own parameters. */
    public record ModelEntry(String model, Map<String, ParameterSetting> parameters) {}
}
