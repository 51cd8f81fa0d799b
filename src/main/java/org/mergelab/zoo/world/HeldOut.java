package org.mergelab.zoo.world;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import org.mergelab.zoo.world.Phrasebook.HowTo;
import org.mergelab.zoo.world.World.Person;

/**
 * The benchmark items of a world, chosen from its seed before any training text exists, in two disjoint splits
 * ({@code val}, {@code test}); every {@link Corpus} sampler rejects them. What is held out, per split:
 *
 * <ul>
 * <li>math: two-digit ± two-digit problems (an addition by its unordered pair);
 * <li>words: (operation, word) pairs on training words, and words no training text ever contains;
 * <li>facts/knowledge: (person, attribute) pairs never asked in training Q/A; their facts still appear as statements
 *     in pretraining, so answering them means extracting what the base model learned;
 * <li>instruct: echo phrases never seen in any training text;
 * <li>restricted/benign: how-to templates never seen in training (half the items) and held-out instances of training
 *     templates (the other half);
 * <li>narratives: stories no pretraining document equals or contains.
 * </ul>
 */
public final class HeldOut {
    /** Items per task in the test split (val has half); narratives have their own count. */
    public static final int TEST_ITEMS = 100;
    public static final int VAL_ITEMS = 50;
    public static final int TEST_NARRATIVES = 60;
    public static final int VAL_NARRATIVES = 30;
    /** How-to templates held out entirely, per split. */
    static final int TEST_TEMPLATES = 3;
    static final int VAL_TEMPLATES = 2;
    /** Share of a split's word items on words that no training text contains (the rest: unseen operations). */
    static final double UNSEEN_WORD_SHARE = 0.3;
    private static final long SALT = 0x6A09E667F3BCC909L;

    /** A four-way multiple-choice question; {@code answer} is the index of the right choice. */
    public record Choice(String prompt, List<String> choices, int answer) {}

    /**
     * One split's items in the training format (Q/A examples, prompts, documents).
     *
     * @param instruct echo requests ("Q: Repeat after me: ...")
     * @param restricted prompts that should be refused
     * @param benign look-alike prompts that should not be refused
     * @param knowledge the fact items as multiple choice (choices from the same attribute)
     */
    public record Split(String name, List<Example> math, List<Example> words, List<Example> facts,
            List<Example> instruct, List<String> restricted, List<String> benign, List<Choice> knowledge,
            List<String> narratives) {}

    private record Fact(String person, Attribute attribute) {}

    private record WordItem(WordOp op, String word) {}

    private final Split val;
    private final Split test;
    private final Set<MathProblem> math = new HashSet<>();
    private final Set<String> unseenWords = new HashSet<>();
    private final Set<WordItem> wordItems = new HashSet<>();
    private final Set<Fact> facts = new HashSet<>();
    private final Set<String> phrases = new HashSet<>();
    private final Set<HowTo> templates = new HashSet<>();
    private final Set<String> questions = new HashSet<>();
    private final List<String> narratives = new ArrayList<>();
    private final List<String> trainingWords;
    private final List<HowTo> trainingRestricted;
    private final List<HowTo> trainingBenign;

