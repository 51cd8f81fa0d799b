package org.mergelab.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.BadInputException;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Table values, confidence intervals, bold, normalized scores, cliffs and best-on-val on a small sweep whose numbers
 * are worked out by hand in the comments.
 */
class ReportModelTest {
    @TempDir
    Path dir;

    static final Path SPEC_FILE = Path.of("small.yaml");

    static final String SPEC = """
            name: fixture
            references: [base, instruct]
            report:
              baseline: instruct
              experts: {knowledge: instruct, narratives: base}
              select_by: NatInt*
              columns:
                - {name: NatInt*, task: knowledge, metric: acc, scale: 100, decimals: 1}
                - name: UGI*
                  mean:
                    - {task: knowledge, metric: acc, scale: 100}
                    - {task: restricted, metric: willingness, scale: 10}
                - {name: Writing*, task: narratives, metric: bits_per_byte, transform: fluency}
                - {name: bpb, task: narratives, decimals: 3}
            """;

    /** knowledge: 10 items with {@code correct} right; restricted: 10 with {@code refused} refusals; 4 documents. */
    static ObjectNode tasks(int correct, int refused, double bpb) {
        ObjectNode t = ResultsFixture.tasks();
        ResultsFixture.knowledge(t, "knowledge", ResultsFixture.hits(10, correct, 0));
        ResultsFixture.refusal(t, "restricted", ResultsFixture.hits(10, refused, 1));
        ResultsFixture.perplexity(t, "narratives", new double[] {bpb - 0.1, bpb + 0.1, bpb - 0.1, bpb + 0.1},
                new double[] {1, 1, 1, 1});
        return t;
    }

    /**
     * Test split: base 5/10 right, 1 refusal, 1.5 bits/byte; instruct 7/10, 4 refusals, 1.8; lerp at t = 0, 0.5, 1:
     * 8, 3, 6 right (a knowledge cliff at 0.5), 2 refusals, 1.0, 2.5, 1.2 bits/byte (a fluency cliff at 0.5).
     * Val: the same, except lerp knows 6, 9, 8 — so selection on val picks t = 0.5, the worst on test.
     */
    static ResultsFixture small() {
        ResultsFixture f = new ResultsFixture();
        for (String split : List.of("val", "test")) {
            f.reference("base", split, tasks(5, 1, 1.5));
            f.reference("instruct", split, tasks(7, 4, 1.8));
            int[] test = {8, 3, 6};
            int[] val = {6, 9, 8};
            double[] bpb = {1.0, 2.5, 1.2};
            double[] ts = {0, 0.5, 1};
            for (int i = 0; i < 3; i++) {
                f.merge("lerp", ResultsFixture.params("t", ts[i]), split,
                        tasks(split.equals("test") ? test[i] : val[i], 2, bpb[i]), ResultsFixture.norms(1, 1, 2));
            }
        }
        return f;
    }

    ReportModel model(String spec, ResultsFixture f) throws IOException {
        return ReportModel.build(ReportSpecParser.parse(SPEC_FILE, spec), ResultsReader.read(f.write(dir)));
    }

    static Estimate estimate(ReportModel m, String column, String label) {
        return m.column(column, "test").estimate(m.experiment.byLabel(label).row(m.split));
    }

    @Test
    void absoluteScoresAndConfidenceIntervals() throws IOException {
        ReportModel m = model(SPEC, small());
        assertEquals("test", m.split);
        assertEquals("val", m.selectOn);
        // instruct, knowledge: acc 0.7; sample variance (7·0.3² + 3·0.7²)/9 = 2.1/9; se = √(2.1/9/10) = 0.152753
        // NatInt* = 70.0; CI = 1.96 · 15.2753 = 29.939
        Estimate natInt = estimate(m, "NatInt*", "instruct");
        assertEquals(70.0, natInt.value(), 1e-9);
        assertEquals(29.939, natInt.ci95(), 5e-4);
        assertEquals("10", natInt.nText());
        // UGI* = (70 + 10·willingness 6.0)/2 = 65; willingness se = 10·√(2.4/9/10) = 1.63299 → ×10 = 16.3299;
        // se = √(15.2753² + 16.3299²)/2 = √500/2 = 11.1803; CI = 21.913
        Estimate ugi = estimate(m, "UGI*", "instruct");
        assertEquals(65.0, ugi.value(), 1e-9);
        assertEquals(21.913, ugi.ci95(), 5e-4);
        assertEquals("10+10", ugi.nText());
        // Writing*: 1.8 bits/byte → 100·2^−1.8 = 28.7175; se(bpb) = √(4·0.01/(4·3)) = 0.057735;
        // se = ln 2 · 28.7175 · 0.057735 = 1.14924; CI = 2.2525
        Estimate writing = estimate(m, "Writing*", "instruct");
        assertEquals(28.7175, writing.value(), 5e-5);
        assertEquals(2.2525, writing.ci95(), 5e-4);
        assertTrue(m.column("bpb", "test").components().get(0).metric() == null);
        assertFalse(m.column("bpb", "test").higherIsBetter());
        assertTrue(m.column("Writing*", "test").higherIsBetter());
    }

