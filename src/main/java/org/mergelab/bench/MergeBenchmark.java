package org.mergelab.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
import org.mergelab.io.DirectOutput;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.io.OutputFolder;
import org.mergelab.io.Writeback;
import org.mergelab.zoo.SyntheticLlama;

/**
 * Merge speed against the machine's I/O floor, measured in one run: synthetic Llama-shaped bf16 models (cached), the
 * floor (read every byte of every input once while another thread writes one output-sized file, the way the engine
 * does: mmap reads, positional writes, fsync; plus {@code cp} + {@code cat} as an external check), and each method's
 * full {@code merge} as a child process (start to finished folder), repetitions alternating, medians reported.
 */
public final class MergeBenchmark {
    /** What to run. */
    public record Settings(long sizeBytes, List<String> methods, Path dir, int reps, int threads) {}

    /**
     * One measured configuration: median seconds over the repetitions, the largest peak RSS seen, and the median CPU
     * time (user + system, all threads; less disturbed than wall time by other load on a shared machine). The floor
     * ratios are medians over the runs of each run's time over the floor measured just before it.
     */
    public record Measurement(String name, int threads, double seconds, double inputGbPerSecond, double floorRatio,
            double inProcessSeconds, double inProcessFloorRatio, long peakRssBytes, double cpuSeconds,
            double maxAllocatedGb, List<Double> samples) {}

    /**
     * One child process: wall seconds from start to exit, its peak RSS and CPU seconds (from /proc), and the seconds
     * the merge itself reported (its {@code --verbose} phases: plan, merge, sync, finish; NaN for other commands), and
     * the GB it allocated on the heap (NaN when it did not say).
     */
    record ChildRun(double seconds, long peakRssBytes, double cpuSeconds, double inProcessSeconds,
            double allocatedGb) {}

    /**
     * @param floorSeconds median floor time for reading two models and writing one (the two-model merges), over
     *     the floors measured at the start of each repetition and before each run
     * @param floor3Seconds the same reading three models (the task-vector merges)
     * @param startupSeconds median time of {@code mergelab --version} in a child JVM: the part of every merge's time
     *     that is JVM and CLI start-up, not merging
     * @param cores the cores the merges ran on
     * @param readFromDisk whether the inputs were dropped from the page cache and read back at the start of each
     *     repetition ({@link PageCache#readFromDisk}; false where the pages could not be dropped)
     * @param hugePagesMin the least share of the inputs' bytes mapped in 2 MB pages before any floor or merge (NaN
     *     where not reported)
     * @param hugePagesMedian the median of those shares
     */
    public record Report(long modelBytes, int models, double floorSeconds, double floor3Seconds, double cpCatSeconds,
            double startupSeconds, List<Measurement> merges, List<Baseline> numpy, String machine, int cores,
            double loadStart, double loadEnd, boolean readFromDisk, double hugePagesMin, double hugePagesMedian) {}

    /**
     * A float32 numpy merge the speed is compared against ({@code numpy_merge.py}: whole tensors, numpy's single
     * thread): the linear merge of the first two models, and TIES of all three with the benchmark's parameters. None
     * where python3 with numpy is not installed.
     *
     * @param method the merge method, run by MergeLab on the same models for {@code agreement}
     * @param seconds the median over its runs (TIES runs once: it takes minutes)
     * @param agreement how its output compares with MergeLab's
     */
    public record Baseline(String method, String version, double seconds, long peakRssBytes, Agreement agreement) {}

