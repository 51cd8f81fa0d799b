package org.mergelab.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/** The evaluation benchmark's tables, as Markdown (also what {@code bench eval} prints). */
public final class EvalBenchReport {
    private EvalBenchReport() {}

    public static String markdown(EvalBenchmark.Report r, String command) {
        StringBuilder b = new StringBuilder();
        EvalBenchmark.Shape s = r.model();
        List<Integer> threads = r.threads();
        b.append("# Evaluation benchmark\n\n");
        b.append("Command: `").append(command).append("`  \n");
        b.append("Machine: ").append(r.machine()).append(", ONNX Runtime ").append(r.ortVersion())
                .append(" (CPU provider)  \n");
        b.append(f("Model: `%s`: %s, %d layers, hidden %d, intermediate %d, %d heads (%d KV heads, head dim %d), "
                + "vocab %d, max positions %d; %.2f M parameters, %.2f MB %s on disk.  %n", s.path(), s.architecture(),
                s.layers(), s.hidden(), s.intermediate(), s.heads(), s.kvHeads(), s.headDim(), s.vocab(),
                s.maxPositions(), s.parameters() / 1e6, s.storedBytes() / 1e6, s.storedDtype()));
        b.append(f("Medians over %d repetition%s; each sample times enough calls to last at least %.2f s, after an "
                + "untimed warm-up. Within a repetition every thread count runs every measurement (thread counts in "
                + "ABBA order across repetitions). Random token ids from a fixed seed; generation never stops early. "
                + "1-minute load average: %.2f at the start, %.2f at the end (%d cores).%n%n", r.reps(),
                r.reps() == 1 ? "" : "s", r.minSampleSeconds(), r.loadStart(), r.loadEnd(), r.cores()));
        if (Math.max(r.loadStart(), r.loadEnd()) > r.cores() / 2.0) {
            b.append("**Other work was running on this machine** (load average above half the cores): the thread "
                    + "counts competed with it for the cores, so the comparison between thread counts measures that "
                    + "contention as much as ONNX Runtime's scaling; the comparisons within one thread count (KV cache "
                    + "against none, memory against folder) ran interleaved and hold.\n\n");
        }

        summary(b, r);

        b.append("## Scoring throughput\n\n");
        b.append("Tokens scored per second through `Scorer` (the evaluator's path: one right-padded batch of `batch` "
                + "sequences, `seq` tokens each, log-softmax of every position in float64).\n\n");
        b.append("| batch | seq |");
        threads.forEach(t -> b.append(" tokens/s, ").append(threadsLabel(t)).append(" |"));
        ratioHeads(b, threads);
        b.append("\n|---:|---:|");
        b.append("---:|".repeat(threads.size() + threads.size() - 1)).append('\n');
        for (EvalBenchmark.Scoring c : r.scoring().stream().filter(x -> x.threads() == threads.get(0)).toList()) {
            List<Double> v = new ArrayList<>();
            for (int t : threads) {
                v.add(find(r.scoring(), x -> x.threads() == t && x.batch() == c.batch() && x.seq() == c.seq())
                        .tokensPerSecond().median());
            }
            b.append(f("| %d | %d |", c.batch(), c.seq()));
            v.forEach(x -> b.append(' ').append(rate(x)).append(" |"));
            ratios(b, v);
            b.append('\n');
        }

        b.append("\n## Greedy generation: KV cache against none\n\n");
        b.append(f("New tokens per second through `Generator`, `batch` left-padded %d-token prompts, `new` tokens "
                + "each (the prompt's forward pass included in the time). Without cache: the LOGITS graph re-reads "
                + "the whole sequence every step; with cache: the DECODER graph feeds one token per row against the "
                + "keys and values of the steps before (the two give identical tokens: `ModelRunTest`).%n%n",
                EvalBenchmark.PROMPT_TOKENS));
        b.append("| batch | new | threads | no cache, tokens/s | KV cache, tokens/s | speed-up |\n"
                + "|---:|---:|---:|---:|---:|---:|\n");
        List<EvalBenchmark.Generation> gens = new ArrayList<>(r.generation());
        gens.sort(Comparator.comparingInt(EvalBenchmark.Generation::batch)
                .thenComparingInt(EvalBenchmark.Generation::newTokens)
                .thenComparingInt(g -> threads.indexOf(g.threads())));
        for (EvalBenchmark.Generation g : gens) {
            b.append(f("| %d | %d | %d | %s | %s | ×%.2f |%n", g.batch(), g.newTokens(), g.threads(),
                    rate(g.uncached().median()), rate(g.cached().median()), g.speedup()));
        }

        b.append("\n## Session creation\n\n");
        b.append("Milliseconds to open one ONNX Runtime session: read every weight as float32 (hashed on the way), "
                + "hand them over as overridden initializers (`addExternalInitializers`), optimize the graph. The "
                + "graph itself is built once per architecture and reused, as a sweep does; building it (serializing "
                + "the ONNX protobuf in Java: sub-millisecond, sensitive to JIT and GC state) takes ");
        List<String> builds = new ArrayList<>();
        r.graphs().forEach(gb -> builds.add(f("%.2f ms (%s)", gb.ms().median(), gb.variant())));
        b.append(String.join(", ", builds)).append(". _memory_: weights held in memory in their stored dtype, as a "
                + "sweep holds a merge (nothing touches disk); _folder_: the model folder opened first "
                + "(config.json, memory-mapped safetensors, page cache warm).\n\n");
        b.append("| variant | weights from |");
        threads.forEach(t -> b.append(" ms, ").append(threadsLabel(t)).append(" |"));
        ratioHeads(b, threads);
        b.append("\n|---|---|");
        b.append("---:|".repeat(threads.size() + threads.size() - 1)).append('\n');
        for (EvalBenchmark.Session c : r.sessions().stream().filter(x -> x.threads() == threads.get(0)).toList()) {
            List<Double> v = new ArrayList<>();
            for (int t : threads) {
                v.add(find(r.sessions(), x -> x.threads() == t && x.variant().equals(c.variant())
                        && x.source().equals(c.source())).ms().median());
            }
            b.append("| ").append(c.variant()).append(" | ").append(c.source()).append(" |");
            v.forEach(x -> b.append(f(" %.1f |", x)));
            ratios(b, v);
            b.append('\n');
        }
        b.append("\nRatios are of medians (for sessions, below 1 means the more threads were faster).\n");
        return b.toString();
    }

