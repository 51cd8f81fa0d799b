package org.mergelab.report;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The norm statistics of results.jsonl's {@code norms} object, by their JSON names. */
public enum NormStatistic {
    NORM_RATIO("‖merged‖ / ‖base‖", true),
    MAX_NORM_RATIO("‖merged‖ / max ‖input‖ (per tensor)", true),
    INTERPOLATION_RATIO("‖merged‖ / ((1−t)‖v0‖ + t‖v1‖) (per tensor)", false),
    REL_DIST_TO_BASE("‖merged − base‖ / ‖base‖", true),
    COS_TO_BASE("cos(merged, base) (per tensor)", true),
    PRUNED_FRACTION("pruned fraction", false),
    SIGN_AGREEMENT("sign agreement", false);

    private final String description;
    private final boolean perLayer;

    NormStatistic(String description, boolean perLayer) {
        this.description = description;
        this.perLayer = perLayer;
    }

    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String description() {
        return description;
    }

    /** Whether results.jsonl's per-layer entries carry this statistic. */
    public boolean perLayer() {
        return perLayer;
    }

    /** The statistic named {@code name}, or null. */
    public static NormStatistic byJsonName(String name) {
        return Arrays.stream(values()).filter(s -> s.jsonName().equals(name)).findFirst().orElse(null);
    }

    static String allNames(boolean perLayerOnly) {
        return Arrays.stream(values()).filter(s -> !perLayerOnly || s.perLayer).map(NormStatistic::jsonName)
                .collect(Collectors.joining(", "));
    }
}
