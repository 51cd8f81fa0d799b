package org.mergelab.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.classfile.ClassFile;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassFileUpgradeTest {
    /**
     * The jar the launcher upgrades, picocli's (Java 5 bytecode): every class comes out at the target version, and
     * every one of them loads, passes the verifier (which for these versions checks the generated stack maps, with no
     * fallback) and initializes; a second pass finds nothing to do.
     */
    @Test
    void picocliUpgradesToClassesThatVerify(@TempDir Path dir) throws Exception {
        Path picocli = Path.of(picocli.CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path upgraded = dir.resolve("picocli.jar");
        int count = ClassFileUpgrade.upgrade(picocli, upgraded);
        assertTrue(count > 200, "picocli's classes are Java 5 bytecode: " + count + " upgraded");

        List<String> names = new ArrayList<>();
        try (ZipFile zip = new ZipFile(upgraded.toFile())) {
            for (var e : java.util.Collections.list(zip.entries())) {
                if (e.getName().endsWith(".class") && !e.getName().endsWith("module-info.class")) {
                    byte[] bytes = zip.getInputStream(e).readAllBytes();
                    int major = ClassFile.of().parse(bytes).majorVersion();
                    assertEquals(ClassFileUpgrade.TARGET_MAJOR, major, e.getName());
                    names.add(e.getName().substring(0, e.getName().length() - ".class".length()).replace('/', '.'));
                }
            }
        }
        assertEquals(count, names.size());
        // a loader of its own (not the test's, which has the original picocli): initializing links, linking verifies
        try (URLClassLoader loader = new URLClassLoader(new java.net.URL[] {upgraded.toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            for (String name : names) {
                Class<?> c = Class.forName(name, true, loader);
                assertEquals(loader, c.getClassLoader(), name);
            }
        }
        assertEquals(0, ClassFileUpgrade.upgrade(upgraded, dir.resolve("again.jar")), "nothing old is left");
    }
}
