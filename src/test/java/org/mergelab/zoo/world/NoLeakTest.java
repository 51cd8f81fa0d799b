package org.mergelab.zoo.world;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.mergelab.zoo.world.HeldOut.Choice;
import org.mergelab.zoo.world.HeldOut.Split;

/**
 * Nothing a benchmark asks is in the training data: 200,000 documents from every training sampler contain no held-out
 * prompt, prompt with answer, echo phrase or narrative, no held-out word (or its reversal, spelling, capitals), no
 * held-out word answer and no held-out arithmetic problem; yet every held-out fact is stated in pretraining.
 */
class NoLeakTest {
    static final World WORLD = WorldTest.WORLD;
    static final Corpus CORPUS = CorpusTest.CORPUS;
    static final int DOCS = 200_000;
    static final Pattern MATH = Pattern.compile("Q: What is (\\d+) ([+-]) (\\d+)\\?\nA:");
    static final Pattern DIGIT = Pattern.compile("\\d");
    static final Pattern NOT_A_WORD = Pattern.compile("[^A-Za-z-]+");

    /** Finds which of many strings (each at least {@code k} characters) occurs in a text, via their first k chars. */
    static final class SubstringIndex {
        final int k;
        final Map<String, List<String>> byPrefix = new HashMap<>();

        SubstringIndex(Collection<String> needles) {
            k = needles.stream().mapToInt(String::length).min().orElseThrow();
            assertTrue(k >= 15, "needles too short for a useful index: " + k);
            for (String n : needles) {
                byPrefix.computeIfAbsent(n.substring(0, k), x -> new ArrayList<>()).add(n);
            }
        }

        String firstIn(String text) {
            for (int i = 0; i + k <= text.length(); i++) {
                List<String> candidates = byPrefix.get(text.substring(i, i + k));
                if (candidates != null) {
                    for (String n : candidates) {
                        if (text.startsWith(n, i)) {
                            return n;
                        }
                    }
                }
            }
            return null;
        }
    }

    @Test
    void noTrainingDocumentContainsAHeldOutItem() {
        HeldOut held = CORPUS.heldOut();
        Set<String> needles = new HashSet<>();
        Set<String> forbiddenTokens = new HashSet<>();
        Set<MathProblem> problems = new HashSet<>();
        for (Split s : held.splits()) {
            for (List<Example> task : List.of(s.math(), s.words(), s.facts(), s.instruct())) {
                for (Example e : task) {
                    needles.add(e.prompt());
                    needles.add(e.text());
                }
            }
            s.instruct().forEach(e -> needles.add(e.completion().strip()));
            needles.addAll(s.restricted());
            needles.addAll(s.benign());
            for (Choice c : s.knowledge()) {
                needles.add(c.prompt());
                needles.add(c.prompt() + " " + c.choices().get(c.answer()));
            }
            needles.addAll(s.narratives());
            s.words().forEach(e -> forbiddenTokens.add(e.completion().strip()));
            for (Example e : s.math()) {
                Matcher m = MATH.matcher(e.prompt());
                assertTrue(m.matches(), e.prompt());
                problems.add(new MathProblem(m.group(2).charAt(0), Integer.parseInt(m.group(1)),
                        Integer.parseInt(m.group(3))).key());
            }
        }
        int unseen = 0;
        for (String w : WORLD.lexicon()) {
            if (held.holdsWord(w)) {
                unseen++;
                for (WordOp op : WordOp.values()) {
                    forbiddenTokens.add(op.apply(w));
                }
                forbiddenTokens.add(w);
            }
        }
        assertEquals(Math.round(HeldOut.UNSEEN_WORD_SHARE * (HeldOut.TEST_ITEMS + HeldOut.VAL_ITEMS)), unseen);
        SubstringIndex index = new SubstringIndex(needles);

        Map<String, Integer> arithmetic = new HashMap<>();
        for (var sampler : CORPUS.samplers().entrySet()) {
            SplittableRandom r = new SplittableRandom(sampler.getKey().hashCode());
            for (int i = 0; i < DOCS; i++) {
                String doc = sampler.getValue().sample(r).text();
                String found = index.firstIn(doc);
                assertNull(found, () -> sampler.getKey() + " document '" + doc + "' contains held-out '" + found + "'");
                for (String token : NOT_A_WORD.split(doc)) {
                    assertFalse(forbiddenTokens.contains(token),
                            () -> sampler.getKey() + " document '" + doc + "' contains held-out word '" + token + "'");
                }
                for (MathProblem m : arithmetic(doc)) {
                    arithmetic.merge(sampler.getKey(), 1, Integer::sum);
                    assertFalse(problems.contains(m.key()), () -> "'" + doc + "' uses held-out " + m);
                }
            }
        }
        assertTrue(arithmetic.getOrDefault("base", 0) > DOCS / 10, "arithmetic prose was checked: " + arithmetic);
        assertTrue(arithmetic.getOrDefault("math", 0) == DOCS, "every math example was checked: " + arithmetic);
    }

    /** The problems a document states, in prose or as a question. */
    private static List<MathProblem> arithmetic(String doc) {
        List<MathProblem> out = new ArrayList<>();
        Matcher q = MATH.matcher(doc);
        if (q.lookingAt()) {
            out.add(new MathProblem(q.group(2).charAt(0), Integer.parseInt(q.group(1)), Integer.parseInt(q.group(3))));
            return out;
        }
        if (!DIGIT.matcher(doc).find()) {
            return out;
        }
        for (String s : Readback.sentences(doc)) {
            for (char op : new char[] {'+', '-'}) {
                for (Template t : op == '+' ? Phrasebook.ADDITION : Phrasebook.SUBTRACTION) {
                    Map<String, String> v = Readback.read(t, s);
                    if (v != null) {
                        out.add(new MathProblem(op, Integer.parseInt(v.get("a")), Integer.parseInt(v.get("b"))));
                    }
                }
            }
        }
        return out;
    }

    @Test
    void heldOutFactsAreStatedInPretraining() {
        Set<String> stated = new HashSet<>();
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 50_000; i++) {
            for (String s : Readback.sentences(CORPUS.baseDocument(r).text())) {
                for (Attribute a : Attribute.values()) {
                    for (Template t : a.statements()) {
                        Map<String, String> v = Readback.read(t, s);
                        if (v != null) {
                            stated.add(v.get("p") + "/" + a);
                        }
                    }
                }
            }
        }
        int asked = 0;
        for (Split s : CORPUS.heldOut().splits()) {
            for (Example e : s.facts()) {
                String question = e.prompt().substring(3, e.prompt().length() - 3);
                for (Attribute a : Attribute.values()) {
                    Map<String, String> v = Readback.read(a.questionTemplate(), question);
                    if (v != null) {
                        asked++;
                        assertTrue(stated.contains(v.get("p") + "/" + a), question + " is never stated");
                    }
                }
            }
        }
        assertEquals(HeldOut.TEST_ITEMS + HeldOut.VAL_ITEMS, asked);
    }
}
