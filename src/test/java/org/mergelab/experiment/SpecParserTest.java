package org.mergelab.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mergelab.BadInputException;
import org.mergelab.merge.ConfigParser;
import org.mergelab.merge.MergeConfig;
import org.mergelab.merge.ParameterSetting;

/** Spec parsing, its one-line errors, grid expansion, labels, cell ids and each cell's mergekit config. */
class SpecParserTest {
    @TempDir
    Path dir;

    /** The spec file {@code NAME.yaml} with three aliases (no folders needed: parsing does not open models). */
    private Path spec(String name, String body) throws IOException {
        Path p = dir.resolve(name + ".yaml");
        Files.writeString(p, "models:\n  base: m/base\n  chat: m/chat\n  math: m/math\ntasks:\n  dir: t\n" + body);
        return p;
    }

    private static Map<String, String> hashes(String chat) {
        return Map.of("base", "sha256:b", "chat", chat, "math", "sha256:m");
    }

    private List<Cell> cells(String name, String body) throws IOException {
        return GridExpander.expand(SpecParser.parse(spec(name, body)), hashes("sha256:c"));
    }

    @Test
    void gridIsTheProductOfTheAxesTimesTheSeeds() throws IOException {
        List<Cell> cells = cells("grid", """
                references: [base, chat]
                merges:
                  - method: delerp
                    base: base
                    models: [base, chat]
                    parameters: {t: [0.5, 0.9, 0.999]}
                  - method: ties
                    base: base
                    models: [chat, math]
                    parameters:
                      density: {from: 0.2, to: 0.6, step: 0.2}
                      lambda: [0.5, 1]
                      weight: {chat: 0.3, math: [0.5, 0.7]}
                  - method: dare_ties
                    base: base
                    models: [chat, math]
                    parameters: {density: 0.5, weight: 1}
                    seeds: [0, 1]
                """);
        assertEquals(2 + 3 + 3 * 2 * 2 + 2, cells.size());
        List<String> labels = cells.stream().map(Cell::label).toList();
        assertEquals(List.of("base", "chat", "delerp t=0.5", "delerp t=0.9", "delerp t=0.999"), labels.subList(0, 5));
        assertEquals(List.of("ties density=0.2 lambda=0.5 weight.chat=0.3 weight.math=0.5",
                "ties density=0.2 lambda=0.5 weight.chat=0.3 weight.math=0.7",
                "ties density=0.2 lambda=1 weight.chat=0.3 weight.math=0.5"), labels.subList(5, 8));
        assertEquals("ties density=0.6 lambda=1 weight.chat=0.3 weight.math=0.7", labels.get(16));
        assertEquals(List.of("dare_ties density=0.5 weight=1 seed=0", "dare_ties density=0.5 weight=1 seed=1"),
                labels.subList(17, 19));
        assertEquals(List.of(0.2, 0.4, 0.6), cells.stream().filter(c -> "ties".equals(c.method()))
                .map(c -> c.params().get("density")).distinct().toList(), "decimal steps, no 0.6000000000000001");
        Cell reference = cells.getFirst();
        assertEquals(Cell.Kind.REFERENCE, reference.kind());
        assertEquals(List.of("base"), reference.models());
        assertEquals(Map.of(), reference.params());
        assertEquals(List.of(0L, 1L), cells.subList(17, 19).stream().map(Cell::seed).toList());
        assertEquals(cells.size(), cells.stream().map(Cell::id).distinct().count());
        assertTrue(cells.stream().allMatch(c -> c.id().matches("[0-9a-f]{16}")));
    }

    @Test
    void integerRangesStayIntegers() throws IOException {
        List<Cell> cells = cells("ints", "references: []\nmerges:\n  - method: sce\n    base: base\n"
                + "    models: [chat, math]\n    parameters: {select_topk: {from: 1, to: 5, step: 2}}\n");
        assertEquals(List.of(1L, 3L, 5L), cells.stream().map(c -> c.params().get("select_topk")).toList());
    }

    @Test
    void methodsOnDifferentModelsAreQualifiedInLabels() throws IOException {
        List<Cell> cells = cells("qualified", """
                references: []
                merges:
                  - {method: slerp, base: base, models: [base, chat], parameters: {t: 0.5}}
                  - {method: slerp, base: base, models: [base, math], parameters: {t: 0.5}}
                  - {method: nlerp, base: base, models: [base, math], parameters: {t: 0.5}}
                """);
        assertEquals(List.of("slerp(base→chat) t=0.5", "slerp(base→math) t=0.5", "nlerp t=0.5"),
                cells.stream().map(Cell::label).toList());
    }

