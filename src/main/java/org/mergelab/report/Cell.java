package org.mergelab.report;

import java.util.List;
import java.util.Map;

/**
 * One cell of a sweep (a reference model, or a merge at one grid point) with its result row per split.
 *
 * @param params grid values: {@link Double} for numbers, {@link String} otherwise
 */
public record Cell(String id, ResultRow.Kind kind, String label, String method, String model, String base,
        List<String> models, Map<String, Object> params, long seed, Map<String, ResultRow> bySplit) {

    public boolean isReference() {
        return kind == ResultRow.Kind.REFERENCE;
    }

    /** The row for {@code split}, or null when this cell was not evaluated on it. */
    public ResultRow row(String split) {
        return bySplit.get(split);
    }

    /** The numeric value of grid parameter {@code name}, or null. */
    public Double number(String name) {
        return params.get(name) instanceof Double d ? d : null;
    }

    /** Norm statistics (the same on every split; null for references). */
    public ResultRow.Norms norms() {
        return bySplit.values().stream().map(ResultRow::norms).filter(n -> n != null).findFirst().orElse(null);
    }

    /** The models merged and the base: what separates two merges of one method besides their parameters. */
    public String inputs() {
        String joined = String.join(", ", models);
        return base == null || models.contains(base) ? joined : base + "; " + joined;
    }
}
