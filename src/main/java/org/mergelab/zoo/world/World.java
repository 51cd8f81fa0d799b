package org.mergelab.zoo.world;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The synthetic world the in-house family learns: people with a home town, a job, a pet, a favourite colour and a
 * best friend, the towns, and a lexicon of pseudo-words for the word skills. Everything follows from the seed.
 *
 * <p>Sizes are chosen so a 4-layer, 128-wide character model can memorize every fact: {@value #PEOPLE} people ×
 * 5 attributes = 300 facts, each attribute value used equally often (no answer is a safe guess).
 *
 * @param seed what the world was generated from
 * @param people every person, in generation order
 * @param towns every town; each is home to {@value #PEOPLE}/{@value #TOWNS} people
 * @param lexicon pseudo-words of 3 to 6 lowercase letters; no word is a palindrome or another word reversed
 */
public record World(long seed, List<Person> people, List<String> towns, List<String> lexicon) {
    /** The family's default world. */
    public static final long DEFAULT_SEED = 20261123L;
    public static final int PEOPLE = 60;
    public static final int TOWNS = 12;
    public static final int LEXICON = 500;
    /** Jobs, pets and colours all start with a consonant, so "a {job}" and "a {pet}" read correctly. */
    public static final List<String> JOBS = List.of("baker", "smith", "farmer", "weaver", "potter", "miller",
            "fisher", "hunter", "tailor", "healer", "builder", "carter");
    public static final List<String> PETS = List.of("cat", "dog", "goat", "horse", "rabbit", "crow", "toad", "pig",
            "hen", "duck");
    public static final List<String> COLOURS = List.of("red", "blue", "green", "yellow", "white", "black", "brown",
            "grey", "pink", "purple");

    /** One person; {@code friend} is the best friend's name (never the person's own; not necessarily mutual). */
    public record Person(String name, String home, String job, String pet, String colour, String friend) {}

    public World {
        people = List.copyOf(people);
        towns = List.copyOf(towns);
        lexicon = List.copyOf(lexicon);
    }

    public static World generate(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        // Generated names never equal an English word of the corpus (or each other), so every word is unambiguous.
        Set<String> taken = new HashSet<>(Phrasebook.englishWords());
        List<String> names = distinct(PEOPLE, taken, () -> Names.person(r));
        List<String> towns = distinct(TOWNS, taken, () -> Names.town(r));
        List<String> lexicon = new ArrayList<>();
        while (lexicon.size() < LEXICON) {
            String w = Names.word(r);
            String reversed = new StringBuilder(w).reverse().toString();
            // Reverse-free: the reversal of a word is never itself a word (or a name), so it names one word only.
            if (!w.equals(reversed) && !taken.contains(w) && !taken.contains(reversed)) {
                taken.add(w);
                taken.add(reversed);
                lexicon.add(w);
            }
        }
        List<String> homes = balanced(towns, r);
        List<String> jobs = balanced(JOBS, r);
        List<String> pets = balanced(PETS, r);
        List<String> colours = balanced(COLOURS, r);
        List<Person> people = new ArrayList<>();
        for (int i = 0; i < PEOPLE; i++) {
            int friend = r.nextInt(PEOPLE - 1);
            friend += friend >= i ? 1 : 0;
            people.add(new Person(names.get(i), homes.get(i), jobs.get(i), pets.get(i), colours.get(i),
                    names.get(friend)));
        }
        return new World(seed, people, towns, lexicon);
    }

    public Person person(String name) {
        for (Person p : people) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("no person named " + name);
    }

    /**
     * What a template slot says about the cast: {@code p} is p's name, {@code p.home} p's town,
     * {@code p.friend.pet} the pet of p's best friend.
     */
    String resolve(String path, Map<String, Person> cast) {
        String[] steps = path.split("\\.");
        Person at = cast.get(steps[0]);
        if (at == null) {
            throw new IllegalArgumentException("slot " + path + " names nobody in the cast " + cast.keySet());
        }
        for (int i = 1; i < steps.length; i++) {
            Attribute a = Attribute.byKey(steps[i]);
            if (a == Attribute.FRIEND) {
                at = person(at.friend());
            } else if (i == steps.length - 1) {
                return a.value(at);
            } else {
                throw new IllegalArgumentException("slot " + path + ": only a friend can be followed further");
            }
        }
        return at.name();
    }

    private static List<String> distinct(int n, Set<String> taken, java.util.function.Supplier<String> make) {
        List<String> out = new ArrayList<>();
        while (out.size() < n) {
            String s = make.get();
            if (taken.add(s.toLowerCase(java.util.Locale.ROOT))) {
                out.add(s);
            }
        }
        return out;
    }

    /** {@value #PEOPLE} values cycling through {@code values}, shuffled: each value equally often. */
    private static List<String> balanced(List<String> values, SplittableRandom r) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < PEOPLE; i++) {
            out.add(values.get(i % values.size()));
        }
        shuffle(out, r);
        return out;
    }

    /** Fisher–Yates with our generator (Collections.shuffle wants a java.util.Random). */
    static <T> void shuffle(List<T> list, SplittableRandom r) {
        for (int i = list.size() - 1; i > 0; i--) {
            Collections.swap(list, i, r.nextInt(i + 1));
        }
    }

    static <T> T pick(List<T> list, SplittableRandom r) {
        return list.get(r.nextInt(list.size()));
    }
}
