package org.mergelab.experiment;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One point of a sweep: a reference model evaluated as it is, or one merge recipe (method, models, parameter values,
 * seed). Its id is a hash of the experiment name and the recipe, with the models' content hashes, so the same recipe
 * on the same models always has the same id and anything else a different one.
 *
 * @param id 16 hex characters
 * @param label unique within the experiment, e.g. {@code instruct} or {@code delerp t=0.999}
 * @param method the spec's method name ({@code lerp} included), null for a reference
 * @param model the reference's alias, null for a merge
 * @param base the merge's base alias, or null
 * @param models the merge's model aliases as listed; {@code [alias]} for a reference
 * @param params the cell's parameter values by {@link ExperimentSpec.ParamAxis#key()}; empty for a reference
 * @param seed the merge's seed, null for a reference
 * @param where the spec key it comes from ({@code references}, {@code merges[1]}), for messages
 * @param config the merge as a mergekit config, null for a reference
 */
public record Cell(String id, Kind kind, String label, String method, String model, String base, List<String> models,
        Map<String, Object> params, Long seed, String dtype, String where, MergekitConfig config) {

    public enum Kind {
        REFERENCE, MERGE;

        /** As written in result rows. */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public boolean isReference() {
        return kind == Kind.REFERENCE;
    }

    /** A file-system friendly name: the label's safe characters and the id. */
    public String folderName() {
        String slug = label.replaceAll("[^A-Za-z0-9._=-]+", "_").replaceAll("_+$", "");
        return slug + "-" + id;
    }
}
