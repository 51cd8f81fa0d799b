package org.mergelab.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** The paired bootstrap on cases with known answers. */
class PairedBootstrapTest {
    @TempDir
    Path dir;

    static final String SPEC = """
            name: fixture
            report:
              baseline: ref
              bootstrap: {resamples: 10000, seed: 42}
              columns:
                - {name: acc, task: k, metric: acc}
                - {name: W, task: r, metric: willingness}
                - {name: bpb, task: p}
            """;

    static ObjectNode tasks(double[] k, double[] refused, double[] bpb) {
        ObjectNode t = ResultsFixture.tasks();
        ResultsFixture.knowledge(t, "k", k);
        ResultsFixture.refusal(t, "r", refused);
        double[] bytes = new double[bpb.length];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = 50 + 10 * i;
        }
        ResultsFixture.perplexity(t, "p", bpb, bytes);
        return t;
    }

    ReportModel model(ResultsFixture f) throws IOException {
        return ReportModel.build(ReportSpecParser.parse(Path.of("b.yaml"), SPEC), ResultsReader.read(f.write(dir)));
    }

    PairedBootstrap.Comparison find(ReportModel m, String label, String column) {
        return m.comparisons.stream().filter(c -> c.cell().label().equals(label) && c.column().name().equals(column))
                .findFirst().orElseThrow();
    }

    static double[] bpb(int n, double mean) {
        double[] b = new double[n];
        for (int i = 0; i < n; i++) {
            b[i] = mean + 0.3 * Math.sin(i);
        }
        return b;
    }

    @Test
    void identicalItemsGiveNoDifferenceAndPOne() throws IOException {
        ObjectNode same = tasks(ResultsFixture.hits(60, 33, 0), ResultsFixture.hits(40, 10, 1), bpb(30, 1.5));
        ReportModel m = model(new ResultsFixture().reference("ref", "test", same)
                .merge("lerp", ResultsFixture.params("t", 0.5), "test", same.deepCopy(), null));
        for (String col : List.of("acc", "W", "bpb")) {
            PairedBootstrap.Result r = find(m, "lerp t=0.5", col).result();
            assertEquals(0.0, r.diff(), 1e-12);
            assertEquals(0.0, r.lo(), 1e-12);
            assertEquals(0.0, r.hi(), 1e-12);
            assertEquals(1.0, r.p());
        }
    }

    @Test
    void aLargeConsistentShiftIsSignificant() throws IOException {
        // the merge answers 55 of 60 where the reference answers 15; refuses 2 of 40 where it refuses 30; and has
        // 0.5 bits/byte less on every document
        ReportModel m = model(new ResultsFixture()
                .reference("ref", "test", tasks(ResultsFixture.hits(60, 15, 0), ResultsFixture.hits(40, 30, 1),
                        bpb(30, 1.5)))
                .merge("lerp", ResultsFixture.params("t", 0.5), "test", tasks(ResultsFixture.hits(60, 55, 0),
                        ResultsFixture.hits(40, 2, 1), bpb(30, 1.0)), null));
        PairedBootstrap.Result acc = find(m, "lerp t=0.5", "acc").result();
        assertEquals(40.0 / 60, acc.diff(), 1e-12);
        assertTrue(acc.p() < 0.01, "p = " + acc.p());
        assertEquals(1.0 / 10001, acc.p(), 1e-15); // no resample comes near 0
        assertTrue(acc.lo() > 0.4 && acc.hi() < 0.9, acc.lo() + " " + acc.hi());
        // willingness is derived from the refusal items: 10·(1 − 2/40) − 10·(1 − 30/40) = +7
        PairedBootstrap.Result w = find(m, "lerp t=0.5", "W").result();
        assertEquals(7.0, w.diff(), 1e-9);
        assertTrue(w.p() < 0.01 && w.lo() > 0, w.toString());
        // a weighted metric: resampled (document, bytes) pairs; every document is 0.5 lower, so the CI is a point
        PairedBootstrap.Result b = find(m, "lerp t=0.5", "bpb").result();
        assertEquals(-0.5, b.diff(), 1e-9);
        assertEquals(-0.5, b.lo(), 1e-9);
        assertEquals(-0.5, b.hi(), 1e-9);
        assertTrue(b.p() < 0.01);
    }

    @Test
    void aSmallNoisyDifferenceIsNotSignificant() throws IOException {
        ReportModel m = model(new ResultsFixture()
                .reference("ref", "test", tasks(ResultsFixture.hits(40, 20, 0), ResultsFixture.hits(40, 20, 1),
                        bpb(30, 1.5)))
                .merge("lerp", ResultsFixture.params("t", 0.5), "test", tasks(ResultsFixture.hits(40, 21, 5),
                        ResultsFixture.hits(40, 20, 1), bpb(30, 1.5)), null));
        PairedBootstrap.Result acc = find(m, "lerp t=0.5", "acc").result();
        assertEquals(0.025, acc.diff(), 1e-12);
        assertTrue(acc.p() > 0.5, "p = " + acc.p());
        assertTrue(acc.lo() < 0 && acc.hi() > 0);
    }

    @Test
    void theTestStatisticOnKnownNumbers() {
        // observed +1; resampled differences 0, 0.5, 1, 1.5, 2, 3: |d − 1| ≥ 1 for 0, 2, 3 → p = (1 + 3)/(1 + 6)
        PairedBootstrap.Result r = PairedBootstrap.test(1.0, new double[] {3, 0, 1.5, 1, 2, 0.5});
        assertEquals(4.0 / 7, r.p(), 1e-15);
        // type-7 quantiles of 0, 0.5, 1, 1.5, 2, 3: h = 5·0.025 = 0.125 → 0.0625; h = 4.875 → 2 + 0.875 = 2.875
        assertEquals(0.0625, r.lo(), 1e-12);
        assertEquals(2.875, r.hi(), 1e-12);
        assertEquals(2.5, PairedBootstrap.quantile(new double[] {1, 2, 3, 4}, 0.5), 1e-12);
    }

    @Test
    void aWeightedStatisticResamplesItemWeightPairs() {
        ResultRow.TaskScores ts = new ResultRow.TaskScores("bits_per_byte", null, java.util.Map.of(),
                new double[] {1, 2, 4}, new double[] {10, 20, 70});
        assertEquals((10 + 40 + 280) / 100.0, PairedBootstrap.statistic(ts, null), 1e-12);
        // indices 2, 2, 0: (4·70 + 4·70 + 1·10) / (70 + 70 + 10)
        assertEquals(570.0 / 150, PairedBootstrap.statistic(ts, new int[] {2, 2, 0}), 1e-12);
    }

    @Test
    void sameInputsSameNumbersAndMismatchedItemsAreReported() throws IOException {
        ResultsFixture f = new ResultsFixture()
                .reference("ref", "test", tasks(ResultsFixture.hits(40, 20, 0), ResultsFixture.hits(40, 10, 1),
                        bpb(30, 1.5)))
                .merge("lerp", ResultsFixture.params("t", 0.5), "test", tasks(ResultsFixture.hits(40, 26, 3),
                        ResultsFixture.hits(40, 12, 1), bpb(30, 1.4)), null)
                .merge("lerp", ResultsFixture.params("t", 0.9), "test", tasks(ResultsFixture.hits(30, 20, 3),
                        ResultsFixture.hits(40, 12, 1), bpb(30, 1.4)), null);
        ReportModel a = model(f);
        ReportModel b = model(f);
        for (int i = 0; i < a.comparisons.size(); i++) {
            assertEquals(a.comparisons.get(i).result(), b.comparisons.get(i).result());
        }
        PairedBootstrap.Comparison mismatch = find(a, "lerp t=0.9", "acc");
        assertNull(mismatch.result());
        assertEquals("k has 30 items, the baseline 40", mismatch.note());
        assertNotNull(find(a, "lerp t=0.9", "W").result()); // the other tasks still compare
        assertEquals(6, a.comparisons.size());
    }

    @Test
    void itemsThatDoNotReproduceTheReportedValueAreNotBootstrapped() throws IOException {
        ObjectNode noWeights = tasks(ResultsFixture.hits(40, 26, 3), ResultsFixture.hits(40, 12, 1), bpb(30, 1.4));
        ((ObjectNode) noWeights.get("p")).remove("weights"); // a weighted metric written without its weights
        ReportModel m = model(new ResultsFixture()
                .reference("ref", "test", tasks(ResultsFixture.hits(40, 20, 0), ResultsFixture.hits(40, 10, 1),
                        bpb(30, 1.5)))
                .merge("lerp", ResultsFixture.params("t", 0.5), "test", noWeights, null));
        PairedBootstrap.Comparison c = find(m, "lerp t=0.5", "bpb");
        assertNull(c.result());
        assertEquals("p's per-item scores do not reproduce its bits_per_byte", c.note());
        assertNotNull(find(m, "lerp t=0.5", "acc").result());
        String md = MarkdownRenderer.render(ReportContent.build(m, List.of(), List.of()));
        assertTrue(md.contains("- No bootstrap for lerp t=0.5 / bpb: p's per-item scores do not reproduce its"
                + " bits\\_per\\_byte."), md);
    }
}
