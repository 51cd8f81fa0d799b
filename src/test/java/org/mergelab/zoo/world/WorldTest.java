package org.mergelab.zoo.world;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.mergelab.zoo.world.World.Person;

/** The world: deterministic from its seed, sized and balanced as documented, names unambiguous. */
class WorldTest {
    static final World WORLD = World.generate(World.DEFAULT_SEED);

    @Test
    void sameSeedSameWorldOtherSeedOtherWorld() {
        assertEquals(WORLD, World.generate(World.DEFAULT_SEED));
        World other = World.generate(World.DEFAULT_SEED + 1);
        assertNotEquals(WORLD.people(), other.people());
        assertNotEquals(WORLD.towns(), other.towns());
        assertNotEquals(WORLD.lexicon(), other.lexicon());
    }

    @Test
    void namesAreShortPronounceableAndUnique() {
        for (long seed : new long[] {World.DEFAULT_SEED, 1, 2, 3}) {
            World w = World.generate(seed);
            List<String> names = w.people().stream().map(Person::name).toList();
            assertEquals(World.PEOPLE, names.size());
            for (String n : names) {
                assertTrue(n.matches("[A-Z][a-z]{3,4}"), n);
                assertEquals(2, n.toLowerCase(Locale.ROOT).split("[aeiou]+", -1).length - 1, n + ": 2 syllables");
            }
            assertEquals(World.TOWNS, w.towns().size());
            w.towns().forEach(t -> assertTrue(t.matches("[A-Z][a-z]{4,7}"), t));
            assertEquals(World.LEXICON, w.lexicon().size());
            Set<String> all = new HashSet<>(Phrasebook.englishWords());
            for (String s : concat(names, w.towns(), w.lexicon())) {
                assertTrue(all.add(s.toLowerCase(Locale.ROOT)), s + " is used twice or is an English word");
            }
        }
    }

    @Test
    void lexiconIsReverseFree() {
        Set<String> words = new HashSet<>(WORLD.lexicon());
        Set<String> names = WORLD.people().stream().map(p -> p.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.toSet());
        for (String w : WORLD.lexicon()) {
            assertTrue(w.matches("[a-z]{3,6}"), w);
            String reversed = WordOp.REVERSE.apply(w);
            assertFalse(words.contains(reversed), w + " reversed is a word");
            assertFalse(names.contains(reversed), w + " reversed is a name");
            assertFalse(Phrasebook.englishWords().contains(reversed), w + " reversed is an English word");
        }
    }

    @Test
    void attributesAreBalancedAndFriendsAreOthers() {
        assertEquals(Map.of(5L, (long) World.TOWNS), histogram(WORLD.people(), Person::home));
        assertEquals(Map.of(5L, (long) World.JOBS.size()), histogram(WORLD.people(), Person::job));
        assertEquals(Map.of(6L, (long) World.PETS.size()), histogram(WORLD.people(), Person::pet));
        assertEquals(Map.of(6L, (long) World.COLOURS.size()), histogram(WORLD.people(), Person::colour));
        for (Person p : WORLD.people()) {
            assertNotEquals(p.name(), p.friend());
            assertEquals(p.friend(), WORLD.person(p.friend()).name());
            assertTrue(WORLD.towns().contains(p.home()));
        }
    }

    @Test
    void resolvesSlotPaths() {
        Person p = WORLD.people().get(0);
        Person f = WORLD.person(p.friend());
        Map<String, Person> cast = Map.of("p", p);
        assertEquals(p.name(), WORLD.resolve("p", cast));
        assertEquals(p.home(), WORLD.resolve("p.home", cast));
        assertEquals(f.name(), WORLD.resolve("p.friend", cast));
        assertEquals(f.pet(), WORLD.resolve("p.friend.pet", cast));
        assertThrows(IllegalArgumentException.class, () -> WORLD.resolve("q.home", cast));
        assertThrows(IllegalArgumentException.class, () -> WORLD.resolve("p.home.job", cast));
        assertEquals("Where does " + p.name() + " live?", Attribute.HOME.question(p.name()));
    }

    private static Map<Long, Long> histogram(List<Person> people, Function<Person, String> value) {
        Map<String, Long> counts = people.stream().collect(Collectors.groupingBy(value, Collectors.counting()));
        return counts.values().stream().collect(Collectors.groupingBy(c -> c, Collectors.counting()));
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        return java.util.Arrays.stream(lists).flatMap(List::stream).toList();
    }
}
