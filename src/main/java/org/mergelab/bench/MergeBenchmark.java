package org.mergelab.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.mergelab.io.DType;
import org.mergelab.io.OutputFolder;
import org.mergelab.zoo.SyntheticLlama;

/**
 * Merge speed against the machine's I/O floor, measured in one run: synthetic Llama-shaped bf16 models (cached), the
 * floor (read every input once and write one output-sized file the way the engine does: mmap reads, positional
 * writes, fsync; plus {@code cp} + {@code cat} as an external check), and each method's full {@code merge} as a child
 * process (start to finished folder), repetitions alternating, medians reported.
 */
public final class MergeBenchmark {
    /** What to run. */
    public record Settings(long sizeBytes, List<String> methods, Path dir, int reps, int threads) {}

    /**
     * One measured configuration: median seconds over the repetitions, the largest peak RSS seen, and the median CPU
     * time (user + system, all threads; less disturbed than wall time by other load on a shared machine).
     */
    public record Measurement(String name, int threads, double seconds, double inputGbPerSecond, double floorRatio,
            long peakRssBytes, double cpuSeconds, List<Double> samples) {}

    /**
     * @param floorSeconds median floor time for reading two models and writing one (the two-model merges)
     * @param floor3Seconds the same reading three models (the task-vector merges)
     * @param startupSeconds median time of {@code mergelab --version} in a child JVM: the part of every merge's time
     *     that is JVM and CLI start-up, not merging
     */
    public record Report(long modelBytes, int models, double floorSeconds, double floor3Seconds, double cpCatSeconds,
            double startupSeconds, List<Measurement> merges, String machine) {}

    private final Settings settings;
    private final Consumer<String> log;

    public MergeBenchmark(Settings settings, Consumer<String> log) {
        this.settings = settings;
        this.log = log;
    }

    public Report run() throws IOException, InterruptedException {
        Path dir = settings.dir().toAbsolutePath();
        Files.createDirectories(dir);
        SyntheticLlama.Spec spec = spec(settings.sizeBytes());
        List<Path> models = List.of(dir.resolve("base"), dir.resolve("ft-a"), dir.resolve("ft-b"));
        for (int i = 0; i < models.size(); i++) {
            Path m = models.get(i);
            if (!Files.exists(m.resolve("config.json"))) {
                log.accept("creating " + m + " (" + settings.sizeBytes() / 1_000_000 + " MB) ...");
                OutputFolder.deleteRecursively(m);
                SyntheticLlama.write(m, spec, 1, i, i == 0 ? 0 : 0.3);
            }
        }
        long modelBytes = shardBytes(models.get(0));
        Map<String, Path> configs = new LinkedHashMap<>();
        for (String method : settings.methods()) {
            Path cfg = dir.resolve(method + ".yml");
            Files.writeString(cfg, BenchConfigs.yaml(method, models));
            configs.put(method, cfg);
        }
        Path out = dir.resolve("out");
        warmCache(models);
        List<Double> floor = new ArrayList<>();
        List<Double> floor3 = new ArrayList<>();
        List<Double> cpCat = new ArrayList<>();
        List<Double> startup = new ArrayList<>();
        Map<String, List<Double>> times = new LinkedHashMap<>();
        Map<String, List<Double>> cpu = new LinkedHashMap<>();
        Map<String, Long> rss = new LinkedHashMap<>();
        int cores = Runtime.getRuntime().availableProcessors();
        List<Integer> threadCounts = settings.threads() > 0 ? List.of(settings.threads())
                : cores > 1 ? List.of(1, cores) : List.of(1);
        for (int rep = 0; rep < settings.reps(); rep++) {
            log.accept("repetition " + (rep + 1) + " of " + settings.reps());
            settle();
            // the first write of a repetition runs slow on this VM (write-back of the deleted outputs); an
            // unrecorded run absorbs that so the floors are not flattered into looking slow
            floor(models.subList(0, 2), modelBytes, dir.resolve("floor.bin"));
            settle();
            floor.add(floor(models.subList(0, 2), modelBytes, dir.resolve("floor.bin")));
            settle();
            floor3.add(floor(models, modelBytes, dir.resolve("floor.bin")));
            settle();
            cpCat.add(cpCat(models, dir.resolve("cp-out")));
            startup.add(run(List.of("--version"), new long[1], new double[1]));
            for (var e : configs.entrySet()) {
                for (int t : threadCounts) {
                    String key = e.getKey() + "@" + t;
                    long[] peak = new long[1];
                    double[] cpuSeconds = new double[1];
                    settle();
                    double s = merge(e.getValue(), out, t, peak, cpuSeconds);
                    times.computeIfAbsent(key, k -> new ArrayList<>()).add(s);
                    cpu.computeIfAbsent(key, k -> new ArrayList<>()).add(cpuSeconds[0]);
                    rss.merge(key, peak[0], Math::max);
                }
            }
        }
        double floor3Median = median(floor3);
        // reading two models can never take longer than reading three: the smaller is the honest two-input floor
        double floorMedian = Math.min(median(floor), floor3Median);
        List<Measurement> merges = new ArrayList<>();
        for (var e : times.entrySet()) {
            String[] parts = e.getKey().split("@");
            int inputs = BenchConfigs.inputCount(parts[0]);
            double s = median(e.getValue());
            merges.add(new Measurement(parts[0], Integer.parseInt(parts[1]), s, inputs * modelBytes / 1e9 / s,
                    s / (inputs == 2 ? floorMedian : floor3Median), rss.get(e.getKey()), median(cpu.get(e.getKey())),
                    List.copyOf(e.getValue())));
        }
        OutputFolder.deleteRecursively(out);
        return new Report(modelBytes, models.size(), floorMedian, floor3Median, median(cpCat), median(startup), merges,
                machine());
    }

