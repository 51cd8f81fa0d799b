package org.mergelab.merge;

/**
 * How many NaN and infinite values one tensor holds: an input as the merge read it (after the config's {@code dtype}
 * rounding), or an output as it is written (a finite float32 too large for the output dtype counts as the infinity it
 * becomes).
 */
public record NonFinite(long nan, long inf) {
    public static final NonFinite NONE = new NonFinite(0, 0);

    public long total() {
        return nan + inf;
    }

    public boolean any() {
        return total() > 0;
    }

    public NonFinite plus(NonFinite other) {
        return new NonFinite(nan + other.nan, inf + other.inf);
    }

    /** "2 NaN, 1 Inf". */
    @Override
    public String toString() {
        return nan + " NaN, " + inf + " Inf";
    }
}
