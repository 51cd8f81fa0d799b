package org.mergelab.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's choice of JDK ({@code ./mergelab}, {@code find_jdk25}): by the version a JDK's {@code release} file
 * names, or by asking {@code java -version} when it has none. Each fake JDK here is this test's own JDK behind a
 * {@code bin/java} that first notes it was run; {@code ./mergelab mvn --version} then shows which one Maven ran on.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("mergelab").toAbsolutePath();
    private static final String REAL_JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    @Test
    void aJdkWhoseReleaseFileSays25IsUsedWithoutStartingIt(@TempDir Path dir) throws Exception {
        Path jdk = fakeJdk(dir.resolve("jdk"), "JAVA_VERSION=\"25.0.1\"");
        assertEquals(0, launchMavenWith(jdk));
        // Maven ran on it, and the launcher never started its java to ask the version
        assertEquals(1, runs(jdk));
    }

    @Test
    void aJdkWhoseReleaseFileNamesAnotherVersionIsPassedOver(@TempDir Path dir) throws Exception {
        Path jdk = fakeJdk(dir.resolve("jdk"), "JAVA_VERSION=\"17.0.2\"");
        assertEquals(0, launchMavenWith(jdk)); // on a JDK 25 found under /usr/lib/jvm instead
        assertEquals(0, runs(jdk));
    }

    @Test
    void aJdkWithoutReleaseFileIsAskedItsVersion(@TempDir Path dir) throws Exception {
        Path jdk = fakeJdk(dir.resolve("jdk"), null);
        assertEquals(0, launchMavenWith(jdk));
        assertEquals(2, runs(jdk)); // java -version, then Maven
    }

    /** A JDK folder whose {@code bin/java} appends a line to {@code runs} and runs this JVM's java. */
    private static Path fakeJdk(Path jdk, String release) throws IOException {
        Files.createDirectories(jdk.resolve("bin"));
        Path java = jdk.resolve("bin/java");
        Files.writeString(java, "#!/usr/bin/env bash\necho run >> '" + jdk.resolve("runs") + "'\nexec '" + REAL_JAVA
                + "' \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (release != null) {
            Files.writeString(jdk.resolve("release"), "IMPLEMENTOR=\"test\"\n" + release + "\n");
        }
        return jdk;
    }

    private static long runs(Path jdk) throws IOException {
        Path runs = jdk.resolve("runs");
        return Files.exists(runs) ? Files.readAllLines(runs).size() : 0;
    }

    private static int launchMavenWith(Path jdk) throws Exception {
        assertTrue(Files.isExecutable(LAUNCHER), "run from the repository root: " + LAUNCHER);
        ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "mvn", "-q", "--version")
                .redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", jdk.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        int status = p.waitFor();
        assertFalse(out.contains("needs JDK 25"), out);
        return status;
    }
}