    private static void summary(StringBuilder b, EvalBenchmark.Report r) {
        List<Integer> threads = r.threads();
        b.append("## Summary\n\n");
        EvalBenchmark.Scoring best = r.scoring().stream()
                .max(Comparator.comparingDouble(x -> x.tokensPerSecond().median())).orElseThrow();
        EvalBenchmark.Scoring worst = r.scoring().stream()
                .min(Comparator.comparingDouble(x -> x.tokensPerSecond().median())).orElseThrow();
        b.append(f("- Scoring: best %s tokens/s (batch %d × seq %d, %s), worst %s tokens/s (batch %d × seq %d, "
                + "%s).%n", rate(best.tokensPerSecond().median()), best.batch(), best.seq(), threadsLabel(best.threads()),
                rate(worst.tokensPerSecond().median()), worst.batch(), worst.seq(), threadsLabel(worst.threads())));
        for (int t : threads) {
            EvalBenchmark.Session mem = find(r.sessions(), x -> x.threads() == t && x.variant().equals("LOGITS")
                    && x.source().equals("memory"));
            EvalBenchmark.Session disk = find(r.sessions(), x -> x.threads() == t && x.variant().equals("LOGITS")
                    && x.source().equals("folder"));
            b.append(f("- Session creation (LOGITS, %s): %.1f ms from weights in memory, %.1f ms from the folder.%n",
                    threadsLabel(t), mem.ms().median(), disk.ms().median()));
        }
        EvalBenchmark.Generation big = r.generation().stream()
                .max(Comparator.comparingInt(EvalBenchmark.Generation::batch)
                        .thenComparingInt(EvalBenchmark.Generation::newTokens)).orElseThrow();
        for (int t : threads) {
            EvalBenchmark.Generation g = find(r.generation(), x -> x.threads() == t && x.batch() == big.batch()
                    && x.newTokens() == big.newTokens());
            b.append(f("- Generation (batch %d, %d new tokens, %s): %s tokens/s with the KV cache, %s without: "
                    + "×%.2f.%n", g.batch(), g.newTokens(), threadsLabel(t), rate(g.cached().median()),
                    rate(g.uncached().median()), g.speedup()));
        }
        double[] speedups = r.generation().stream().mapToDouble(EvalBenchmark.Generation::speedup).sorted().toArray();
        b.append(f("- KV-cache speed-up over all %d generation cells: ×%.2f to ×%.2f.%n", speedups.length,
                speedups[0], speedups[speedups.length - 1]));
        for (int i = 1; i < threads.size(); i++) {
            int t = threads.get(i);
            int base = threads.get(0);
            b.append(f("- %s ÷ %s (ratio of medians; median over cells, range): scoring %s; generation with "
                    + "cache %s, without %s; session creation time %s.%n", threadsLabel(t), threadsLabel(base),
                    spread(r.scoring(), EvalBenchmark.Scoring::threads, t, base,
                            x -> x.batch() + "x" + x.seq(), x -> x.tokensPerSecond().median()),
                    spread(r.generation(), EvalBenchmark.Generation::threads, t, base,
                            x -> x.batch() + "x" + x.newTokens(), x -> x.cached().median()),
                    spread(r.generation(), EvalBenchmark.Generation::threads, t, base,
                            x -> x.batch() + "x" + x.newTokens(), x -> x.uncached().median()),
                    spread(r.sessions(), EvalBenchmark.Session::threads, t, base,
                            x -> x.variant() + x.source(), x -> x.ms().median())));
        }
        b.append('\n');
    }

    /** "×median (×min–×max)" of per-cell ratios value(t) ÷ value(base). */
    private static <T> String spread(List<T> rows, Function<T, Integer> threadsOf, int t, int base,
            Function<T, String> cell, ToDoubleFunction<T> value) {
        List<Double> ratios = new ArrayList<>();
        for (T x : rows) {
            if (threadsOf.apply(x) == t) {
                T y = find(rows, z -> threadsOf.apply(z) == base && cell.apply(z).equals(cell.apply(x)));
                ratios.add(value.applyAsDouble(x) / value.applyAsDouble(y));
            }
        }
        ratios.sort(null);
        return f("×%.2f (×%.2f–×%.2f)", EvalBenchmark.median(ratios), ratios.get(0), ratios.get(ratios.size() - 1));
    }

    private static void ratioHeads(StringBuilder b, List<Integer> threads) {
        for (int i = 1; i < threads.size(); i++) {
            b.append(' ').append(threads.get(i)).append(" ÷ ").append(threads.get(0)).append(" |");
        }
    }

    private static void ratios(StringBuilder b, List<Double> v) {
        for (int i = 1; i < v.size(); i++) {
            b.append(f(" ×%.2f |", v.get(i) / v.get(0)));
        }
    }

    private static <T> T find(List<T> rows, Predicate<T> p) {
        return rows.stream().filter(p).findFirst().orElseThrow();
    }

    private static String threadsLabel(int t) {
        return t + (t == 1 ? " thread" : " threads");
    }

    private static String rate(double perSecond) {
        return f("%,.0f", perSecond);
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
