package org.mergelab.zoo;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;

/** SHA-256 of files and of each tensor's stored bytes: what a training card records and {@code zoo verify} checks. */
public final class Hashes {
    /** The files of a model folder that a card pins (weights, config, tokenizer). */
    public static final List<String> PINNED_FILES = List.of(ModelFolder.SINGLE,
            ModelFolder.CONFIG, "tokenizer.json");

    private Hashes() {}

    public static String file(Path file) throws IOException {
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Name → SHA-256 of the tensor's raw stored bytes (dtype and layout as on disk), in file order. */
    public static Map<String, String> tensors(ModelFolder folder) {
        Map<String, String> out = new LinkedHashMap<>();
        for (ModelTensor t : folder.tensors()) {
            MessageDigest md = sha256();
            md.update(t.data().asByteBuffer());
            out.put(t.name(), HexFormat.of().formatHex(md.digest()));
        }
        return out;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
