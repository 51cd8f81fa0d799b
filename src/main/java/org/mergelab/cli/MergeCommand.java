package org.mergelab.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.mergelab.merge.MergeEngine;
import org.mergelab.merge.MergeToFolder;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "merge", mixinStandardHelpOptions = true, description = "Merge models as a mergekit YAML config says and write an HF model folder.",
        sortOptions = false)
final class MergeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CONFIG.yml", description = "mergekit-style merge config")
    Path config;

    @Parameters(index = "1", paramLabel = "OUT_DIR", description = "output model folder (must not exist, or be empty)")
    Path out;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--out-shard-size", paramLabel = "SIZE", defaultValue = "5G", converter = Sizes.class,
            description = "split output shards at this many bytes (K/M/G suffixes; default ${DEFAULT-VALUE})")
    long shardBytes;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "seed for random methods, recorded in the output (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--stats", paramLabel = "FILE.csv",
            description = "write per-tensor norm statistics (norms, cosines, norm ratios, pruning, sign agreement)")
    Path stats;

    @Option(names = "--overwrite", description = "replace OUT_DIR if it exists")
    boolean overwrite;

    @Option(names = "--strict", description = "fail (exit 2, nothing written) at the first tensor holding NaN or Inf in"
            + " an input or the merged output, instead of warning about each such tensor")
    boolean strict;

    @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto",
            description = "progress bar: auto (on a terminal), always, never")
    String progress;

    @Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (n < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 1");
        }
        TerminalProgress.Mode mode = ProgressOption.parse(spec, progress);
        var err = spec.commandLine().getErr();
        var opts = new MergeToFolder.Options(n, shardBytes, seed, overwrite,
                Integer.getInteger("mergelab.chunk", MergeEngine.DEFAULT_CHUNK),
                TerminalProgress.create(mode, "merge"), line -> err.println("mergelab: " + line), stats, strict);
        MergeToFolder.Summary s = MergeToFolder.run(config, out, opts);
        spec.commandLine().getOut().println(String.format(Locale.ROOT,
                "merged %d tensors (%s) with %s into %s in %.2f s (%.2f GB/s written, %d shard%s)",
                s.tensors(), Sizes.format(s.bytes()), s.method(), s.out(), s.seconds(),
                s.bytes() / 1e9 / Math.max(s.seconds(), 1e-9), s.shards(), s.shards() == 1 ? "" : "s"));
        if (verbose.on) {
            StringBuilder b = new StringBuilder("phases:");
            s.phases().forEach((k, v) -> b.append(String.format(Locale.ROOT, " %s %.2f s", k, v)));
            err.println("mergelab: " + b);
            // a merge's data lives in mappings and pooled buffers: tens of GB here means a kernel compiled into code
            // that allocates every vector (the Vector API's Java fallback), which the benchmark's column shows
            long allocated = ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory
                    .getThreadMXBean()).getTotalThreadAllocatedBytes();
            if (allocated >= 0) {
                err.println(String.format(Locale.ROOT, "mergelab: heap allocated %.2f GB (all threads)",
                        allocated / 1e9));
            }
        }
        return Main.OK;
    }
}