    @Test
    void cellIdsDependOnTheRecipeAndNothingElse() throws IOException {
        String merge = "merges:\n  - {method: delerp, base: base, models: [base, chat], parameters: {t: %s}}\n";
        Map<String, String> ids = new LinkedHashMap<>();
        for (String t : List.of("1", "1.0", "0.5")) {
            Cell c = cells("same", "references: []\n" + merge.formatted(t)).getFirst();
            ids.put(t, c.id());
        }
        assertEquals(ids.get("1"), ids.get("1.0"), "the same number written two ways is the same recipe");
        assertNotEquals(ids.get("1"), ids.get("0.5"));
        // the same cell in a bigger spec, after a rewrite of the file, keeps its id
        List<Cell> grown = cells("same", "references: [base]\n" + merge.formatted("[0.5, 1]"));
        assertEquals(ids.get("0.5"), grown.get(1).id());
        assertEquals(ids.get("1"), grown.get(2).id());
        // other model contents, another experiment name or another seed: another id
        ExperimentSpec spec = SpecParser.parse(spec("same", "references: []\n" + merge.formatted("0.5")));
        assertNotEquals(ids.get("0.5"), GridExpander.expand(spec, hashes("sha256:other")).getFirst().id());
        assertNotEquals(ids.get("0.5"), cells("renamed", "references: []\n" + merge.formatted("0.5")).getFirst().id());
        List<Cell> seeds = cells("seeded", "references: []\nmerges:\n  - {method: dare_linear, base: base,"
                + " models: [chat], parameters: {weight: 1, density: 0.5}, seeds: [3, 4]}\n");
        assertNotEquals(seeds.get(0).id(), seeds.get(1).id());
        assertEquals("seeded", SpecParser.parse(dir.resolve("seeded.yaml")).name(), "name defaults to the file's");
    }

    @Test
    void lerpIsLinearWithWeightsOneMinusTAndT() throws IOException {
        Cell c = cells("lerp", "references: []\nmerges:\n  - {method: lerp, base: base, models: [chat],"
                + " parameters: {t: 0.3}}\n").getFirst();
        MergeConfig cfg = ConfigParser.parse(Path.of("lerp"), c.config().yaml());
        assertEquals("linear", cfg.method());
        assertEquals(Path.of("m/base").toAbsolutePath().toString(), cfg.baseModel());
        assertEquals(List.of("base", "chat"), c.config().inputs());
        assertEquals(0, c.config().baseInput());
        assertEquals(new ParameterSetting.Scalar(0.7), cfg.models().get(0).parameters().get("weight"));
        assertEquals(new ParameterSetting.Scalar(0.3), cfg.models().get(1).parameters().get("weight"));
        assertEquals("lerp t=0.3", c.label());
    }