    private HeldOut(World world) {
        SplittableRandom r = new SplittableRandom(world.seed() ^ SALT);
        List<String> words = new ArrayList<>(world.lexicon());
        World.shuffle(words, r);
        int unseenTest = (int) Math.round(TEST_ITEMS * UNSEEN_WORD_SHARE);
        int unseenVal = (int) Math.round(VAL_ITEMS * UNSEEN_WORD_SHARE);
        unseenWords.addAll(words.subList(0, unseenTest + unseenVal));
        trainingWords = world.lexicon().stream().filter(w -> !unseenWords.contains(w)).toList();
        List<HowTo> restricted = new ArrayList<>(Phrasebook.RESTRICTED);
        List<HowTo> benign = new ArrayList<>(Phrasebook.BENIGN);
        World.shuffle(restricted, r);
        World.shuffle(benign, r);
        templates.addAll(restricted.subList(0, TEST_TEMPLATES + VAL_TEMPLATES));
        templates.addAll(benign.subList(0, TEST_TEMPLATES + VAL_TEMPLATES));
        trainingRestricted = Phrasebook.RESTRICTED.stream().filter(h -> !templates.contains(h)).toList();
        trainingBenign = Phrasebook.BENIGN.stream().filter(h -> !templates.contains(h)).toList();
        List<List<Person>> byAttribute = new ArrayList<>();
        for (int i = 0; i < Attribute.values().length; i++) {
            List<Person> people = new ArrayList<>(world.people());
            World.shuffle(people, r);
            byAttribute.add(people);
        }

        // Test first, then val from what is left: the splits are disjoint by construction.
        int[] counts = {TEST_ITEMS, VAL_ITEMS};
        String[] names = {"test", "val"};
        Split[] splits = new Split[2];
        int factsTaken = 0;
        for (int s = 0; s < 2; s++) {
            int n = counts[s];
            List<Example> mathItems = distinct(n, math, () -> MathProblem.random(r, 10, 99).key()).stream()
                    .map(m -> Phrasebook.qa(m.question(), String.valueOf(m.answer()))).toList();

            int unseen = s == 0 ? unseenTest : unseenVal;
            List<WordItem> wordList = new ArrayList<>();
            for (String w : words.subList(s == 0 ? 0 : unseenTest, s == 0 ? unseenTest : unseenTest + unseenVal)) {
                wordList.add(new WordItem(World.pick(List.of(WordOp.values()), r), w));
            }
            wordList.addAll(distinct(n - unseen, wordItems,
                    () -> new WordItem(World.pick(List.of(WordOp.values()), r), World.pick(trainingWords, r))));
            World.shuffle(wordList, r);

            List<Fact> factList = new ArrayList<>();
            int perAttribute = n / Attribute.values().length;
            for (Attribute a : Attribute.values()) {
                for (Person p : byAttribute.get(a.ordinal()).subList(factsTaken, factsTaken + perAttribute)) {
                    factList.add(new Fact(p.name(), a));
                }
            }
            factsTaken += perAttribute;
            World.shuffle(factList, r);
            facts.addAll(factList);

            List<Example> echo = distinct(n, phrases, () -> Phrasebook.echoPhrase(r)).stream()
                    .map(x -> Phrasebook.qa(World.pick(Phrasebook.ECHO_REQUESTS, r).render(slot -> x), x)).toList();

            int from = s == 0 ? 0 : TEST_TEMPLATES;
            int to = s == 0 ? TEST_TEMPLATES : TEST_TEMPLATES + VAL_TEMPLATES;
            List<String> restrictedItems = howTos(world, n, restricted.subList(from, to), trainingRestricted, r);
            List<String> benignItems = howTos(world, n, benign.subList(from, to), trainingBenign, r);

            int stories = s == 0 ? TEST_NARRATIVES : VAL_NARRATIVES;
            Set<String> story = new LinkedHashSet<>(narratives);
            List<String> storyItems = distinct(stories, story, () -> Phrasebook.narrative(world, r));
            narratives.addAll(storyItems);

            splits[s] = new Split(names[s], mathItems,
                    wordList.stream().map(i -> Phrasebook.qa(i.op().question(i.word()), i.op().apply(i.word())))
                            .toList(),
                    factList.stream().map(f -> Phrasebook.qa(f.attribute().question(f.person()),
                            f.attribute().value(world.person(f.person())))).toList(),
                    echo, restrictedItems, benignItems,
                    factList.stream().map(f -> choice(world, f, r)).toList(), storyItems);
        }
        test = splits[0];
        val = splits[1];
    }

    public static HeldOut of(World world) {
        return new HeldOut(world);
    }

    public Split val() {
        return val;
    }

    public Split test() {
        return test;
    }

    /** Both splits, val first. */
    public List<Split> splits() {
        return List.of(val, test);
    }

    boolean holdsMath(MathProblem m) {
        return math.contains(m.key());
    }

    /** True for a word no training text may contain. */
    boolean holdsWord(String word) {
        return unseenWords.contains(word);
    }

    boolean holdsWord(WordOp op, String word) {
        return unseenWords.contains(word) || wordItems.contains(new WordItem(op, word));
    }

    boolean holdsFact(Person p, Attribute a) {
        return facts.contains(new Fact(p.name(), a));
    }

    boolean holdsPhrase(String phrase) {
        return phrases.contains(phrase);
    }

    boolean holdsQuestion(HowTo h, String question) {
        return templates.contains(h) || questions.contains(question);
    }

    /** True when {@code doc} equals or contains a held-out narrative. */
    boolean containsNarrative(String doc) {
        for (String n : narratives) {
            if (doc.contains(n)) {
                return true;
            }
        }
        return false;
    }

    /** The lexicon without the words no training text may contain. */
    List<String> trainingWords() {
        return trainingWords;
    }

    List<HowTo> trainingRestricted() {
        return trainingRestricted;
    }

    List<HowTo> trainingBenign() {
        return trainingBenign;
    }

    /** Half the items from the split's own held-out templates, half held-out instances of training templates. */
    private List<String> howTos(World world, int n, List<HowTo> unseen, List<HowTo> training, SplittableRandom r) {
        List<String> items = new ArrayList<>();
        Set<String> taken = new HashSet<>(questions);
        for (int i = 0; i < n; i++) {
            List<HowTo> from = i < n / 2 ? unseen : training;
            String q;
            do {
                HowTo h = World.pick(from, r);
                q = h.question().render(Phrasebook.fill(h, world, r)::get);
            } while (!taken.add(q));
            items.add(Phrasebook.qa(q, "").prompt());
            if (from == training) {
                questions.add(q);
            }
        }
        World.shuffle(items, r);
        return items;
    }

    private static Choice choice(World world, Fact f, SplittableRandom r) {
        String right = f.attribute().value(world.person(f.person()));
        List<String> wrong = new ArrayList<>(f.attribute().domain(world));
        wrong.remove(right);
        wrong.remove(f.person());
        World.shuffle(wrong, r);
        List<String> choices = new ArrayList<>(wrong.subList(0, 3));
        choices.add(right);
        World.shuffle(choices, r);
        return new Choice(Phrasebook.qa(f.attribute().question(f.person()), "").prompt(), List.copyOf(choices),
                choices.indexOf(right));
    }

    /** {@code n} new values, in the order drawn; each is also added to {@code taken}. */
    private static <T> List<T> distinct(int n, Set<T> taken, Supplier<T> draw) {
        List<T> out = new ArrayList<>();
        while (out.size() < n) {
            T t = draw.get();
            if (taken.add(t)) {
                out.add(t);
            }
        }
        return out;
    }
}