    static SyntheticLlama.Spec spec(long bytes) {
        // the issue's shape: hidden 2048, intermediate 5632, vocab 32000, as many layers as the size needs
        int hidden = 2048;
        int inter = 5632;
        int vocab = 32000;
        long kv = hidden / 4;
        long perLayer = 2L * hidden * hidden + 2L * kv * hidden + 3L * hidden * inter + 2L * hidden;
        long fixed = 2L * vocab * hidden + hidden;
        int layers = (int) Math.max(1, (bytes / 2 - fixed) / perLayer);
        return new SyntheticLlama.Spec(layers, hidden, inter, 16, 4, vocab, DType.BF16, 2_000_000_000L, false);
    }

    private static long shardBytes(Path model) throws IOException {
        try (Stream<Path> s = Files.list(model)) {
            return s.filter(p -> p.toString().endsWith(".safetensors")).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static List<Path> shards(Path model) throws IOException {
        try (Stream<Path> s = Files.list(model)) {
            return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
    }

    private void warmCache(List<Path> models) throws IOException {
        for (Path m : models) {
            for (Path shard : shards(m)) {
                readMapped(shard);
            }
        }
    }

    /**
     * Flushes dirty pages left by the previous measurement ({@code sync}) so each measurement starts from the same
     * state: otherwise the write-back of the last merge's output is charged to the next run.
     */
    private static void settle() throws IOException, InterruptedException {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
        Thread.sleep(200);
    }

    /** Reads every input shard through a mapping and writes an output-sized file with positional writes and fsync. */
    private static double floor(List<Path> inputs, long outputBytes, Path target) throws IOException {
        long start = System.nanoTime();
        for (Path m : inputs) {
            for (Path shard : shards(m)) {
                readMapped(shard);
            }
        }
        Files.deleteIfExists(target);
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            for (long pos = 0; pos < outputBytes; pos += buf.capacity()) {
                buf.clear().limit((int) Math.min(buf.capacity(), outputBytes - pos));
                while (buf.hasRemaining()) {
                    ch.write(buf, pos + buf.position());
                }
            }
            ch.force(true);
        }
        double s = (System.nanoTime() - start) / 1e9;
        Files.delete(target);
        return s;
    }

    /**
     * Pulls the whole file through a mapping ({@link MemorySegment#load()}: madvise WILLNEED and a native touch of
     * every page), as the engine's prefetcher does; no Java loop, so the floor does not pay for JIT warm-up.
     */
    private static void readMapped(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena).load();
        }
    }

    private static double cpCat(List<Path> models, Path target) throws IOException, InterruptedException {
        OutputFolder.deleteRecursively(target);
        List<String> catFiles = new ArrayList<>();
        for (Path shard : shards(models.get(1))) {
            catFiles.add(shard.toString());
        }
        String script = "cp -r '" + models.get(0) + "' '" + target + "' && cat " + String.join(" ", catFiles.stream()
                .map(f -> "'" + f + "'").toList()) + " > /dev/null && sync";
        long start = System.nanoTime();
        Process p = new ProcessBuilder("bash", "-c", script).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("cp + cat failed");
        }
        double s = (System.nanoTime() - start) / 1e9;
        OutputFolder.deleteRecursively(target);
        return s;
    }

    /**
     * Runs {@code mergelab merge} in a child JVM as a user would; returns wall seconds, peak RSS in {@code peak[0]}
     * and CPU seconds in {@code cpu[0]}.
     */
    private static double merge(Path config, Path out, int threads, long[] peak, double[] cpu)
            throws IOException, InterruptedException {
        OutputFolder.deleteRecursively(out);
        return run(List.of("merge", config.toString(), out.toString(), "--threads", Integer.toString(threads),
                "--progress", "never"), peak, cpu);
    }

    /** Runs the CLI with {@code args} in a child JVM; as {@link #merge}. */
    private static double run(List<String> args, long[] peak, double[] cpu) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-cp",
                System.getProperty("java.class.path"), "org.mergelab.cli.Main"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
        long start = System.nanoTime();
        Process p = pb.start();
        Path status = Path.of("/proc/" + p.pid() + "/status");
        Path stat = Path.of("/proc/" + p.pid() + "/stat");
        while (!p.waitFor(20, TimeUnit.MILLISECONDS)) {
            peak[0] = Math.max(peak[0], highWaterMark(status));
            cpu[0] = Math.max(cpu[0], cpuSeconds(stat));
        }
        double s = (System.nanoTime() - start) / 1e9;
        if (p.exitValue() != 0) {
            throw new IOException("mergelab " + String.join(" ", args) + " failed with exit code " + p.exitValue());
        }
        return s;
    }

    /** Clock ticks per second of /proc's CPU times ({@code getconf CLK_TCK}; 100 on Linux). */
    private static final double TICKS = 100;

    /**
     * User + system CPU seconds of a live process so far (all its threads), from /proc/PID/stat; 0 when it has gone.
     * Sampled every 20 ms, so the last 20 ms of a run are missed.
     */
    private static double cpuSeconds(Path stat) {
        try {
            String line = Files.readString(stat);
            // fields after the command name (which may hold spaces, so skip past its closing parenthesis):
            // state is field 3, utime field 14, stime field 15
            String[] f = line.substring(line.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** VmHWM (peak resident set) of a live process, in bytes; 0 when it has gone. */
    private static long highWaterMark(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // the process exited between two polls
        }
        return 0;
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static String machine() {
        return Runtime.getRuntime().availableProcessors() + " cores, " + Runtime.version() + ", "
                + System.getProperty("os.arch");
    }
}