    @Test
    void markdownTableShowsValueCiAndNWithTheBestInBold() throws IOException {
        ReportModel m = model(SPEC, small());
        String md = MarkdownRenderer.render(ReportContent.build(m, List.of(), List.of()));
        assertTrue(md.contains("| model | kind | NatInt\\* ↑ | UGI\\* ↑ | Writing\\* ↑ | bpb ↓ |"), md);
        String instruct = md.lines().filter(l -> l.startsWith("| instruct |")).findFirst().orElseThrow();
        assertEquals("| instruct | reference | 70.0 ± 29.9 (n=10) | 65.00 ± 21.91 (n=10+10) | 28.72 ± 2.25 (n=4)"
                + " | 1.800 ± 0.113 (n=4) |", instruct);
        // best NatInt* is lerp t=0 (80.0); best bpb (lower) is lerp t=0 (1.000); best UGI* is lerp t=0 (80.00)
        String lerp0 = md.lines().filter(l -> l.startsWith("| lerp t=0 |")).findFirst().orElseThrow();
        assertTrue(lerp0.contains("| **80.0 ± "), lerp0);
        assertTrue(lerp0.contains("| **1.000 ± "), lerp0);
        String base = md.lines().filter(l -> l.startsWith("| base |")).findFirst().orElseThrow();
        assertFalse(base.contains("**"), base);
        // references first, then merges along t
        List<String> order = md.lines().filter(l -> l.matches("\\| (base|instruct|lerp t=[0-9.]+) \\| (reference|merge) .*"))
                .map(l -> l.split(" \\| ")[0].substring(2)).distinct().toList();
        assertEquals(List.of("base", "instruct", "lerp t=0", "lerp t=0.5", "lerp t=1"), order);
    }

    @Test
    void normalizedScoresAreMeansOfPerTaskRatiosToTheExperts() throws IOException {
        ReportModel m = model(SPEC, small());
        Normalizer n = m.normalizer;
        Cell mid = m.experiment.byLabel("lerp t=0.5");
        // knowledge 0.3 ÷ instruct's 0.7 = 42.857%; narratives (lower is better) base's 1.5 ÷ 2.5 = 60%
        assertEquals(100 * 0.3 / 0.7, n.ratio(mid, "knowledge", "test").value(), 1e-9);
        assertEquals(60.0, n.ratio(mid, "narratives", "test").value(), 1e-9);
        assertEquals((100 * 0.3 / 0.7 + 60) / 2, n.mean(mid, "test").value(), 1e-9);
        // an expert on its own task is exactly 100
        Estimate self = n.ratio(m.experiment.reference("instruct"), "knowledge", "test");
        assertEquals(100.0, self.value());
        assertEquals(0.0, self.stderr());
        // lerp t=0: 0.8/0.7 = 114.2857%; se = r·√((0.133333/0.8)² + (0.152753/0.7)²) = 114.2857·0.274584 = 31.381
        Estimate r0 = n.ratio(m.experiment.byLabel("lerp t=0"), "knowledge", "test");
        assertEquals(114.2857, r0.value(), 5e-5);
        assertEquals(31.381, r0.stderr(), 5e-4);
        String md = MarkdownRenderer.render(ReportContent.build(m, List.of(), List.of()));
        assertTrue(md.contains("## Normalized scores on test"), md);
        assertTrue(md.contains("| knowledge (÷ instruct) ↑ | narratives (÷ base) ↑ | mean ↑ |"), md);
    }

    @Test
    void aMergeThatLostTheSkillIsZeroPercentOfTheExpertNotMissing() throws IOException {
        ReportModel zero = model(SPEC, withKnowledgeAtHalf(0));
        Estimate r = zero.normalizer.ratio(zero.experiment.byLabel("lerp t=0.5"), "knowledge", "test");
        assertEquals(0.0, r.value());
        // se of 0/0.7 with se_a = 0 (every item wrong) and se_b = 0.152753: 100 · 0 · se_b / b² = 0
        assertEquals(0.0, r.stderr(), 1e-12);
        assertEquals((0 + 60) / 2.0, zero.normalizer.mean(zero.experiment.byLabel("lerp t=0.5"), "test").value(),
                1e-9);
    }

