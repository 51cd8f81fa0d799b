package org.mergelab.experiment;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** SHA-256 digests, written {@code sha256:<64 hex>} as eval writes model identities and task hashes. */
final class Hashing {
    private Hashing() {}

    static String sha256(byte[] bytes) {
        return format(digest().digest(bytes));
    }

    static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Over the files' bytes, one after another, each preceded by its name (so moving bytes between files counts). */
    static String sha256(List<Path> files) throws IOException {
        MessageDigest sha = digest();
        byte[] buf = new byte[1 << 20];
        for (Path f : files) {
            sha.update((f.getFileName() + "\n").getBytes(StandardCharsets.UTF_8));
            try (InputStream in = Files.newInputStream(f)) {
                for (int n; (n = in.read(buf)) > 0;) {
                    sha.update(buf, 0, n);
                }
            }
        }
        return format(sha.digest());
    }

    private static String format(byte[] digest) {
        return "sha256:" + HexFormat.of().formatHex(digest);
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
