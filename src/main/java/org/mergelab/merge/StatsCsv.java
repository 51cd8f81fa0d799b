package org.mergelab.merge;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * Writes {@link TensorStats} rows as CSV, one row per output tensor. Per-input values (norms, cosines) are joined with
 * {@code ;} in input order, named by the {@code inputs} column, because slices give tensors different inputs. The last
 * four columns count NaN and infinite values per input (as read) and in the output (as written).
 */
public final class StatsCsv {
    public static final String HEADER = "tensor,layer,numel,inputs,out_norm,input_norms,out_minus_base_norm,"
            + "cos_out_input,interpolation_norm_ratio,max_norm_ratio,pruned_fraction,sign_agreement,"
            + "input_nan,input_inf,output_nan,output_inf";

    private StatsCsv() {}

    /** Writes the file whole or not at all (temporary file, then rename). */
    public static void write(Path file, List<TensorStats> rows) throws IOException {
        List<String> lines = new ArrayList<>(rows.size() + 1);
        lines.add(HEADER);
        for (TensorStats r : rows) {
            lines.add(String.join(",", quote(r.tensor()), r.layer() < 0 ? "" : Integer.toString(r.layer()),
                    Long.toString(r.numel()), quote(String.join(";", r.inputs())), num(r.outNorm()),
                    nums(r.inputNorms()), num(r.outMinusBaseNorm()), nums(r.cosines()), num(r.interpolationRatio()),
                    num(r.maxNormRatio()), num(r.prunedFraction()), num(r.signAgreement()),
                    counts(r.inputNonFinite(), NonFinite::nan), counts(r.inputNonFinite(), NonFinite::inf),
                    Long.toString(r.outNonFinite().nan()), Long.toString(r.outNonFinite().inf())));
        }
        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            Files.write(tmp, lines);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.9g", v);
    }

    private static String nums(double[] v) {
        List<String> parts = new ArrayList<>(v.length);
        for (double d : v) {
            parts.add(num(d));
        }
        return String.join(";", parts);
    }

    private static String counts(List<NonFinite> perInput, ToLongFunction<NonFinite> which) {
        return String.join(";", perInput.stream().map(c -> Long.toString(which.applyAsLong(c))).toList());
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
