package org.mergelab.zoo.world;

import java.util.List;
import java.util.SplittableRandom;

/** Pronounceable made-up words: person names, town names and the pseudo-words of the lexicon. */
final class Names {
    private static final List<String> ONSETS = List.of("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s",
            "t", "v", "z");
    private static final List<String> TOWN_ONSETS = List.of("b", "d", "g", "k", "m", "t", "v", "br", "dr", "gr",
            "st", "th");
    private static final List<String> VOWELS = List.of("a", "e", "i", "o", "u");
    private static final List<String> NAME_ENDINGS = List.of("", "", "n", "l", "r", "s");
    private static final List<String> TOWN_CODAS = List.of("l", "r", "n", "s", "m");
    private static final List<String> TOWN_ENDINGS = List.of("ven", "mor", "dun", "wick", "len", "gar", "ton",
            "rith", "mar", "bek");
    private static final List<String> CONSONANTS = List.of("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s",
            "t", "v", "z");
    private static final List<String> ONSET_CLUSTERS = List.of("st", "tr", "pl", "br", "gr", "sk", "dr", "fl");
    private static final List<String> MIDDLE_CLUSTERS = List.of("st", "nd", "mp", "lt", "rn", "sk", "nk", "rd");
    /** c: consonant, v: vowel, k: cluster that can start a word, m: cluster inside a word. 3 to 6 letters. */
    private static final List<String> WORD_SHAPES = List.of("cvc", "cvcv", "vcvc", "cvcvc", "kvcv", "cvmv",
            "cvcvcv", "kvcvc", "cvmvc", "vmv");

    private Names() {}

    /** Two syllables, capitalized: Mira, Tavon, Kelis. */
    static String person(SplittableRandom r) {
        String s = pick(ONSETS, r) + pick(VOWELS, r) + pick(ONSETS, r) + pick(VOWELS, r) + pick(NAME_ENDINGS, r);
        return capitalize(s);
    }

    /** Two syllables with a town-like ending: Tolven, Brasmor, Kelwick. */
    static String town(SplittableRandom r) {
        return capitalize(pick(TOWN_ONSETS, r) + pick(VOWELS, r) + pick(TOWN_CODAS, r) + pick(TOWN_ENDINGS, r));
    }

    /** A lowercase pseudo-word of 3 to 6 letters. */
    static String word(SplittableRandom r) {
        StringBuilder w = new StringBuilder();
        for (char c : pick(WORD_SHAPES, r).toCharArray()) {
            w.append(switch (c) {
                case 'c' -> pick(CONSONANTS, r);
                case 'v' -> pick(VOWELS, r);
                case 'k' -> pick(ONSET_CLUSTERS, r);
                default -> pick(MIDDLE_CLUSTERS, r);
            });
        }
        return w.toString();
    }

    private static String pick(List<String> from, SplittableRandom r) {
        return from.get(r.nextInt(from.size()));
    }

    private static String capitalize(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
