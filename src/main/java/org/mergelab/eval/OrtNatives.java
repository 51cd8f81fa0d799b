package org.mergelab.eval;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import ai.onnxruntime.OrtEnvironment;

/**
 * Points ONNX Runtime at a persistent copy of its native libraries. By default every JVM unpacks the 28 MB
 * libonnxruntime.so from the jar into a fresh temp directory (java-stack.md G2); here it is unpacked once into
 * {@code ~/.cache/mergelab/onnxruntime-<version>-<crc>/} (or {@code $MERGELAB_CACHE}) and
 * {@code -Donnxruntime.native.path} is set to it. An explicit {@code -Donnxruntime.native.path} wins,
 * {@code -Dmergelab.ort.cache=false} turns this off, and on any problem nothing is set and ORT extracts as usual.
 */
final class OrtNatives {
    static final String PROPERTY = "onnxruntime.native.path";
    private static final String[] LIBS = {"libonnxruntime.so", "libonnxruntime4j_jni.so"};
    private static boolean done;

    private OrtNatives() {}

    static synchronized void prepare() {
        if (done) {
            return;
        }
        done = true;
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (System.getProperty(PROPERTY) != null || !Boolean.parseBoolean(System.getProperty("mergelab.ort.cache",
                "true")) || !os.contains("linux")
                || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return;
        }
        try {
            Path jar = Path.of(OrtEnvironment.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isRegularFile(jar)) {
                return;
            }
            try (JarFile jf = new JarFile(jar.toFile())) {
                String prefix = "ai/onnxruntime/native/linux-x64/";
                ZipEntry main = jf.getEntry(prefix + LIBS[0]);
                ZipEntry jni = jf.getEntry(prefix + LIBS[1]);
                if (main == null || jni == null) {
                    return;
                }
                String version = String.valueOf(OrtEnvironment.class.getPackage().getImplementationVersion());
                Path dir = cacheRoot().resolve(String.format(Locale.ROOT, "onnxruntime-%s-%08x%08x", version,
                        main.getCrc(), jni.getCrc()));
                if (!complete(dir, main, jni)) {
                    Files.createDirectories(dir.getParent());
                    Path tmp = Files.createTempDirectory(dir.getParent(), dir.getFileName() + ".tmp");
                    for (String lib : LIBS) {
                        try (InputStream in = jf.getInputStream(jf.getEntry(prefix + lib))) {
                            Files.copy(in, tmp.resolve(lib));
                        }
                    }
                    try {
                        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                    } catch (IOException raced) {
                        // another JVM finished first (or no atomic rename here): use theirs, drop ours
                        for (String lib : LIBS) {
                            Files.deleteIfExists(tmp.resolve(lib));
                        }
                        Files.deleteIfExists(tmp);
                        if (!complete(dir, main, jni) && !(raced instanceof AtomicMoveNotSupportedException)) {
                            return;
                        }
                    }
                }
                if (complete(dir, main, jni)) {
                    System.setProperty(PROPERTY, dir.toString());
                }
            }
        } catch (IOException | RuntimeException | java.net.URISyntaxException e) {
            // fall back to ORT's own extraction
        }
    }

    private static boolean complete(Path dir, ZipEntry main, ZipEntry jni) throws IOException {
        Path a = dir.resolve(LIBS[0]);
        Path b = dir.resolve(LIBS[1]);
        return Files.isRegularFile(a) && Files.isRegularFile(b) && Files.size(a) == main.getSize()
                && Files.size(b) == jni.getSize();
    }

    private static Path cacheRoot() {
        String env = System.getenv("MERGELAB_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "mergelab");
    }
}
