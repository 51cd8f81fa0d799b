package org.mergelab.cli;

import java.io.IOException;
import java.nio.file.Path;

import org.mergelab.zoo.SyntheticLlama;

/**
 * The three tiny sharded bf16 Llama folders the CLI tests merge: a base and two "fine-tunes" of it (the base plus 30 %
 * noise, different seeds), shards of 20 kB so every model has several.
 */
record TinyFamily(Path base, Path a, Path b) {
    static TinyFamily write(Path dir) throws IOException {
        var spec = SyntheticLlama.Spec.tiny().withShardBytes(20_000);
        TinyFamily f = new TinyFamily(dir.resolve("base"), dir.resolve("ft-a"), dir.resolve("ft-b"));
        SyntheticLlama.write(f.base, spec, 1, 0, 0);
        SyntheticLlama.write(f.a, spec, 1, 2, 0.3);
        SyntheticLlama.write(f.b, spec, 1, 3, 0.3);
        return f;
    }
}