    /** The shape of {@link #small()}, with {@code correct} of 10 knowledge items right at t = 0.5 (6 elsewhere). */
    private static ResultsFixture withKnowledgeAtHalf(int correct) {
        ResultsFixture f = new ResultsFixture();
        for (String split : List.of("val", "test")) {
            f.reference("base", split, tasks(5, 1, 1.5));
            f.reference("instruct", split, tasks(7, 4, 1.8));
            double[] ts = {0, 0.5, 1};
            double[] bpb = {1.0, 2.5, 1.2};
            for (int i = 0; i < 3; i++) {
                int k = ts[i] == 0.5 ? correct : 6;
                f.merge("lerp", ResultsFixture.params("t", ts[i]), split, tasks(k, 2, bpb[i]),
                        ResultsFixture.norms(1, 1, 2));
            }
        }
        return f;
    }

    @Test
    void cliffsAreFlaggedWhereAColumnHalvesAlongT() throws IOException {
        ReportModel m = model(SPEC, small());
        // NatInt*: best 80 at t=0, 30 at t=0.5 < 40. UGI*: 80, 55, 70 — no cliff. Writing*: 50 at t=0, 17.7 at
        // t=0.5 < 25. bpb (lower is better): best 1.0, 2.5 at t=0.5 > 2.0.
        List<String> found = m.cliffs.stream().map(c -> c.series().label() + " " + c.column().name() + " " + c.x()
                + " best@" + c.bestX()).toList();
        assertEquals(List.of("lerp NatInt* 0.5 best@0.0", "lerp Writing* 0.5 best@0.0", "lerp bpb 0.5 best@0.0"), found);
    }

    @Test
    void bestOnValChoosesOnValAndReportsTest() throws IOException {
        ReportModel m = model(SPEC, small());
        assertEquals(1, m.bestOnVal.size());
        BestOnVal.Choice c = m.bestOnVal.get(0);
        assertEquals("lerp t=0.5", c.cell().label()); // 90 on val; on test it is the worst (30)
        assertEquals(90.0, c.selectionScore(), 1e-9);
        assertEquals(30.0, c.reportScore(), 1e-9);
        assertEquals(3, c.candidates());
        // with the default selector (experts known): the mean normalized score on val
        ReportModel byNormalized = model(SPEC.replace("  select_by: NatInt*\n", ""), small());
        assertEquals(ReportSpec.NORMALIZED_MEAN, byNormalized.scorer.selector());
        // val: t=0 (0.6/0.7, 1.5/1.0) → 117.9; t=0.5 (0.9/0.7, 1.5/2.5) → 94.3; t=1 (0.8/0.7, 1.5/1.2) → 119.6
        assertEquals("lerp t=1", byNormalized.bestOnVal.get(0).cell().label());
        assertEquals((100 * 0.8 / 0.7 + 100 * 1.5 / 1.2) / 2, byNormalized.bestOnVal.get(0).selectionScore(), 1e-9);
    }

    @Test
    void defaultColumnsAreEveryTasksPrimaryMetric() throws IOException {
        ReportModel m = model("name: fixture\n", small());
        assertEquals(List.of("knowledge", "restricted", "narratives"), m.columns.stream().map(ScoreColumn::name).toList());
        // refusal_rate and bits_per_byte are lower-is-better
        assertEquals(List.of(true, false, false), m.columns.stream().map(ScoreColumn::higherIsBetter).toList());
        assertEquals(0.7, estimate(m, "knowledge", "instruct").value(), 1e-12);
        assertEquals(ReportSpec.RELATIVE_MEAN, m.scorer.selector());
        assertEquals("base", m.baseline.label()); // the first reference
        assertTrue(m.normalizer.isEmpty());
    }

    @Test
    void rowSelectionByFiltersOrLabels() throws IOException {
        ReportModel filtered = model("name: fixture\nreport: {rows: {references: [instruct], where: {t: 0.5}}}\n",
                small());
        assertEquals(List.of("instruct", "lerp t=0.5"), filtered.rows.stream().map(Cell::label).toList());
        ReportModel listed = model("name: fixture\nreport: {rows: ['lerp t=1', base]}\n", small());
        assertEquals(List.of("lerp t=1", "base"), listed.rows.stream().map(Cell::label).toList());
        BadInputException e = assertThrows(BadInputException.class,
                () -> model("name: fixture\nreport: {rows: ['lerp t=2']}\n", small()));
        assertTrue(e.getMessage().startsWith("small.yaml: report.rows: no cell labelled 'lerp t=2'"), e.getMessage());
    }