    @Test
    void perModelParametersGoToEveryModelTheMethodAsksThemOf() throws IOException {
        List<Cell> cells = cells("permodel", """
                references: []
                merges:
                  - method: ties
                    base: base
                    models: [chat, math]
                    parameters: {weight: 0.5, density: {chat: 0.3, math: 0.9}, lambda: 2}
                    dtype: float32
                  - method: linear
                    base: base
                    models: [chat, math]
                    parameters: {weight: 1}
                """);
        MergeConfig ties = ConfigParser.parse(Path.of("ties"), cells.get(0).config().yaml());
        assertEquals(List.of("chat", "math", "base"), cells.get(0).config().inputs(), "the base listed last");
        assertEquals(2, cells.get(0).config().baseInput());
        assertEquals(Map.of("weight", new ParameterSetting.Scalar(0.5), "density", new ParameterSetting.Scalar(0.3)),
                ties.models().get(0).parameters());
        assertEquals(Map.of("weight", new ParameterSetting.Scalar(0.5), "density", new ParameterSetting.Scalar(0.9)),
                ties.models().get(1).parameters());
        assertEquals(Map.of(), ties.models().get(2).parameters(), "the base of a task-vector method takes none");
        assertEquals(Map.of("lambda", new ParameterSetting.Scalar(2.0)), ties.parameters());
        assertEquals("float32", ties.dtype().torchName());
        MergeConfig linear = ConfigParser.parse(Path.of("linear"), cells.get(1).config().yaml());
        assertEquals(new ParameterSetting.Scalar(1.0), linear.models().get(2).parameters().get("weight"),
                "linear's base is an ordinary input and takes a weight too");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            merges: [{method: delerp, base: base, models: [base, chatt], parameters: {t: 0.5}}] | merges[0].models[1]: unknown model 'chatt'; the models are [base, chat, math]
            merges: [{method: delurp, base: base, models: [base, chat]}]                        | merges[0].method: unknown method 'delurp'; expected one of linear, slerp
            merges: [{method: delerp, base: base, models: [base, chat], parameters: {t: {from: 1, to: 0, step: 0.1}}}] | merges[0].parameters.t: is empty: from 1 is above to 0
            merges: [{method: delerp, base: base, models: [base, chat], parameters: {t: {from: 0, to: 1, step: 0}}}]   | merges[0].parameters.t: step must be > 0, got 0
            merges: [{method: delerp, base: base, models: [base, chat], parameters: {t: {from: 0, to: 1}}}]            | merges[0].parameters.t: a range needs numbers from, to and step; step is nothing
            merges: [{method: delerp, base: base, models: [base, chat], parameters: {t: {from: 0, to: 1, step: 0.00001}}}] | merges[0].parameters.t: has 100001 values; at most 10000
            merges: [{method: delerp, base: base, models: [base, chat], parameters: {tt: 0.5}}] | merges[0].parameters.tt: is not a parameter of delerp; it has [t, eps]
            merges: [{method: delerp, base: base, models: [base, chat], parameters: {t: {base: 0.5}}}] | merges[0].parameters.t: is a global parameter of delerp
            merges: [{method: ties, base: base, models: [chat], parameters: {weight: {math: 1}}}] | merges[0].parameters.weight.math: 'math' is not one of this merge's models [chat, base]
            merges: [{method: ties, base: base, models: [chat], parameters: {weight: {base: 1}}}] | merges[0].parameters.weight.base: the base takes no per-model parameters in ties
            merges: [{method: slerp, base: base, models: [base, chat], parameters: {t: 0.5}, seeds: [1]}] | merges[0].seeds: apply only to the random methods [dare_linear, dare_ties, della, della_linear]; slerp is deterministic
            merges: [{method: lerp, models: [base, chat], parameters: {t: 0.5}}] | merges[0]: lerp interpolates from a base (t = 0) to one other model (t = 1)
            merges: [{method: lerp, base: base, models: [chat]}] | merges[0].parameters: lerp needs t
            merges: [{method: dare_ties, base: base, models: [chat], seeds: [1, 1]}] | merges[0].seeds: lists seed 1 twice
            merges: [{method: delerp, base: base, models: [base, chat], parameters: {t: [0.5, 0.5]}}] | merges[0].parameters.t: lists 0.5 twice
            merges: [{method: delerp, base: base, models: [base, chat], dtype: int8}] | merges[0].dtype: unknown dtype 'int8'
            merges: [{method: delerp, base: base, models: [base, chat], color: red}] | merges[0]: has unknown key 'color'; expected method, base, models, parameters, seeds, dtype
            references: [base, nobody] | references[1]: unknown model 'nobody'
            references: []             | nothing to run; list references or merges
            reports: {}                | the top level: has unknown key 'reports'
            tasks: {dir: t, splits: [val, val]} | tasks.splits: lists 'val' twice
            tasks: {dir: t, limit: 0}           | tasks.limit: must be a whole number >= 1 (items per task), got '0'
            """)
    void specErrorsAreOneLineNamingFileAndKey(String body, String expected) throws IOException {
        Path file = spec("bad", body);
        if (body.startsWith("tasks:")) {
            // instead of the header's tasks section
            Files.writeString(file, "models:\n  base: m/base\n  chat: m/chat\n  math: m/math\n" + body + "\n");
        }
        BadInputException e = assertThrows(BadInputException.class, () -> SpecParser.parse(file));
        assertTrue(e.getMessage().startsWith(file + ": " + expected), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void duplicateAliasesAndDuplicateFoldersAreErrors() throws IOException {
        Path dup = dir.resolve("dup.yaml");
        Files.writeString(dup, "models:\n  base: m/base\n  base: m/other\nreferences: [base]\n");
        BadInputException e = assertThrows(BadInputException.class, () -> SpecParser.parse(dup));
        assertTrue(e.getMessage().startsWith(dup + ":3:"), e.getMessage());
        assertTrue(e.getMessage().contains("duplicate key base"), e.getMessage());
        Path same = dir.resolve("same-folder.yaml");
        Files.writeString(same, "models:\n  base: m/base\n  again: m/../m/base\nreferences: [base]\n");
        e = assertThrows(BadInputException.class, () -> SpecParser.parse(same));
        assertEquals(same + ": models.again: is the same folder as models.base (" + Path.of("m/base")
                .toAbsolutePath() + "); give each model one alias", e.getMessage(),
                "relative to the current directory");
    }

    @Test
    void duplicateCellsAreErrors() throws IOException {
        BadInputException e = assertThrows(BadInputException.class, () -> cells("twice", """
                references: []
                merges:
                  - {method: delerp, base: base, models: [base, chat], parameters: {t: [0.5, 0.7]}}
                  - {method: delerp, base: base, models: [base, chat], parameters: {t: 0.7}}
                """));
        assertEquals(dir.resolve("twice.yaml") + ": merges[0] and merges[1] give the same cell 'delerp t=0.7'; list"
                + " it once", e.getMessage());
    }

    @Test
    void theReportSectionIsPassedThroughUntouched() throws IOException {
        ExperimentSpec spec = SpecParser.parse(spec("report", "references: [base]\nreport:\n  table: {rows: [a],"
                + " anything: [1, 2]}\n  whatever: true\n"));
        assertEquals(Map.of("table", Map.of("rows", List.of("a"), "anything", List.of(1, 2)), "whatever", true),
                spec.report());
        assertEquals(List.of("val", "test"), spec.tasks().splits());
        assertEquals(0, spec.tasks().limit());
        assertEquals(List.of(), spec.tasks().names());
        assertTrue(spec.hash().matches("sha256:[0-9a-f]{64}"));
    }
}
