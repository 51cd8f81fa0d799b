package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.merge.StatsCsv;

/** {@code merge --stats}: one CSV row per output tensor, values checked against norms computed here. */
class StatsCliTest {
    @TempDir
    static Path dir;

    static Path base;
    static Path a;
    static Path b;

    @BeforeAll
    static void models() throws IOException {
        TinyFamily family = TinyFamily.write(dir);
        base = family.base();
        a = family.a();
        b = family.b();
    }

    static double[] values(ModelTensor t) {
        return MergeCliTest.values(t);
    }

    static double[] cells(String s) {
        return java.util.Arrays.stream(s.split(";")).mapToDouble(Double::parseDouble).toArray();
    }

    @Test
    void delerpStatsShowTheMaxNormRatioOfOne() throws IOException {
        Path cfg = dir.resolve("delerp.yml");
        Files.writeString(cfg, "merge_method: delerp\nbase_model: " + base + "\nmodels:\n  - model: " + base
                + "\n  - model: " + a + "\nparameters: {t: 0.5}\ndtype: float32\n");
        Path out = dir.resolve("delerp-out");
        Path csv = dir.resolve("stats/delerp.csv");
        CliRun run = CliRun.of("merge", cfg, out, "--stats", csv);
        assertEquals(0, run.code(), run.err());
        List<String> lines = Files.readAllLines(csv);
        assertEquals(StatsCsv.HEADER, lines.get(0));
        try (ModelFolder merged = ModelFolder.open(out); ModelFolder b0 = ModelFolder.open(base);
                ModelFolder a1 = ModelFolder.open(a)) {
            assertEquals(merged.tensorCount() + 1, lines.size());
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.split(",", -1);
                ModelTensor t = merged.tensor(f[0]);
                double[] out1 = values(t);
                double[] x0 = values(b0.tensor(f[0]));
                double[] x1 = values(a1.tensor(f[0]));
                double outNorm = norm(out1);
                assertEquals(f[0].contains("layers.") ? f[0].split("\\.")[2] : "", f[1]);
                assertEquals(out1.length, Long.parseLong(f[2]));
                assertEquals("base;ft-a", f[3]);
                assertEquals(outNorm, Double.parseDouble(f[4]), 1e-5 * outNorm);
                double[] in = cells(f[5]);
                assertEquals(norm(x0), in[0], 1e-5 * in[0]);
                assertEquals(norm(x1), in[1], 1e-5 * in[1]);
                double diff = 0;
                for (int i = 0; i < out1.length; i++) {
                    diff += (out1[i] - x0[i]) * (out1[i] - x0[i]);
                }
                assertEquals(Math.sqrt(diff), Double.parseDouble(f[6]), 1e-4 * Math.sqrt(diff) + 1e-7);
                double[] cos = cells(f[7]);
                assertEquals(dot(out1, x1) / (outNorm * norm(x1)), cos[1], 1e-5);
                // DeLERP keeps the larger norm: the max-norm ratio is 1, the interpolated-norm ratio ≥ 1
                assertEquals(1.0, Double.parseDouble(f[9]), 1e-5, line);
                assertTrue(Double.parseDouble(f[8]) >= 1 - 1e-6, line);
                assertEquals("", f[10], "no sparsification in delerp");
                assertEquals("", f[11], "no sign agreement with a single task vector");
            }
        }
    }

    @Test
    void signAgreementWithTwoTaskVectors() throws IOException {
        Path cfg = dir.resolve("multi.yml");
        Files.writeString(cfg, "merge_method: multislerp\nbase_model: " + base + "\nmodels:\n  - model: " + a
                + "\n    parameters: {weight: 0.5}\n  - model: " + b + "\n    parameters: {weight: 0.5}\n");
        Path out = dir.resolve("multi-out");
        Path csv = dir.resolve("multi.csv");
        assertEquals(0, CliRun.of("merge", cfg, out, "--stats", csv).code());
        List<String> lines = Files.readAllLines(csv);
        try (ModelFolder b0 = ModelFolder.open(base); ModelFolder a1 = ModelFolder.open(a);
                ModelFolder b1 = ModelFolder.open(b)) {
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.split(",", -1);
                double[] x = values(b0.tensor(f[0]));
                double[] p = values(a1.tensor(f[0]));
                double[] q = values(b1.tensor(f[0]));
                long agree = 0;
                long considered = 0;
                for (int i = 0; i < x.length; i++) {
                    double s = Math.signum((float) (p[i] - x[i]));
                    double r = Math.signum((float) (q[i] - x[i]));
                    if (s != 0 && r != 0) {
                        considered++;
                        agree += s == r ? 1 : 0;
                    }
                }
                assertEquals((double) agree / considered, Double.parseDouble(f[11]), 1e-9, line);
                assertEquals("", f[8], "no t: no interpolation ratio");
            }
        }
    }

    @Test
    void sparsifyingMethodsReportThePrunedFraction() throws IOException {
        for (String density : new String[] {"1.0", "0.3"}) {
            Path cfg = dir.resolve("ties-" + density + ".yml");
            Files.writeString(cfg, "merge_method: ties\nbase_model: " + base + "\nmodels:\n  - model: " + a
                    + "\n    parameters: {weight: 0.5, density: " + density + "}\n  - model: " + b
                    + "\n    parameters: {weight: 0.5, density: " + density + "}\n");
            Path csv = dir.resolve("ties-" + density + ".csv");
            assertEquals(0, CliRun.of("merge", cfg, dir.resolve("ties-out-" + density), "--stats", csv).code());
            for (String line : Files.readAllLines(csv).subList(1, 22)) {
                String[] f = line.split(",", -1);
                double pruned = Double.parseDouble(f[10]);
                long numel = Long.parseLong(f[2]);
                if (density.equals("1.0")) {
                    assertEquals(0.0, pruned, line);
                } else {
                    // 70% of the entries go (k = floor(0.3·n) kept), less task-vector entries that were zero already
                    // (frequent in small bf16 norm weights, whose fine-tune often rounds back to the base value)
                    assertTrue(pruned <= 0.7 + 1.0 / numel, line);
                    assertTrue(numel < 512 || pruned > 0.6, line);
                }
            }
        }
    }

    @Test
    void inspectAgainstSumsPerLayer() throws IOException {
        CliRun run = CliRun.of("inspect", base, "--against", a, "--json");
        assertEquals(0, run.code(), run.err());
        var root = com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(run.out());
        var rows = root.get("rows");
        assertEquals(5, rows.size(), "embed, 2 layers, norm, lm_head");
        try (ModelFolder x = ModelFolder.open(base); ModelFolder y = ModelFolder.open(a)) {
            double aa = 0;
            double bb = 0;
            double ab = 0;
            double dd = 0;
            for (ModelTensor t : x.tensors()) {
                if (!t.name().startsWith("model.layers.1.")) {
                    continue;
                }
                double[] p = values(t);
                double[] q = values(y.tensor(t.name()));
                for (int i = 0; i < p.length; i++) {
                    aa += p[i] * p[i];
                    bb += q[i] * q[i];
                    ab += p[i] * q[i];
                    dd += (p[i] - q[i]) * (p[i] - q[i]);
                }
            }
            var layer1 = rows.get(2);
            assertEquals("layer 1", layer1.get("name").asText());
            assertEquals(Math.sqrt(aa), layer1.get("norm_a").asDouble(), 1e-9 * Math.sqrt(aa));
            assertEquals(Math.sqrt(bb), layer1.get("norm_b").asDouble(), 1e-9 * Math.sqrt(bb));
            assertEquals(Math.sqrt(dd), layer1.get("norm_diff").asDouble(), 1e-6 * Math.sqrt(dd));
            assertEquals(ab / Math.sqrt(aa * bb), layer1.get("cosine").asDouble(), 1e-9);
        }
        CliRun table = CliRun.of("inspect", base, "--against", a);
        assertEquals(0, table.code());
        assertTrue(table.out().contains("layer 1"), table.out());
    }

    static double norm(double[] x) {
        return Math.sqrt(dot(x, x));
    }

    static double dot(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }
}
