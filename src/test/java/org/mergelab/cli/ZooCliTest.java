package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.zoo.Family;
import org.mergelab.zoo.TrainingCard;

/**
 * {@code zoo train} end to end on a micro family (1 layer, hidden 32, a few steps per member), then {@code zoo
 * verify}: cards written with hashes, loss curve and quality bars; a corrupted tensor is caught by name.
 */
class ZooCliTest {
    @TempDir
    static Path tmp;

    static Path zoo;
    static CliRun train;

    @BeforeAll
    static void trainMicroFamily() {
        zoo = tmp.resolve("zoo");
        train = CliRun.of("zoo", "train", "--out", zoo, "--layers", "1", "--hidden", "32", "--step-scale", "0.004",
                "--eval-limit", "4", "--threads", "1", "--progress", "never");
    }

    @Test
    void trainsEveryMemberAndWritesCards() throws Exception {
        assertEquals(0, train.code(), train.err());
        assertTrue(train.out().contains("trained 5 member(s)"), train.out());
        for (String m : Family.MEMBERS) {
            Path dir = zoo.resolve(m);
            JsonNode card = TrainingCard.read(dir);
            assertEquals(m, card.get("name").asText());
            assertEquals(m.equals(Family.BASE), card.get("parent").isNull());
            assertTrue(card.get("loss_curve").size() >= 1);
            assertTrue(Double.isFinite(card.get("final_train_loss").asDouble()));
            assertEquals(4, card.get("quality_test_split").get("narratives").get("bits_per_byte").get("n").asInt());
            try (ModelFolder f = ModelFolder.open(dir)) {
                assertEquals(f.tensorCount(), card.get("tensors").size());
            }
            assertTrue(Files.readString(dir.resolve(TrainingCard.MARKDOWN)).contains("## Quality bars"));
        }
        // the world's task sets are written beside a family trained outside benchmarks-data
        assertTrue(Files.isRegularFile(zoo.resolve("tasks/test/math.yaml")));
        JsonNode math = TrainingCard.read(zoo.resolve(Family.MATH));
        assertTrue(math.get("bars").toString().contains("math gain over base"), math.get("bars").toString());
    }

    @Test
    void verifyPassesThenCatchesACorruptedTensor() throws Exception {
        assertEquals(0, train.code(), train.err());
        Path copy = tmp.resolve("copy");
        copyTree(zoo, copy);
        CliRun ok = CliRun.of("zoo", "verify", "--dir", copy);
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("all 5 members verified"), ok.out());

        Path weights = copy.resolve("words").resolve(ModelFolder.SINGLE);
        long offset;
        String name;
        try (ModelFolder f = ModelFolder.open(copy.resolve("words"))) {
            ModelTensor t = f.tensor("model.layers.0.mlp.up_proj.weight");
            name = t.name();
            offset = 8 + headerLength(weights) + t.info().begin();
        }
        try (RandomAccessFile raf = new RandomAccessFile(weights.toFile(), "rw")) {
            raf.seek(offset);
            int b = raf.read();
            raf.seek(offset);
            raf.write(b ^ 0x40);
        }
        CliRun bad = CliRun.of("zoo", "verify", "--dir", copy);
        assertEquals(Main.INTERNAL_ERROR, bad.code());
        assertTrue(bad.err().contains("model.safetensors: SHA-256 differs"), bad.err());
        assertTrue(bad.err().contains("tensor " + name + " differs from its recorded hash"), bad.err());
        assertTrue(bad.err().contains("1 of 5 member(s) failed"), bad.err());
        assertFalse(bad.err().contains("Exception"), bad.err());
    }

    @Test
    void unknownMemberIsBadInput() {
        CliRun r = CliRun.of("zoo", "train", "--out", tmp.resolve("none"), "--only", "poetry", "--progress", "never");
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("--only poetry: no such family member"), r.err());
        assertFalse(Files.exists(tmp.resolve("none")));
    }

    /** The safetensors header length: the file's first 8 bytes, little-endian. */
    private static long headerLength(Path file) throws Exception {
        byte[] b = new byte[8];
        try (var in = Files.newInputStream(file)) {
            in.readNBytes(b, 0, 8);
        }
        return java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