    /**
     * How two merged models' bf16 tensors compare: of {@code elements}, how many differ, and by at most how many bf16
     * steps (units in the last place, counted across zero); other dtypes count as differing unless byte-identical.
     */
    public record Agreement(long elements, long differing, long maxUlps) {
        public boolean identical() {
            return differing == 0;
        }
    }

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
        List<Double> floor = new ArrayList<>();
        List<Double> floor3 = new ArrayList<>();
        List<Double> cpCat = new ArrayList<>();
        List<Double> startup = new ArrayList<>();
        Map<String, List<Double>> times = new LinkedHashMap<>();
        Map<String, List<Double>> inProcess = new LinkedHashMap<>();
        Map<String, List<Double>> cpu = new LinkedHashMap<>();
        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        Map<String, List<Double>> inProcessRatios = new LinkedHashMap<>();
        Map<String, Long> rss = new LinkedHashMap<>();
        Map<String, Double> allocated = new LinkedHashMap<>();
        int cores = Runtime.getRuntime().availableProcessors();
        List<Integer> threadCounts = settings.threads() > 0 ? List.of(settings.threads())
                : cores > 1 ? List.of(1, cores) : List.of(1);
        double loadStart = Machine.loadAverage();
        boolean readFromDisk = true;
        List<Path> inputShards = new ArrayList<>();
        for (Path m : models) {
            inputShards.addAll(shards(m));
        }
        // each entry: the inputs pulled into the page cache through mappings, as the engine's prefetcher reads them,
        // and the share of their bytes then mapped in 2 MB pages
        List<Double> hugePages = new ArrayList<>();
        String numpyVersion = numpyVersion();
        Map<String, List<Double>> numpy = new LinkedHashMap<>();
        Map<String, Long> numpyRss = new LinkedHashMap<>();
        Map<String, Agreement> numpyAgreement = new LinkedHashMap<>();
        for (int rep = 0; rep < settings.reps(); rep++) {
            log.accept("repetition " + (rep + 1) + " of " + settings.reps());
            settle();
            // the inputs cached as reading them from disk caches them, whatever earlier work left (PageCache)
            for (Path shard : inputShards) {
                readFromDisk &= PageCache.readFromDisk(shard);
            }
            // the first write of a repetition runs slow on this VM (write-back of the deleted outputs); an
            // unrecorded run absorbs that so the floors are not flattered into looking slow
            floor(models.subList(0, 2), modelBytes, dir.resolve("floor.bin"));
            // the inputs in the page cache, as every merge below finds them: this VM evicts idle file pages
            settle();
            hugePages.add(PageCache.hugeMappedFraction(inputShards));
            floor.add(floor(models.subList(0, 2), modelBytes, dir.resolve("floor.bin")));
            settle();
            hugePages.add(PageCache.hugeMappedFraction(inputShards));
            floor3.add(floor(models, modelBytes, dir.resolve("floor.bin")));
            settle();
            cpCat.add(cpCat(models, dir.resolve("cp-out")));
            startup.add(run(List.of("--version")).seconds());
            for (String method : List.of("linear", "ties")) {
                // TIES in numpy takes minutes at 4 GB (a partition per tensor and model): once
                if (numpyVersion == null || !settings.methods().contains(method)
                        || method.equals("ties") && rep > 0) {
                    continue;
                }
                settle();
                hugePages.add(PageCache.hugeMappedFraction(inputShards));
                Path numpyOut = dir.resolve("numpy-out");
                ChildRun c = numpyMerge(method, models, numpyOut);
                numpy.computeIfAbsent(method, k -> new ArrayList<>()).add(c.seconds());
                numpyRss.merge(method, c.peakRssBytes(), Math::max);
                settle();
                merge(configs.get(method), out, cores);
                Agreement a = compare(numpyOut, out);
                numpyAgreement.merge(method, a, (x, y) -> x.differing() >= y.differing() ? x : y);
                OutputFolder.deleteRecursively(numpyOut);
            }
            for (var e : configs.entrySet()) {
                for (int t : threadCounts) {
                    String key = e.getKey() + "@" + t;
                    // each run against a floor measured just before it, on the same inputs: this disk's write speed
                    // drifts by ±50 % within an hour, which a floor measured once per repetition cannot follow
                    boolean two = BenchConfigs.inputCount(e.getKey()) == 2;
                    settle();
                    hugePages.add(PageCache.hugeMappedFraction(inputShards));
                    double f = floor(two ? models.subList(0, 2) : models, modelBytes, dir.resolve("floor.bin"));
                    (two ? floor : floor3).add(f);
                    settle();
                    // the page cache as warm for every run: this VM reclaims file pages left idle for a while
                    // (DAMON), and a 4 GB repetition takes minutes, so inputs read by the floor could be gone
                    hugePages.add(PageCache.hugeMappedFraction(inputShards));
                    ChildRun c = merge(e.getValue(), out, t);
                    times.computeIfAbsent(key, k -> new ArrayList<>()).add(c.seconds());
                    inProcess.computeIfAbsent(key, k -> new ArrayList<>()).add(c.inProcessSeconds());
                    ratios.computeIfAbsent(key, k -> new ArrayList<>()).add(c.seconds() / f);
                    inProcessRatios.computeIfAbsent(key, k -> new ArrayList<>()).add(c.inProcessSeconds() / f);
                    cpu.computeIfAbsent(key, k -> new ArrayList<>()).add(c.cpuSeconds());
                    rss.merge(key, c.peakRssBytes(), Math::max);
                    allocated.merge(key, c.allocatedGb(), Math::max);
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
            double own = median(inProcess.get(e.getKey()));
            merges.add(new Measurement(parts[0], Integer.parseInt(parts[1]), s, inputs * modelBytes / 1e9 / s,
                    median(ratios.get(e.getKey())), own, median(inProcessRatios.get(e.getKey())),
                    rss.get(e.getKey()), median(cpu.get(e.getKey())), allocated.get(e.getKey()),
                    List.copyOf(e.getValue())));
        }
        List<Baseline> baselines = new ArrayList<>();
        numpy.forEach((method, seconds) -> baselines.add(new Baseline(method, numpyVersion, median(seconds),
                numpyRss.get(method), numpyAgreement.get(method))));
        OutputFolder.deleteRecursively(out);
        return new Report(modelBytes, models.size(), floorMedian, floor3Median, median(cpCat), median(startup), merges,
                List.copyOf(baselines), Machine.describe(), cores, loadStart, Machine.loadAverage(), readFromDisk,
                hugePages.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN), median(hugePages));
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

    /**
     * Flushes dirty pages left by the previous measurement ({@code sync}) so each measurement starts from the same
     * state: otherwise the write-back of the last merge's output is charged to the next run.
     */
    private static void settle() throws IOException, InterruptedException {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
        Thread.sleep(200);
    }

    /**
     * Reads every byte of every input shard through a mapping and, at the same time on a second thread, writes an
     * output-sized file as the engine writes its shards (1 MiB pieces through a {@link DirectOutput}, in place in its
     * windows, synced as {@link Writeback} syncs); done when both are. Concurrent because the engine overlaps the two:
     * read first, then write, took longer than the merges themselves whenever writing to disk was the slow part (4 GB:
     * 4.9 s against linear's 4.3 s).
     */
    private static double floor(List<Path> inputs, long outputBytes, Path target) throws IOException {
        Files.deleteIfExists(target);
        long start = System.nanoTime();
        var reading = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                for (Path m : inputs) {
                    for (Path shard : shards(m)) {
                        readEveryByte(shard);
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, runnable -> new Thread(runnable, "floor-read").start());
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                Writeback writeback = new Writeback(ch);
                DirectOutput out = DirectOutput.open(target, ch, outputBytes)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            for (long pos = 0; pos < outputBytes; pos += buf.capacity()) {
                int len = (int) Math.min(buf.capacity(), outputBytes - pos);
                // as the engine writes a chunk: in place in the window that goes to disk, else through a buffer
                if (out.reserve(pos, len) != null) {
                    out.commit(pos, len);
                } else {
                    out.write(pos, buf.clear().limit(len));
                }
                writeback.wrote(0, len);
            }
            out.finish();
            writeback.finish();
        }
        try {
            reading.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof java.io.UncheckedIOException u ? u.getCause() : new IOException(e.getCause());
        }
        double s = (System.nanoTime() - start) / 1e9;
        Files.delete(target);
        return s;
    }

    /**
     * Reads the whole file through a mapping: faults its pages in ({@link MemorySegment#load()}) and copies every byte
     * into a 1 MiB buffer, as {@code cat} copies a file into its buffer; a merge has to bring every byte to the CPU,
     * which touching one byte per page does not (at 4 GB, 2 inputs: 0.68 s against 1.0-1.06 s, measured). Bulk
     * copies only, so the floor pays no JIT warm-up.
     */
    private static void readEveryByte(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            mapped.load();
            MemorySegment buffer = arena.allocate(1 << 20, 64);
            for (long pos = 0; pos < mapped.byteSize(); pos += buffer.byteSize()) {
                MemorySegment.copy(mapped, pos, buffer, 0, Math.min(buffer.byteSize(), mapped.byteSize() - pos));
            }
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

    /** Runs {@code mergelab merge} in a child JVM as a user would. */
    private static ChildRun merge(Path config, Path out, int threads) throws IOException, InterruptedException {
        OutputFolder.deleteRecursively(out);
        return run(List.of("merge", config.toString(), out.toString(), "--threads", Integer.toString(threads),
                "--progress", "never", "--verbose"));
    }

    /**
     * Runs the CLI with {@code args} in a child JVM started the way this one was: the same JVM flags (under
     * {@code ./mergelab}, the launcher's JIT settings and AOT cache) and the same jar, so it costs what a user's run
     * costs.
     */
    private static ChildRun run(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        String classPath = System.getProperty("java.class.path");
        if (System.getProperty("mergelab.launcher") != null) {
            cmd.addAll(List.of("-jar", classPath)); // ./mergelab's -jar: the AOT cache only matches that class path
        } else {
            cmd.addAll(List.of("-cp", classPath, "org.mergelab.cli.Main"));
        }
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
        return watch(pb, "mergelab " + String.join(" ", args));
    }

    /** Runs {@code pb} to its end, sampling its peak RSS and CPU time from /proc; fails with its output if it fails. */
    private static ChildRun watch(ProcessBuilder pb, String what) throws IOException, InterruptedException {
        Path log = Files.createTempFile("mergelab-bench", ".log");
        try {
            pb.redirectErrorStream(true).redirectOutput(log.toFile());
            long start = System.nanoTime();
            Process p = pb.start();
            Path status = Path.of("/proc/" + p.pid() + "/status");
            Path stat = Path.of("/proc/" + p.pid() + "/stat");
            long peak = 0;
            double cpu = 0;
            while (!p.waitFor(20, TimeUnit.MILLISECONDS)) {
                peak = Math.max(peak, highWaterMark(status));
                cpu = Math.max(cpu, cpuSeconds(stat));
            }
            double s = (System.nanoTime() - start) / 1e9;
            String output = Files.readString(log);
            if (p.exitValue() != 0) {
                throw new IOException(what + " failed with exit code " + p.exitValue() + ":\n" + output);
            }
            return new ChildRun(s, peak, cpu, phaseSeconds(output), allocatedGb(output));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The sum of the seconds in a {@code mergelab: phases: plan 0.25 s merge 1.50 s ...} line; NaN without one. */
    public static double phaseSeconds(String output) {
        for (String line : output.split("\n")) {
            int at = line.indexOf("phases:");
            if (at < 0) {
                continue;
            }
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9.]+) s").matcher(line.substring(at));
            double sum = 0;
            while (m.find()) {
                sum += Double.parseDouble(m.group(1));
            }
            return sum;
        }
        return Double.NaN;
    }

    /** The GB in a {@code mergelab: heap allocated 0.31 GB} line; NaN without one. */
    public static double allocatedGb(String output) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("heap allocated ([0-9.]+) GB").matcher(output);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /** numpy's version when {@code python3} can import it, else null. */
    private static String numpyVersion() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy; print(numpy.__version__)")
                    .redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 && v.matches("[0-9][0-9A-Za-z.]*") ? v : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * Runs {@code numpy_merge.py} (shipped in the jar) into {@code out}, numpy on one thread, as the benchmark's config
     * of {@code method} merges (linear: the first two models, equal weights; TIES: base and two models, the configs'
     * weight and density).
     */
    private static ChildRun numpyMerge(String method, List<Path> models, Path out)
            throws IOException, InterruptedException {
        OutputFolder.deleteRecursively(out);
        Path script = Files.createTempFile("numpy_merge", ".py");
        try (var in = MergeBenchmark.class.getResourceAsStream("numpy_merge.py")) {
            Files.write(script, in.readAllBytes());
            List<String> cmd = new ArrayList<>(List.of("python3", script.toString(), method));
            if (method.equals("ties")) {
                cmd.addAll(List.of(BenchConfigs.WEIGHT, BenchConfigs.DENSITY));
            }
            cmd.add(out.toString());
            models.subList(0, BenchConfigs.inputCount(method)).forEach(m -> cmd.add(m.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            for (String v : List.of("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")) {
                pb.environment().put(v, "1");
            }
            return watch(pb, "numpy_merge.py " + method);
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /** How the tensors of model folder {@code a} compare with the same-named ones of {@code b}. */
    public static Agreement compare(Path a, Path b) throws IOException {
        try (ModelFolder x = ModelFolder.open(a); ModelFolder y = ModelFolder.open(b)) {
            long elements = 0;
            long differing = 0;
            long maxUlps = 0;
            for (ModelTensor t : x.tensors()) {
                ModelTensor u = y.tensor(t.info().name());
                long n = t.info().numel();
                elements += n;
                if (u == null || u.info().numel() != n || u.dtype() != t.dtype()) {
                    differing += n;
                    maxUlps = Long.MAX_VALUE;
                } else if (t.dtype() == DType.BF16) {
                    // from one differing byte to the next (a bulk compare: mostly the outputs are equal)
                    MemorySegment p = t.data();
                    MemorySegment q = u.data();
                    long size = p.byteSize();
                    for (long at = MemorySegment.mismatch(p, 0, size, q, 0, size); at >= 0; ) {
                        long i = at / 2;
                        long d = Math.abs(ordered(p.getAtIndex(BF16, i)) - ordered(q.getAtIndex(BF16, i)));
                        differing += d == 0 ? 0 : 1; // +0 and -0 are one value
                        maxUlps = Math.max(maxUlps, d);
                        long next = 2 * (i + 1);
                        long more = next < size ? MemorySegment.mismatch(p, next, size, q, next, size) : -1;
                        at = more < 0 ? -1 : next + more;
                    }
                } else if (t.data().mismatch(u.data()) != -1) {
                    differing += n;
                    maxUlps = Long.MAX_VALUE;
                }
            }
            if (x.tensors().size() != y.tensors().size()) {
                maxUlps = Long.MAX_VALUE;
                differing = Math.max(differing, 1);
            }
            return new Agreement(elements, differing, maxUlps);
        }
    }

    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A bf16 value's place on a line where neighbouring values are 1 apart and both zeros are 0. */
    private static long ordered(short bits) {
        return bits < 0 ? -(long) (bits & 0x7fff) : bits;
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
}
