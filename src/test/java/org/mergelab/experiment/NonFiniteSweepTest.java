package org.mergelab.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.io.FloatCodec;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.report.ResultsReader;

import com.fasterxml.jackson.databind.JsonNode;

/** A sweep over a model holding a NaN and an Inf: the merge cell's rows carry the counts, and the sweep warns. */
class NonFiniteSweepTest {
    static final String TENSOR = "model.layers.1.mlp.down_proj.weight";

    @TempDir
    static Path dir;
    static SweepFixture f;
    static Path broken;

    @BeforeAll
    static void models() throws IOException {
        f = SweepFixture.write(dir);
        broken = Files.createDirectories(dir.resolve("broken"));
        try (Stream<Path> files = Files.list(f.math())) {
            for (Path p : files.toList()) {
                Files.copy(p, broken.resolve(p.getFileName()));
            }
        }
        plant(broken, TENSOR, 3, Float.NaN);
        plant(broken, TENSOR, 40, Float.NEGATIVE_INFINITY);
    }

    /** Overwrites element {@code index} of a bf16 tensor in place. */
    static void plant(Path model, String tensor, long index, float value) throws IOException {
        Path file;
        long position;
        try (ModelFolder m = ModelFolder.open(model)) {
            ModelTensor t = m.tensor(tensor);
            file = t.file().path();
            position = t.file().dataStart() + t.info().begin() + 2 * index;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort(FloatCodec.floatToBf16(value)).flip();
            ch.write(b, position);
        }
    }

    @Test
    void mergeRowsCarryTheCountsAndTheSweepWarns() throws Exception {
        Path spec = dir.resolve("nonfinite.yaml");
        Files.writeString(spec, "models:\n  base: " + f.base() + "\n  chat: " + f.chat() + "\n  broken: " + broken
                + "\ntasks:\n  dir: " + f.tasks() + "\n  limit: 1\nreferences: []\nmerges:\n"
                + "  - {method: lerp, base: base, models: [base, broken], parameters: {t: 0.5}}\n"
                + "  - {method: lerp, base: base, models: [base, chat], parameters: {t: 0.5}}\n");
        Path results = dir.resolve("results");
        SweepRunnerTest.Run run = SweepRunnerTest.run(spec, results, false, false, null);
        Map<String, JsonNode> rows = SweepRunnerTest.byLabelAndSplit(SweepRunnerTest.rows(results));
        for (String split : List.of("val", "test")) {
            JsonNode bad = rows.get("lerp(base→broken) t=0.5/" + split).at("/norms/nonfinite");
            assertEquals(2, bad.get("inputs").asLong(), bad.toString());
            assertEquals(2, bad.get("outputs").asLong(), "NaN and -Inf pass through LERP: " + bad);
            assertEquals(1, bad.get("tensors").asInt(), bad.toString());
            JsonNode clean = rows.get("lerp(base→chat) t=0.5/" + split).at("/norms/nonfinite");
            assertEquals(0, clean.get("inputs").asLong() + clean.get("outputs").asLong(), clean.toString());
        }
        List<String> warnings = run.notes().stream().filter(n -> n.contains("NaN/Inf")).toList();
        assertEquals(List.of("warning: cell 'lerp(base→broken) t=0.5': the merge read 2 NaN/Inf input values and"
                + " wrote 2 in 1 tensors; its rows say so under norms.nonfinite"), warnings);
        // the CSV view flattens the counts; the report package reads rows with the new field (the clean cell's: the
        // broken cell's NaN scores are null items, which the report refuses whatever this field says)
        String header = Files.readAllLines(results.resolve(ResultStore.CSV)).getFirst();
        assertTrue(header.contains("norms.nonfinite.inputs,norms.nonfinite.outputs,norms.nonfinite.tensors"), header);
        Path clean = dir.resolve("clean.jsonl");
        Files.write(clean, Files.readAllLines(results.resolve(ResultStore.ROWS)).stream()
                .filter(l -> l.contains("base→chat")).toList());
        ResultsReader.Results read = ResultsReader.read(clean);
        assertEquals(2, read.rows().size());
        assertEquals(List.of(), read.warnings());
    }
}
