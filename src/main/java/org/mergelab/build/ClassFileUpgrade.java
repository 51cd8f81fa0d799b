package org.mergelab.build;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Rewrites a jar's pre-Java-6 class files (major version below 50) as Java 8 ones (52), with the stack maps those
 * need, the code otherwise unchanged. Why: a JDK 25 AOT cache ({@code ./mergelab} records one at build time) cannot
 * hold "old" classes, and picocli's are Java 5 bytecode: each start then loaded and verified them the slow way, about
 * 0.1 s of every {@code merge} (1 GB linear merges 1.54 -> 1.41 s median, measured). The launcher runs this on the
 * copied picocli jar after each build; a jar without old classes is left as it is.
 *
 * <p>Usage: {@code java -cp mergelab.jar org.mergelab.build.ClassFileUpgrade JAR} (rewritten in place).
 */
public final class ClassFileUpgrade {
    private ClassFileUpgrade() {}

    /** The class-file version written: the first whose classes need stack maps and are verified by them alone. */
    static final int TARGET_MAJOR = ClassFile.JAVA_8_VERSION;

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ClassFileUpgrade JAR");
            System.exit(2);
        }
        Path jar = Path.of(args[0]);
        Path upgraded = jar.resolveSibling(jar.getFileName() + ".upgrading");
        int count = upgrade(jar, upgraded);
        if (count > 0) {
            Files.move(upgraded, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } else {
            Files.deleteIfExists(upgraded);
        }
        System.out.println(jar + ": " + count + " class files upgraded to version " + TARGET_MAJOR);
    }

    /** Writes {@code in} to {@code out} with every old class file upgraded; returns how many were. */
    static int upgrade(Path in, Path out) throws IOException {
        int count = 0;
        // the stack maps need the common superclass of types that meet at a branch: resolved from the JDK, else by
        // parsing the jar's own class files
        try (URLClassLoader jarClasses = new URLClassLoader(new java.net.URL[] {in.toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            ClassHierarchyResolver resolver = ClassHierarchyResolver.defaultResolver()
                    .orElse(ClassHierarchyResolver.ofResourceParsing(jarClasses)).cached();
            ClassFile classFile = ClassFile.of(ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
                    ClassFile.ClassHierarchyResolverOption.of(resolver));
            // rebuilding every method body is what makes the API generate its stack maps
            ClassTransform toTarget = ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
                    .andThen(ClassTransform.endHandler(b -> b.withVersion(TARGET_MAJOR, 0)));
            try (InputStream raw = Files.newInputStream(in);
                    ZipInputStream zin = new ZipInputStream(raw);
                    OutputStream sink = Files.newOutputStream(out);
                    ZipOutputStream zout = new ZipOutputStream(sink)) {
                for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
                    byte[] bytes = zin.readAllBytes();
                    if (e.getName().endsWith(".class") && !e.getName().endsWith("module-info.class")) {
                        ClassModel model = classFile.parse(bytes);
                        if (model.majorVersion() < ClassFile.JAVA_6_VERSION) {
                            bytes = classFile.transformClass(model, toTarget);
                            count++;
                        }
                    }
                    ZipEntry copy = new ZipEntry(e.getName());
                    copy.setTime(e.getTime());
                    zout.putNextEntry(copy);
                    zout.write(bytes);
                    zout.closeEntry();
                }
            }
        }
        return count;
    }
}
