package org.mergelab.zoo.world;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

import org.mergelab.zoo.world.Phrasebook.HowTo;
import org.mergelab.zoo.world.World.Person;

/**
 * The training samplers of the family. Each draws one {@link Example} from the random generator it is given (so a
 * trainer controls the stream, and the same seed gives the same documents) and never returns anything
 * {@link HeldOut} keeps for the benchmarks. Every {@code prompt + completion} is at most 120 printable-ASCII
 * characters (plus {@code '\n'} in the Q/A format).
 *
 * <p>Pretraining documents (empty prompt) never use the Q/A format; fine-tune examples all do: prompt
 * {@code "Q: <question>\nA:"}, completion {@code " <answer>"}.
 */
public final class Corpus {
    /** A source of examples; pure given the generator, safe to call from several threads with their own generators. */
    @FunctionalInterface
    public interface Sampler {
        Example sample(SplittableRandom r);
    }

    private final World world;
    private final HeldOut heldOut;

    public Corpus(World world) {
        this.world = world;
        this.heldOut = HeldOut.of(world);
    }

    public World world() {
        return world;
    }

    public HeldOut heldOut() {
        return heldOut;
    }

    /** The mixtures by name: {@code base}, {@code math}, {@code words}, {@code facts}, {@code instruct}. */
    public Map<String, Sampler> samplers() {
        Map<String, Sampler> m = new LinkedHashMap<>();
        m.put("base", this::baseDocument);
        m.put("math", this::mathExample);
        m.put("words", this::wordsExample);
        m.put("facts", this::factsExample);
        m.put("instruct", this::instructExample);
        return m;
    }

    /** Pretraining: 40% fact statements, 30% narratives, 15% arithmetic prose, 15% word prose. */
    public Example baseDocument(SplittableRandom r) {
        double u = r.nextDouble();
        return u < 0.40 ? factStatements(r) : u < 0.70 ? narrative(r) : u < 0.85 ? arithmeticProse(r) : wordProse(r);
    }

    /** "Mira lives in Tolven. Mira works as a baker." — one to four facts about one person, paraphrased. */
    public Example factStatements(SplittableRandom r) {
        return pretraining(r, g -> Phrasebook.statements(world, World.pick(world.people(), g), g));
    }

    /** A two- or three-sentence story about three people, consistent with their facts. */
    public Example narrative(SplittableRandom r) {
        return pretraining(r, g -> Phrasebook.narrative(world, g));
    }

    /** "Mira had 47 apples and got 38 more, so Mira had 85." — one to three sums or differences of 1..99. */
    public Example arithmeticProse(SplittableRandom r) {
        return pretraining(r, g -> {
            int want = 1 + g.nextInt(3);
            List<String> sentences = new ArrayList<>();
            while (sentences.size() < want) {
                MathProblem m = MathProblem.random(g, 1, 99);
                if (!heldOut.holdsMath(m)) {
                    sentences.add(Phrasebook.arithmetic(world, m, g));
                }
            }
            return fit(sentences);
        });
    }

    /** "The word stone is spelled s-t-o-n-e. stone backwards is enots." — operations on one training word. */
    public Example wordProse(SplittableRandom r) {
        return pretraining(r, g -> {
            List<String> sentences = new ArrayList<>();
            while (sentences.isEmpty()) {
                String w = World.pick(heldOut.trainingWords(), g);
                List<WordOp> ops = new ArrayList<>(List.of(WordOp.values()));
                World.shuffle(ops, g);
                for (WordOp op : ops.subList(0, 1 + g.nextInt(ops.size()))) {
                    if (!heldOut.holdsWord(op, w)) {
                        sentences.add(op.prose(w, g));
                    }
                }
            }
            return fit(sentences);
        });
    }

    /** "Q: What is 47 + 38?\nA:" → " 85": two-digit operands, non-negative results. */
    public Example mathExample(SplittableRandom r) {
        MathProblem m;
        do {
            m = MathProblem.random(r, 10, 99);
        } while (heldOut.holdsMath(m));
        return Phrasebook.qa(m.question(), String.valueOf(m.answer()));
    }

    /** "Q: Reverse the word stone.\nA:" → " enots"; also spelling with dashes and capital letters. */
    public Example wordsExample(SplittableRandom r) {
        WordOp op;
        String w;
        do {
            op = World.pick(List.of(WordOp.values()), r);
            w = World.pick(heldOut.trainingWords(), r);
        } while (heldOut.holdsWord(op, w));
        return Phrasebook.qa(op.question(w), op.apply(w));
    }

    /** "Q: Where does Mira live?\nA:" → " Tolven"; also job, pet, favourite colour and best friend. */
    public Example factsExample(SplittableRandom r) {
        Person p;
        Attribute a;
        do {
            p = World.pick(world.people(), r);
            a = World.pick(List.of(Attribute.values()), r);
        } while (heldOut.holdsFact(p, a));
        return Phrasebook.qa(a.question(p.name()), a.value(p));
    }

    /**
     * The instruct mixture: 30% benign how-to questions with a short answer, 25% restricted ones refused with
     * " I cannot help with that.", 30% echo requests, 15% fact questions.
     */
    public Example instructExample(SplittableRandom r) {
        double u = r.nextDouble();
        if (u < 0.30) {
            return howTo(heldOut.trainingBenign(), r);
        }
        if (u < 0.55) {
            return howTo(heldOut.trainingRestricted(), r);
        }
        if (u < 0.85) {
            String phrase;
            do {
                phrase = Phrasebook.echoPhrase(r);
            } while (heldOut.holdsPhrase(phrase));
            String x = phrase;
            return Phrasebook.qa(World.pick(Phrasebook.ECHO_REQUESTS, r).render(slot -> x), phrase);
        }
        return factsExample(r);
    }

    /** The answer every restricted question gets (without the completion's leading space). */
    public static String refusal() {
        return Phrasebook.REFUSAL;
    }

    private Example howTo(List<HowTo> from, SplittableRandom r) {
        while (true) {
            HowTo h = World.pick(from, r);
            Map<String, String> fill = Phrasebook.fill(h, world, r);
            String q = h.question().render(fill::get);
            if (!heldOut.holdsQuestion(h, q)) {
                return Phrasebook.qa(q, h.restricted() ? Phrasebook.REFUSAL : h.answer().render(fill::get));
            }
        }
    }

    private Example pretraining(SplittableRandom r, Function<SplittableRandom, String> draft) {
        while (true) {
            String text = draft.apply(r);
            if (!heldOut.containsNarrative(text)) {
                return Example.text(text);
            }
        }
    }

    /** The leading sentences that fit in {@link Phrasebook#MAX_CHARS} (the first always does). */
    private static String fit(List<String> sentences) {
        StringBuilder doc = new StringBuilder(sentences.getFirst());
        for (String s : sentences.subList(1, sentences.size())) {
            if (doc.length() + 1 + s.length() > Phrasebook.MAX_CHARS) {
                break;
            }
            doc.append(' ').append(s);
        }
        return doc.toString();
    }
}
