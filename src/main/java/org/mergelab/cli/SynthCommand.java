package org.mergelab.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.mergelab.BadInputException;
import org.mergelab.io.DType;
import org.mergelab.zoo.SyntheticLlama;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "synth", mixinStandardHelpOptions = true, description = "Write a random Llama-shaped model folder (for examples, tests, benchmarks).",
        sortOptions = false)
final class SynthCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "OUT_DIR")
    Path out;

    @Option(names = "--size", converter = Sizes.class, paramLabel = "SIZE",
            description = "approximate total size (e.g. 1G); picks layers of hidden size 1024")
    Long size;

    @Option(names = "--layers", defaultValue = "2")
    int layers;

    @Option(names = "--hidden", defaultValue = "32")
    int hidden;

    @Option(names = "--intermediate", defaultValue = "64")
    int intermediate;

    @Option(names = "--heads", defaultValue = "4")
    int heads;

    @Option(names = "--kv-heads", defaultValue = "2")
    int kvHeads;

    @Option(names = "--vocab", defaultValue = "96")
    int vocab;

    @Option(names = "--dtype", defaultValue = "bfloat16", description = "bfloat16, float16 or float32")
    String dtype;

    @Option(names = "--shard-size", converter = Sizes.class, defaultValue = "5G", paramLabel = "SIZE")
    long shardBytes;

    @Option(names = "--base-seed", defaultValue = "1", description = "models sharing it are fine-tunes of one base")
    long baseSeed;

    @Option(names = "--seed", defaultValue = "0", description = "seed of this model's own deviation from the base")
    long seed;

    @Option(names = "--delta", defaultValue = "0",
            description = "size of the deviation relative to the base's weights (0 = the base itself)")
    double delta;

    @Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        if (Files.exists(out)) {
            throw new BadInputException(out + ": already exists");
        }
        DType type = DType.fromConfigName(dtype, "--dtype");
        SyntheticLlama.Spec s = size != null ? SyntheticLlama.Spec.ofSize(size, type, shardBytes)
                : new SyntheticLlama.Spec(layers, hidden, intermediate, heads, kvHeads, vocab, type, shardBytes, false);
        if (s.hidden() % s.heads() != 0 || s.heads() % s.kvHeads() != 0) {
            throw new BadInputException("--hidden must be a multiple of --heads, and --heads of --kv-heads");
        }
        long started = System.nanoTime();
        SyntheticLlama.write(out, s, baseSeed, seed, delta);
        long bytes = SyntheticLlama.tensors(s).stream().mapToLong(t -> t.byteSize()).sum();
        spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s: %d layers, hidden %d, %s in %.2f s%n", out,
                s.layers(), s.hidden(), Sizes.format(bytes), (System.nanoTime() - started) / 1e9);
        return Main.OK;
    }
}
