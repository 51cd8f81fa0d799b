package org.mergelab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mergelab.zoo.SyntheticLlama;

/** A merge onto a full disk (a 32 KiB tmpfs) fails with one clean line and leaves nothing behind. */
class DiskFullTest {
    @Test
    void diskFullIsACleanErrorWithNoPartialOutput(@TempDir Path dir) throws Exception {
        Path tiny = dir.resolve("tiny-fs");
        Files.createDirectories(tiny);
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", tiny.toString()) == 0,
                "needs root to mount a tmpfs");
        try {
            Path base = dir.resolve("base");
            Path ft = dir.resolve("ft");
            SyntheticLlama.write(base, SyntheticLlama.Spec.tiny(), 1, 0, 0);
            SyntheticLlama.write(ft, SyntheticLlama.Spec.tiny(), 1, 2, 0.3);
            Path config = dir.resolve("merge.yml");
            Files.writeString(config, "merge_method: delerp\nbase_model: " + base + "\nmodels:\n  - model: " + ft
                    + "\nparameters: {t: 0.5}\n");
            Path out = tiny.resolve("out");
            CliRun r = CliRun.of("merge", config, out);
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().startsWith("mergelab: I/O error: ") && r.err().contains("No space left on device"),
                    r.err());
            assertTrue(r.err().lines().count() <= 2, "message plus the --verbose hint: " + r.err());
            assertFalse(Files.exists(out));
            try (Stream<Path> s = Files.list(tiny)) {
                assertEquals(0, s.count(), "no temporary folder left on the full disk");
            }
        } finally {
            run("umount", tiny.toString());
        }
    }

    private static int run(String... cmd) throws IOException, InterruptedException {
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start().waitFor();
    }
}
