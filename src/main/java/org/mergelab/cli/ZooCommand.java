package org.mergelab.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mergelab.BadInputException;
import org.mergelab.eval.OrtRuntime;
import org.mergelab.eval.TaskResult;
import org.mergelab.merge.Progress;
import org.mergelab.zoo.Family;
import org.mergelab.zoo.FamilyEvaluation;
import org.mergelab.zoo.FamilyTrainer;
import org.mergelab.zoo.FamilyVerifier;
import org.mergelab.zoo.QualityBars;
import org.mergelab.zoo.TrainingCard;
import org.mergelab.zoo.train.ModelShape;
import org.mergelab.zoo.world.Corpus;
import org.mergelab.zoo.world.TaskSets;
import org.mergelab.zoo.world.World;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "zoo", mixinStandardHelpOptions = true,
        description = "The in-house model family in benchmarks-data/zoo: train it, verify it.",
        subcommands = {ZooCommand.Train.class, ZooCommand.Verify.class})
final class ZooCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (train, verify)");
    }

    @Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Retrain the family deterministically (base, then each fine-tune from base), write the"
                    + " held-out task sets of its world, evaluate every member on the test split and write its"
                    + " training card.")
    static final class Train implements Callable<Integer> {
        private static final int LOG_EVERY = 100;

        @Spec
        CommandSpec spec;

        @Option(names = "--out", paramLabel = "DIR", description = "family folder (default: benchmarks-data/zoo)")
        Path out;

        @Option(names = "--tasks", paramLabel = "DIR",
                description = "where the world's task sets go (default: benchmarks-data/tasks with the default"
                        + " --out, else OUT/tasks)")
        Path tasks;

        @Option(names = "--seed", paramLabel = "N", description = "world and training seed (default: "
                + World.DEFAULT_SEED + ")")
        long seed = World.DEFAULT_SEED;

        @Option(names = "--only", paramLabel = "NAME", split = ",",
                description = "train only these members (base must exist in OUT to fine-tune from)")
        List<String> only;

        @Option(names = "--step-scale", paramLabel = "F", defaultValue = "1",
                description = "multiply every member's step count (quick trial runs; default ${DEFAULT-VALUE})")
        double stepScale;

        @Option(names = "--layers", paramLabel = "N", hidden = true, description = "override the shape (tests)")
        Integer layers;

        @Option(names = "--hidden", paramLabel = "N", hidden = true, description = "override the shape (tests)")
        Integer hidden;

        @Option(names = "--eval-limit", paramLabel = "N", defaultValue = "0",
                description = "evaluate only the first N items of each task (default: all; the cards of the shipped"
                        + " family use all)")
        int evalLimit;

        @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime threads for the evaluation")
        Integer threads;

        @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto",
                description = "progress bar: auto (on a terminal), always, never")
        String progress;

        @Override
        public Integer call() throws Exception {
            TerminalProgress.Mode mode = ProgressOption.parse(spec, progress);
            if (evalLimit < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--eval-limit must be >= 0");
            }
            if (!(stepScale > 0)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--step-scale must be > 0");
            }
            Path zoo = out != null ? out : Family.DEFAULT_DIR;
            Path taskDir = tasks != null ? tasks : out == null ? Family.DEFAULT_TASKS : zoo.resolve("tasks");
            List<FamilyTrainer.Recipe> recipes = selected();
            ModelShape shape = shape();
            PrintWriter err = spec.commandLine().getErr();
            World world = World.generate(seed);
            Corpus corpus = new Corpus(world);
            Files.createDirectories(zoo);
            TaskSets.write(world, taskDir);
            long totalSteps = recipes.stream().mapToLong(FamilyTrainer.Recipe::steps).sum();
            Map<String, FamilyTrainer.Run> runs = new LinkedHashMap<>();
            try (Progress bar = TerminalProgress.create(mode, "zoo train", " steps", 1)) {
                bar.start(totalSteps, recipes.size());
                for (FamilyTrainer.Recipe r : recipes) {
                    err.printf(Locale.ROOT, "mergelab: training %s (%d steps)%n", r.name(), r.steps());
                    long started = System.nanoTime();
                    FamilyTrainer.Run run = FamilyTrainer.train(r, corpus, shape, seed, zoo, (m, step, n, loss) -> {
                        bar.advance(1);
                        if (bar == Progress.NONE && step % LOG_EVERY == 0) { // a line now and then in logs and pipes
                            err.printf(Locale.ROOT, "mergelab: %s step %d/%d, loss %.3f, %.2f s/step%n", m, step, n,
                                    loss, (System.nanoTime() - started) / 1e9 / step);
                        }
                    });
                    runs.put(r.name(), run);
                    err.printf(Locale.ROOT, "mergelab: %s: loss %.3f, held-out narrative loss %.3f, %.0f s%n",
                            r.name(), run.lossCurve().getLast()[1], run.heldOutNarrativeLoss(), run.wallSeconds());
                }
            }
            List<String> evaluated = new ArrayList<>();
            for (String m : Family.MEMBERS) {
                if (runs.containsKey(m) || m.equals(Family.BASE) && Files.isDirectory(zoo.resolve(m))) {
                    evaluated.add(m);
                }
            }
            Map<String, Map<String, TaskResult>> quality = FamilyEvaluation.run(zoo, evaluated,
                    taskDir.resolve("test"), evalLimit, EvalCommand.threads(spec, threads),
                    s -> err.println("mergelab: evaluating " + s));
            List<QualityBars.Bar> bars = QualityBars.check(FamilyEvaluation.barValues(quality), Family.OWN_TASK);
            for (FamilyTrainer.Run run : runs.values()) {
                String m = run.recipe().name();
                TrainingCard.write(zoo.resolve(m), run, shape, seed, quality.get(m),
                        bars.stream().filter(b -> b.model().equals(m)).toList());
            }
            PrintWriter o = spec.commandLine().getOut();
            o.println("member    bar                                       value   target              met");
            for (QualityBars.Bar b : bars) {
                o.printf(Locale.ROOT, "%-9s %-41s %7.3f  %-19s %s%n", b.model(), b.description(), b.value(),
                        b.target(), b.met() ? "yes" : "NO");
            }
            double wall = runs.values().stream().mapToDouble(FamilyTrainer.Run::wallSeconds).sum();
            o.printf(Locale.ROOT, "trained %d member(s) in %.1f min; family in %s, task sets in %s%n", runs.size(),
                    wall / 60, zoo, taskDir);
            return Main.OK;
        }

        private List<FamilyTrainer.Recipe> selected() {
            List<FamilyTrainer.Recipe> all = FamilyTrainer.recipes();
            if (only != null) {
                for (String name : only) {
                    if (all.stream().noneMatch(r -> r.name().equals(name))) {
                        throw new BadInputException("--only " + name + ": no such family member (expected one of "
                                + String.join(", ", Family.MEMBERS) + ")");
                    }
                }
            }
            return all.stream().filter(r -> only == null || only.contains(r.name())).map(r -> r.scaled(stepScale))
                    .toList();
        }

        private ModelShape shape() {
            ModelShape f = ModelShape.family();
            if (layers == null && hidden == null) {
                return f;
            }
            int h = hidden != null ? hidden : f.hidden();
            return new ModelShape(layers != null ? layers : f.layers(), h, h * f.intermediate() / f.hidden(),
                    f.heads(), f.kvHeads(), f.vocab(), f.context(), f.ropeTheta(), f.rmsEps());
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Check every member's files and tensors against the hashes in its training card, and that"
                    + " it loads and scores text in ONNX Runtime.")
    static final class Verify implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", description = "family folder (default: benchmarks-data/zoo)")
        Path dir = Family.DEFAULT_DIR;

        @Override
        public Integer call() throws Exception {
            List<Path> members = new ArrayList<>();
            for (String m : Family.MEMBERS) {
                members.add(dir.resolve(m));
            }
            for (Path m : members) {
                if (!Files.isDirectory(m)) {
                    throw new BadInputException(m + ": family member missing (run ./mergelab zoo train)");
                }
            }
            OrtRuntime runtime = OrtRuntime.create(Runtime.getRuntime().availableProcessors());
            PrintWriter o = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            int bad = 0;
            for (Path m : members) {
                FamilyVerifier.Outcome v = FamilyVerifier.verify(m, runtime);
                if (v.ok()) {
                    o.printf(Locale.ROOT, "%-9s ok: files and %d tensors match %s; loads, probe text %.3f nats/token%n",
                            v.member(), v.tensors(), TrainingCard.JSON, -v.probeLogprob());
                } else {
                    bad++;
                    v.problems().forEach(p -> err.println("mergelab: " + p));
                }
            }
            if (bad > 0) {
                err.printf(Locale.ROOT, "mergelab: %d of %d member(s) failed verification%n", bad, members.size());
                return Main.INTERNAL_ERROR;
            }
            o.printf(Locale.ROOT, "all %d members verified%n", members.size());
            return Main.OK;
        }
    }
}
