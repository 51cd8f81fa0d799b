package org.mergelab.cli;

import java.util.Locale;

import picocli.CommandLine;

/** Byte sizes as users write them: {@code 5G}, {@code 500M}, {@code 1.5G}, {@code 64KiB}; K/M/G/T are powers of 1000. */
final class Sizes implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        return parse(value);
    }

    static long parse(String value) {
        String v = value.trim().toUpperCase(Locale.ROOT);
        if (v.endsWith("B")) {
            v = v.substring(0, v.length() - 1);
        }
        long unit = 1;
        boolean binary = v.endsWith("I");
        if (binary) {
            v = v.substring(0, v.length() - 1);
        }
        if (!v.isEmpty()) {
            int pow = "KMGT".indexOf(v.charAt(v.length() - 1));
            if (pow >= 0) {
                unit = (long) Math.pow(binary ? 1024 : 1000, pow + 1);
                v = v.substring(0, v.length() - 1);
            } else if (binary) {
                v = "bad";
            }
        }
        double n;
        try {
            n = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a size; expected e.g. 5G, 500M, 64K");
        }
        if (!(n > 0) || n * unit > Long.MAX_VALUE) {
            throw new CommandLine.TypeConversionException("'" + value + "' must be a positive size");
        }
        long bytes = (long) (n * unit);
        if (bytes < 1) {
            // e.g. 0.5: would reach the writer as a shard size of 0 bytes
            throw new CommandLine.TypeConversionException("'" + value + "' is less than one byte");
        }
        return bytes;
    }

    static String format(long bytes) {
        if (bytes >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
        }
        if (bytes >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
        }
        if (bytes >= 1000) {
            return String.format(Locale.ROOT, "%.1f kB", bytes / 1e3);
        }
        return bytes + " B";
    }
}