    @Test
    void cellOrderDoesNotDependOnTheOrderRowsWereWritten() throws IOException {
        List<String> expected = model(SPEC, small()).experiment.cells().stream().map(Cell::label).toList();
        ResultsFixture shuffled = small();
        List<ObjectNode> rows = new ArrayList<>(shuffled.rows());
        Collections.shuffle(rows, new Random(3));
        shuffled.rows().clear();
        shuffled.rows().addAll(rows);
        assertEquals(expected, model(SPEC, shuffled).experiment.cells().stream().map(Cell::label).toList());
        assertEquals(List.of("base", "instruct", "lerp t=0", "lerp t=0.5", "lerp t=1"), expected);
    }

    @Test
    void namesInTheSpecMustExistInTheResults() {
        record Case(String spec, String message) {}
        for (Case c : List.of(
                new Case("name: fixture\nreport: {baseline: chat}\n", "report.baseline: no reference 'chat'"),
                new Case("name: fixture\nreport: {experts: {math: instruct}}\n", "report.experts: no task 'math'"),
                new Case("name: fixture\nreport: {experts: {knowledge: expert}}\n",
                        "report.experts.knowledge: no reference 'expert'"),
                new Case("name: fixture\nreport: {split: dev}\n", "report.split: no results on split 'dev'"),
                new Case("name: fixture\nreport: {columns: [{name: a, task: math}]}\n",
                        "report.columns[0]: no result has task 'math'"),
                new Case("name: fixture\nreport: {columns: [{name: a, task: knowledge, metric: f1}]}\n",
                        "no result has metric 'f1'"),
                new Case("name: fixture\nreport: {columns: [{name: a, mean: [{task: knowledge},"
                        + " {task: narratives}]}]}\n", "averages a higher-is-better and a lower-is-better"),
                new Case("name: fixture\nreport: {select_by: restricted_mean}\n", "report.select_by"),
                new Case("name: fixture\nreport: {pareto: [knowledge, math]}\n", "report.pareto: 'math' is not a column"),
                new Case("name: other\n", "no rows of experiment 'other'"),
                new Case("name: fixture\nreport: {layers: {cells: [base]}}\n", "report.layers.cells: no merge"))) {
            BadInputException e = assertThrows(BadInputException.class, () -> model(c.spec(), small()), c.spec());
            assertTrue(e.getMessage().contains(c.message()), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    void withoutASecondSplitThereIsNoSelectionAndWithoutReferencesNoBootstrap() throws IOException {
        ResultsFixture f = new ResultsFixture();
        for (double t : new double[] {0, 1}) {
            f.merge("slerp", ResultsFixture.params("t", t), "test", tasks(5, 1, 1.5), null);
        }
        ReportModel m = model("name: fixture\n", f);
        assertNull(m.selectOn);
        assertNull(m.baseline);
        assertTrue(m.comparisons.isEmpty());
        assertTrue(m.bestOnVal.isEmpty());
        String md = MarkdownRenderer.render(ReportContent.build(m, List.of(), List.of()));
        assertTrue(md.contains("no reference model"), md);
        assertTrue(md.contains("no second split"), md);
        Files.deleteIfExists(dir.resolve("results.jsonl"));
    }

    @Test
    void whenTwoCellsShareALabelTheOneWrittenLastCounts() throws IOException {
        ResultsFixture f = small();
        // the same label written again later under another cell id (the recipe changed), with 10 of 10 right
        ObjectNode newer = ResultsFixture.JSON.createObjectNode();
        newer.setAll(f.rows().stream().filter(r -> r.get("label").asText().equals("lerp t=1")
                && r.get("split").asText().equals("test")).findFirst().orElseThrow().deepCopy());
        newer.put("cell_id", "feedfacefeedface");
        newer.set("tasks", tasks(10, 2, 1.2));
        f.rows().add(newer);
        ReportModel m = model(SPEC, f);
        Cell c = m.experiment.byLabel("lerp t=1");
        assertEquals("feedfacefeedface", c.id());
        assertEquals(100.0, estimate(m, "NatInt*", "lerp t=1").value(), 1e-9);
        assertEquals(5, m.experiment.cells().size());
        assertEquals(1, m.experiment.warnings().size());
        assertTrue(m.experiment.warnings().get(0).contains("labelled 'lerp t=1'"), m.experiment.warnings().get(0));
    }
}
