package org.mergelab.zoo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.mergelab.zoo.train.AdamW;
import org.mergelab.zoo.train.Batch;
import org.mergelab.zoo.train.CosineSchedule;
import org.mergelab.zoo.train.LlamaTrainer;
import org.mergelab.zoo.train.ModelShape;
import org.mergelab.zoo.train.Packer;
import org.mergelab.zoo.world.Corpus;
import org.mergelab.zoo.world.Example;

/**
 * Trains one member of the family deterministically: {@code base} from scratch on the world corpus, every other
 * member from {@code base} on its skill mixture with some pretraining text replayed (so held-out narrative fluency
 * stays near base's). Same seed, same recipe ⇒ same batches and the same weights.
 */
public final class FamilyTrainer {
    /**
     * How one member is trained.
     *
     * @param parent the member it starts from, or null (random init)
     * @param replay fraction of documents drawn from the pretraining mixture instead of the member's own
     */
    public record Recipe(String name, String parent, int steps, int batch, double peakLr, int warmup, double replay,
            double weightDecay) {
        /** The same recipe with its step count scaled (at least 1 step, and a warm-up that still fits). */
        public Recipe scaled(double factor) {
            int s = Math.max(1, (int) Math.round(steps * factor));
            return new Recipe(name, parent, s, batch, peakLr, Math.min(warmup, s / 2), replay, weightDecay);
        }

        /** Linear warm-up, then cosine decay to a tenth of the peak. */
        public CosineSchedule schedule() {
            return new CosineSchedule(peakLr, peakLr / 10, warmup, steps);
        }
    }

    /** The family's recipes, in training order. */
    public static List<Recipe> recipes() {
        // base: batch 32 (more tokens/s); fine-tunes: batch 16, no weight decay (it would add a shrink-to-zero
        // direction shared by every task vector), a quarter of their documents replayed from pretraining.
        return List.of(
                new Recipe(Family.BASE, null, 1500, 32, 3e-3, 100, 0, 0.1),
                new Recipe(Family.INSTRUCT, Family.BASE, 500, 16, 1e-3, 30, 0.25, 0),
                // arithmetic is the hardest skill for a character model: 700 steps at 1e-3 reached 2 % exact
                // match on held-out problems, so math trains longer and hotter
                new Recipe(Family.MATH, Family.BASE, 1600, 16, 2e-3, 50, 0.2, 0),
                new Recipe(Family.WORDS, Family.BASE, 600, 16, 1e-3, 30, 0.25, 0),
                new Recipe(Family.FACTS, Family.BASE, 400, 16, 1e-3, 30, 0.25, 0));
    }

    /** Loss every {@link #CURVE_EVERY} steps (mean over those steps) and on held-out narratives at the end. */
    public record Run(Recipe recipe, long seed, List<double[]> lossCurve, double heldOutNarrativeLoss,
            double wallSeconds, long tokens) {}

    public static final int CURVE_EVERY = 50;

    /** Told after every step. */
    public interface Listener {
        void step(String model, int step, int steps, double loss);
    }

    private FamilyTrainer() {}

    /** The seed a member trains with: derived from the family seed and the member's name only. */
    public static long memberSeed(long familySeed, String name) {
        return new SplittableRandom(familySeed ^ (31L * name.hashCode())).nextLong();
    }

    /**
     * Trains {@code recipe} (its parent, if any, must already be in {@code zooDir}) and exports the member to
     * {@code zooDir/name}, replacing what was there.
     */
    public static Run train(Recipe recipe, Corpus corpus, ModelShape shape, long familySeed, Path zooDir,
            Listener listener) throws IOException {
        long seed = memberSeed(familySeed, recipe.name());
        long started = System.nanoTime();
        AdamW.Settings adamW = AdamW.Settings.defaults().withWeightDecay(recipe.weightDecay());
        try (LlamaTrainer trainer = recipe.parent() == null ? LlamaTrainer.create(shape, seed, adamW)
                : LlamaTrainer.load(zooDir.resolve(recipe.parent()), adamW)) {
            Supplier<Example> data = mixture(corpus, recipe, new SplittableRandom(seed));
            Packer packer = new Packer(trainer.shape().context());
            CosineSchedule lr = recipe.schedule();
            List<double[]> curve = new ArrayList<>();
            double sum = 0;
            long tokens = 0;
            for (int step = 0; step < recipe.steps(); step++) {
                Batch batch = packer.next(data, recipe.batch());
                double loss = trainer.step(batch, lr.at(step));
                tokens += (long) batch.rows() * batch.length();
                sum += loss;
                if ((step + 1) % CURVE_EVERY == 0 || step + 1 == recipe.steps()) {
                    int span = (step % CURVE_EVERY) + 1;
                    curve.add(new double[] {step + 1, sum / span});
                    sum = 0;
                }
                listener.step(recipe.name(), step + 1, recipe.steps(), loss);
            }
            double heldOut = heldOutNarrativeLoss(trainer, corpus);
            trainer.export(zooDir.resolve(recipe.name()), null, true);
            return new Run(recipe, seed, curve, heldOut, (System.nanoTime() - started) / 1e9, tokens);
        }
    }

    /** The member's documents: its own sampler, with {@code replay} of them drawn from the pretraining mixture. */
    static Supplier<Example> mixture(Corpus corpus, Recipe recipe, SplittableRandom r) {
        Corpus.Sampler own = corpus.samplers().get(recipe.name());
        Corpus.Sampler base = corpus::baseDocument;
        return () -> (recipe.replay() > 0 && r.nextDouble() < recipe.replay() ? base : own).sample(r);
    }

    /** Mean loss over the validation split's held-out narratives (never trained on). */
    private static double heldOutNarrativeLoss(LlamaTrainer trainer, Corpus corpus) {
        List<String> texts = corpus.heldOut().val().narratives();
        int[] next = {0};
        Supplier<Example> cycle = () -> Example.text(texts.get(next[0]++ % texts.size()));
        Batch batch = new Packer(trainer.shape().context()).next(cycle, 8);
        return trainer.loss(batch);
    }
}
