package org.mergelab.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mergelab.BadInputException;

/** The {@code report:} section: every key, the defaults, and one-line errors naming the file and the key. */
class ReportSpecParserTest {
    static final Path FILE = Path.of("/experiments/delerp-table.yaml");

    static ReportSpec parse(String yaml) {
        return ReportSpecParser.parse(FILE, yaml);
    }

    @Test
    void readsTheDelerpTableSpec() {
        ReportSpec s = parse(ResultsFixture.SPEC);
        assertEquals("fixture", s.experiment());
        assertEquals("instruct", s.baseline());
        assertEquals(List.of("base", "instruct"), s.referenceOrder());
        assertEquals(List.of("lerp", "slerp", "delerp", "ties"), s.methodOrder());
        assertEquals(4, s.columns().size());
        ReportSpec.Column ugi = s.columns().get(0);
        assertEquals("UGI*", ugi.name());
        assertEquals(List.of(new ReportSpec.Component("knowledge", "acc", 100, ReportSpec.Transform.NONE),
                new ReportSpec.Component("restricted", "willingness", 10, ReportSpec.Transform.NONE)),
                ugi.components());
        assertEquals(ReportSpec.Transform.FLUENCY, s.columns().get(2).components().get(0).transform());
        assertEquals(1, s.columns().get(3).decimals());
        assertEquals(2, s.columns().get(0).decimals());
        assertEquals(2, s.published().rows().size());
        assertEquals(Map.of("UGI*", 26.02, "W/10*", 4.5, "Writing*", 37.03, "NatInt*", 21.68),
                s.published().rows().get(1).values());
        // defaults
        assertNull(s.split());
        assertNull(s.selectOn());
        assertNull(s.plots());
        assertEquals("t", s.x());
        assertEquals(ReportSpec.Bootstrap.DEFAULT, s.bootstrap());
        assertEquals(0.5, s.cliffFraction());
        assertEquals(NormStatistic.NORM_RATIO, s.normStatistic());
        assertEquals(ReportSpec.Rows.ALL, s.rows());
    }

    @Test
    void withoutReportSectionEverythingIsDefaultAndTheNameIsTheFileName() {
        ReportSpec s = ReportSpecParser.parse(Path.of("experiments/t-sweep.yaml"), "models: {base: x}\n");
        assertEquals("t-sweep", s.experiment());
        assertNull(s.columns());
        assertTrue(s.experts().isEmpty());
        assertNull(s.published());
    }

    @Test
    void rowsAsLabelsOrAsFilters() {
        assertEquals(List.of("instruct", "delerp t=0.999"),
                parse("report: {rows: [instruct, 'delerp t=0.999']}").rows().labels());
        ReportSpec.Rows r = parse("report: {rows: {references: [instruct], methods: [delerp], where: {t: 0.999}}}")
                .rows();
        assertNull(r.labels());
        assertEquals(List.of("instruct"), r.references());
        assertEquals(List.of("delerp"), r.methods());
        assertEquals(Map.of("t", 0.999), r.where());
    }

    @Test
    void plotsHeatmapsLayersAndParetoPairs() {
        ReportSpec s = parse("""
                report:
                  x: lambda
                  plots: [capability, heatmap, layers]
                  pareto: [[a, b], [b, c]]
                  heatmap: {method: ties, x: lambda, y: density, score: relative_mean}
                  layers: {method: delerp, statistic: max_norm_ratio}
                  experts: {math: math-expert}
                  select_by: normalized_mean
                  bootstrap: {resamples: 2000, seed: 7}
                  cliff_fraction: 0.25
                """);
        assertEquals(java.util.EnumSet.of(ReportSpec.PlotKind.CAPABILITY, ReportSpec.PlotKind.HEATMAP,
                ReportSpec.PlotKind.LAYERS), s.plots());
        assertEquals(List.of(List.of("a", "b"), List.of("b", "c")), s.pareto());
        assertEquals(List.of(new ReportSpec.Heatmap("ties", "lambda", "density", "relative_mean")), s.heatmaps());
        assertEquals(new ReportSpec.LayerMap("delerp", null, NormStatistic.MAX_NORM_RATIO), s.layers());
        assertEquals(Map.of("math", "math-expert"), s.experts());
        assertEquals(new ReportSpec.Bootstrap(2000, 7), s.bootstrap());
        assertEquals(0.25, s.cliffFraction());
        assertEquals(List.of(List.of("x", "y")), parse("report: {pareto: [x, y]}").pareto());
    }

