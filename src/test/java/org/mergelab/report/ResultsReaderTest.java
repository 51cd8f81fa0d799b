package org.mergelab.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.BadInputException;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** results.jsonl as the sweep runner writes it, including after a crash and after a forced rerun. */
class ResultsReaderTest {
    @TempDir
    Path dir;

    private static String line(ObjectNode row) throws IOException {
        return ResultsFixture.JSON.writeValueAsString(row);
    }

    private static ResultsFixture twoRows() {
        return new ResultsFixture()
                .reference("instruct", "test", ResultsFixture.knowledge(ResultsFixture.tasks(), "k", 1, 0, 1))
                .merge("lerp", ResultsFixture.params("t", 0.5), "test",
                        ResultsFixture.knowledge(ResultsFixture.tasks(), "k", 1, 1, 1),
                        ResultsFixture.norms(0.95, 0.9, 2));
    }

    @Test
    void readsEveryFieldOfTheContract() throws IOException {
        ResultsReader.Results r = ResultsReader.read(twoRows().write(dir));
        assertEquals(2, r.rows().size());
        assertTrue(r.warnings().isEmpty());
        ResultRow ref = r.rows().get(0);
        assertEquals(ResultRow.Kind.REFERENCE, ref.kind());
        assertEquals("instruct", ref.model());
        assertNull(ref.method());
        assertNull(ref.norms());
        ResultRow.TaskScores k = ref.tasks().get("k");
        assertEquals("acc", k.primary());
        assertArrayEquals(new double[] {1, 0, 1}, k.items());
        assertNull(k.weights());
        assertEquals(2.0 / 3, k.metric("acc").value(), 1e-15);
        assertEquals(3, k.metric("acc").n());
        ResultRow merge = r.rows().get(1);
        assertEquals("lerp", merge.method());
        assertEquals(0.5, merge.params().get("t"));
        assertEquals(List.of("base", "instruct"), merge.models());
        assertEquals(0.95, merge.norms().normRatio());
        assertEquals(3, merge.norms().layers().size()); // layers -1, 0, 1
        assertEquals(-1, merge.norms().layers().get(0).layer());
        assertNull(merge.norms().prunedFraction());
        assertEquals("0.1.0-test", merge.mergelabVersion());
    }

    @Test
    void anUnfinishedLastLineIsSkippedWithAWarning() throws IOException {
        List<ObjectNode> rows = twoRows().rows();
        String full = line(rows.get(0)) + "\n" + line(rows.get(1));
        Path file = dir.resolve("results.jsonl");
        Files.writeString(file, full.substring(0, full.length() - 20)); // killed mid-write
        ResultsReader.Results r = ResultsReader.read(file);
        assertEquals(1, r.rows().size());
        assertEquals(1, r.warnings().size());
        assertTrue(r.warnings().get(0).contains(":2: skipped an unfinished last line"), r.warnings().get(0));
    }

    @Test
    void aBrokenLineInTheMiddleIsBadInputNamingTheLine() throws IOException {
        List<ObjectNode> rows = twoRows().rows();
        Path file = dir.resolve("results.jsonl");
        Files.writeString(file, line(rows.get(0)) + "\n{\"cell_id\": \n" + line(rows.get(1)) + "\n");
        BadInputException e = assertThrows(BadInputException.class, () -> ResultsReader.read(file));
        assertTrue(e.getMessage().startsWith(file + ":2: not JSON"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void contractViolationsNameTheLineAndTheField() throws IOException {
        List<ObjectNode> rows = twoRows().rows();
        ObjectNode noKind = rows.get(0).deepCopy();
        noKind.put("kind", "baseline");
        ObjectNode badItems = rows.get(1).deepCopy();
        ((ObjectNode) badItems.get("tasks").get("k")).putArray("weights").add(1);
        ObjectNode badPrimary = rows.get(1).deepCopy();
        ((ObjectNode) badPrimary.get("tasks").get("k")).put("primary", "f1");
        for (var c : List.of(List.of(noKind, "kind must be reference or merge"),
                List.of(badItems, "tasks.k: 3 items but 1 weights"),
                List.of(badPrimary, "tasks.k: primary metric 'f1'"))) {
            Path file = dir.resolve("results.jsonl");
            Files.writeString(file, line((ObjectNode) c.get(0)) + "\n" + line(rows.get(0)) + "\n");
            BadInputException e = assertThrows(BadInputException.class, () -> ResultsReader.read(file));
            assertTrue(e.getMessage().startsWith(file + ":1: "), e.getMessage());
            assertTrue(e.getMessage().contains((String) c.get(1)), e.getMessage());
        }
    }

    @Test
    void aRerunCellReplacesTheEarlierRow() throws IOException {
        List<ObjectNode> rows = twoRows().rows();
        ObjectNode rerun = rows.get(0).deepCopy();
        ((ObjectNode) rerun.get("tasks").get("k").get("metrics").get("acc")).put("value", 0.99);
        Path file = dir.resolve("results.jsonl");
        Files.writeString(file, line(rows.get(0)) + "\n" + line(rows.get(1)) + "\n" + line(rerun) + "\n");
        ResultsReader.Results r = ResultsReader.read(file);
        assertEquals(2, r.rows().size());
        assertEquals("lerp t=0.5", r.rows().get(0).label());
        assertEquals(0.99, r.rows().get(1).tasks().get("k").metric("acc").value());
    }

    @Test
    void missingOrEmptyResultsAreBadInput() throws IOException {
        Path file = dir.resolve("results.jsonl");
        BadInputException missing = assertThrows(BadInputException.class, () -> ResultsReader.read(file));
        assertTrue(missing.getMessage().contains("results.jsonl: not found"), missing.getMessage());
        Files.writeString(file, "\n");
        BadInputException empty = assertThrows(BadInputException.class, () -> ResultsReader.read(file));
        assertTrue(empty.getMessage().contains("no result rows"), empty.getMessage());
    }
}
