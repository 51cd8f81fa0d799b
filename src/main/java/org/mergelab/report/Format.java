package org.mergelab.report;

import java.math.BigDecimal;
import java.util.Locale;

/** Number and name formatting shared by tables, plots and file names; locale-independent. */
final class Format {
    private Format() {}

    /** {@code value} with {@code decimals} digits after the point ("–" for null or NaN). */
    static String fixed(Double value, int decimals) {
        if (value == null || value.isNaN()) {
            return "–";
        }
        String s = String.format(Locale.ROOT, "%." + decimals + "f", value);
        return s.matches("-0(\\.0*)?") ? s.substring(1) : s; // no "-0.00"
    }

    /** A grid value as written in a spec: 0.999, 1, 0.1 (no binary noise, no trailing zeros). */
    static String param(Object v) {
        if (v instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
                return d.toString();
            }
            return new BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
        }
        return String.valueOf(v);
    }

    /** A p-value with its relation: "=0.0123", or "<0.0001". */
    static String pValue(double p) {
        return p < 1e-4 ? "<0.0001" : String.format(Locale.ROOT, "=%.4f", p);
    }

    /** A file-name-safe form of a name: "W/10*" → "w-10", "delerp t=0.5" → "delerp-t-0-5". */
    static String slug(String name) {
        String s = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        return s.isEmpty() ? "x" : s;
    }
}