    /** Asserts parsing fails with one line starting with the file and containing every fragment. */
    static void bad(String yaml, String... fragments) {
        BadInputException e = assertThrows(BadInputException.class, () -> parse(yaml));
        String m = e.getMessage();
        assertTrue(m.startsWith(FILE.toString()), () -> "should name the file: " + m);
        assertFalse(m.contains("\n"), () -> "should be one line: " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), () -> "should contain '" + f + "': " + m);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            report: {colums: []}                                                    | unknown key 'colums'
            report: [a]                                                             | report must be a mapping
            report: {columns: []}                                                   | report.columns must list at least one
            report: {columns: [{name: a, task: k, transform: fluency}]}             | report.columns[0] | bits_per_byte
            report: {columns: [{name: a, task: k, transform: log}]}                 | report.columns[0].transform | 'log'
            report: {columns: [{name: a, task: k}, {name: a, task: j}]}             | report.columns[1].name | duplicate
            report: {columns: [{name: a, task: k, scale: big}]}                     | report.columns[0].scale must be a number
            report: {columns: [{name: a, task: k, scale: 0}]}                       | report.columns[0].scale must not be 0
            report: {columns: [{name: a}]}                                          | missing 'report.columns[0].task'
            report: {columns: [{name: a, mean: [{task: k}]}]}                       | report.columns[0].mean must list at least two
            report: {columns: [{name: a, task: k, mean: [{task: k}, {task: j}]}]}   | report.columns[0] | not both
            report: {columns: [{name: a, mean: [{task: k}, {task: j, color: red}]}]} | report.columns[0].mean[1] | 'color'
            report: {columns: [{name: a, task: k}], pareto: [a, b]}                 | report.pareto | 'b' is not a column
            report: {pareto: [a]}                                                   | report.pareto must name two
            report: {columns: [{name: a, task: k}], published: {title: T, note: N, rows: [{label: X, values: {b: 1}}]}} | report.published.rows[0].values | 'b'
            report: {published: {title: T, rows: [{label: X, values: {b: 1}}]}}    | missing 'report.published.note'
            report: {select_by: normalized_mean}                                    | normalized_mean needs report.experts
            report: {columns: [{name: a, task: k}], select_by: b}                   | report.select_by | 'b'
            report: {plots: [capability, violin]}                                   | report.plots | 'violin'
            report: {split: test, select_on: test}                                  | report.select_on must differ
            report: {heatmap: {x: lambda, y: lambda}}                               | report.heatmap | two different
            report: {layers: {statistic: pruned_fraction}}                          | report.layers.statistic | per-layer
            report: {layers: {method: a, cells: [b]}}                               | report.layers | not both
            report: {bootstrap: {resamples: 10}}                                    | report.bootstrap.resamples
            report: {bootstrap: {resamples: 1.5}}                                   | report.bootstrap.resamples must be an integer
            report: {cliff_fraction: 1.5}                                           | report.cliff_fraction
            report: {rows: {where: {t: [1, 2]}}}                                    | report.rows.where.t
            report: {experts: [math]}                                               | report.experts must be a mapping
            """)
    void badReportSections(String yaml, String fragments) {
        bad(yaml, fragments.split("\\|"));
    }

    @Test
    void yamlSyntaxErrorsNameTheLine() {
        bad("name: x\nreport:\n  split: test\n    x: t\n", ":4:", "YAML syntax error");
    }

    @Test
    void anEmptySpecIsAnError() {
        bad("", "empty spec");
    }
}
