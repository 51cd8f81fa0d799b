package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.experiment.SweepFixture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** {@code mergelab sweep} end to end on tiny models built here, and its one-line errors. */
class SweepCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path dir;
    static SweepFixture f;

    @BeforeAll
    static void models() throws Exception {
        f = SweepFixture.write(dir);
    }

    @Test
    void sweepWritesOneRowPerCellAndSplit() throws Exception {
        Path spec = f.spec("e2e", "references: [base, chat]\nmerges:\n  - method: delerp\n    base: base\n"
                + "    models: [base, chat]\n    parameters: {t: [0.5, 0.999]}\n");
        Path results = dir.resolve("e2e-results");
        CliRun r = CliRun.of("sweep", spec, "--results", results, "--threads", 2);
        assertEquals(0, r.code(), r.err());
        System.out.println(r.out());
        System.out.println(r.err());
        List<String> lines = Files.readAllLines(results.resolve("results.jsonl"));
        assertEquals(8, lines.size());
        System.out.println(lines.get(4));
    }
}
