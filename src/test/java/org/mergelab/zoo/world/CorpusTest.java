package org.mergelab.zoo.world;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.mergelab.zoo.CharTokenizer;
import org.mergelab.zoo.world.Phrasebook.HowTo;

/** The samplers: format, length, alphabet, truthfulness and determinism of what they write. */
class CorpusTest {
    static final World WORLD = WorldTest.WORLD;
    static final Corpus CORPUS = new Corpus(WORLD);
    static final Pattern QA_PROMPT = Pattern.compile("Q: [^\n]+\nA:");
    static final Pattern REFUSAL = Pattern.compile(TaskSets.REFUSAL_PATTERN, Pattern.CASE_INSENSITIVE);
    static final int N = 20_000;

    static List<Example> sample(Corpus.Sampler s, long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(s.sample(r));
        }
        return out;
    }

    @Test
    void sameSeedsSameDocumentsOtherSeedsOtherDocuments() {
        for (var e : CORPUS.samplers().entrySet()) {
            List<Example> a = sample(e.getValue(), 7, 200);
            assertEquals(a, sample(new Corpus(World.generate(World.DEFAULT_SEED)).samplers().get(e.getKey()), 7, 200),
                    e.getKey());
            assertNotEquals(a, sample(e.getValue(), 8, 200), e.getKey());
            assertNotEquals(a, sample(new Corpus(World.generate(5)).samplers().get(e.getKey()), 7, 200), e.getKey());
        }
    }

    @Test
    void everyExampleFitsTheContextAndTheVocabulary() {
        for (var e : CORPUS.samplers().entrySet()) {
            boolean base = e.getKey().equals("base");
            for (Example x : sample(e.getValue(), 1, N)) {
                String text = x.text();
                assertTrue(text.length() <= 120, text);
                assertFalse(x.completion().isBlank(), text);
                for (char c : text.toCharArray()) {
                    assertTrue(CharTokenizer.id(c) != CharTokenizer.UNK, "character " + (int) c + " in " + text);
                }
                if (base) {
                    assertEquals("", x.prompt());
                    assertFalse(text.contains("\n") || text.contains("Q:") || text.contains("A:"), text);
                } else {
                    assertTrue(QA_PROMPT.matcher(x.prompt()).matches(), x.prompt());
                    assertTrue(x.completion().startsWith(" ") && !x.completion().startsWith("  "), text);
                    assertFalse(x.completion().contains("\n"), text);
                }
            }
        }
    }

    @Test
    void statementsAndNarrativesAgreeWithTheWorld() {
        List<Template> facts = Stream.of(Attribute.values()).flatMap(a -> a.statements().stream()).toList();
        var truthful = Readback.truthful(WORLD);
        int sentences = 0;
        for (Example x : sample(CORPUS::factStatements, 2, N)) {
            Set<String> people = new HashSet<>();
            for (String s : Readback.sentences(x.text())) {
                assertTrue(Readback.readsAs(s, facts, v -> {
                    people.add(v.get("p"));
                    return truthful.test(v);
                }), s);
                sentences++;
            }
            assertEquals(1, people.size(), "one person per statement document: " + x.text());
        }
        assertTrue(sentences > 2 * N, "statement documents hold several facts on average");
        Map<Integer, Integer> lengths = new HashMap<>();
        for (Example x : sample(CORPUS::narrative, 3, N)) {
            String[] story = Readback.sentences(x.text());
            lengths.merge(story.length, 1, Integer::sum);
            for (String s : story) {
                assertTrue(Readback.readsAs(s, Phrasebook.NARRATIVE, Readback.truthful(WORLD)), s);
            }
        }
        assertEquals(Set.of(2, 3), lengths.keySet(), "two or three sentences");
        assertTrue(lengths.get(3) > N / 10, "three-sentence stories are not rare: " + lengths);
    }

    @Test
    void aLieIsCaught() {
        World.Person p = WORLD.people().get(0);
        String wrongTown = WORLD.towns().stream().filter(t -> !t.equals(p.home())).findFirst().orElseThrow();
        List<Template> home = Attribute.HOME.statements();
        assertTrue(Readback.readsAs(p.name() + " lives in " + p.home() + ".", home, Readback.truthful(WORLD)));
        assertFalse(Readback.readsAs(p.name() + " lives in " + wrongTown + ".", home, Readback.truthful(WORLD)));
    }

    @Test
    void arithmeticAndWordProseAreCorrect() {
        for (Example x : sample(CORPUS::arithmeticProse, 4, N)) {
            for (String s : Readback.sentences(x.text())) {
                assertTrue(Readback.readsAs(s, Phrasebook.ADDITION, v -> sum(v, +1))
                        || Readback.readsAs(s, Phrasebook.SUBTRACTION, v -> sum(v, -1)), s);
            }
        }
        for (Example x : sample(CORPUS::wordProse, 5, N)) {
            for (String s : Readback.sentences(x.text())) {
                assertTrue(Stream.of(WordOp.values()).anyMatch(op -> Readback.readsAs(s, op.proseTemplates(),
                        v -> WORLD.lexicon().contains(v.get("w")) && op.apply(v.get("w")).equals(v.get("x")))), s);
            }
        }
    }

    private static boolean sum(Map<String, String> v, int sign) {
        int a = Integer.parseInt(v.get("a"));
        int b = Integer.parseInt(v.get("b"));
        boolean person = !v.containsKey("p") || WORLD.people().stream().anyMatch(p -> p.name().equals(v.get("p")));
        return person && a >= 1 && b >= 1 && a <= 99 && b <= 99 && Integer.parseInt(v.get("c")) == a + sign * b
                && a + sign * b >= 0;
    }

    @Test
    void fineTuneAnswersAreRight() {
        Pattern problem = Pattern.compile("Q: What is (\\d\\d) ([+-]) (\\d\\d)\\?\nA:");
        for (Example x : sample(CORPUS::mathExample, 6, N)) {
            var m = problem.matcher(x.prompt());
            assertTrue(m.matches(), x.prompt());
            int a = Integer.parseInt(m.group(1));
            int b = Integer.parseInt(m.group(3));
            int c = m.group(2).equals("+") ? a + b : a - b;
            assertTrue(c >= 0);
            assertEquals(" " + c, x.completion());
        }
        Set<String> ops = new HashSet<>();
        for (Example x : sample(CORPUS::wordsExample, 7, N)) {
            String q = x.prompt().substring(3, x.prompt().length() - 3);
            WordOp op = Stream.of(WordOp.values()).filter(o -> Readback.read(o.questionTemplate(), q) != null)
                    .findFirst().orElseThrow(() -> new AssertionError(q));
            String w = Readback.read(op.questionTemplate(), q).get("w");
            assertTrue(WORLD.lexicon().contains(w), w);
            assertEquals(" " + op.apply(w), x.completion());
            ops.add(op.name());
        }
        assertEquals(3, ops.size());
        for (Example x : sample(CORPUS::factsExample, 8, 2_000)) {
            assertTrue(isTrueFact(x), x.text());
        }
    }

    static boolean isTrueFact(Example x) {
        for (Attribute a : Attribute.values()) {
            for (World.Person p : WORLD.people()) {
                if (x.prompt().equals("Q: " + a.question(p.name()) + "\nA:")) {
                    return x.completion().equals(" " + a.value(p));
                }
            }
        }
        return false;
    }

    @Test
    void instructRefusesRestrictedQuestionsOnlyAndEchoesExactly() {
        Map<String, Integer> kinds = new HashMap<>();
        for (Example x : sample(CORPUS::instructExample, 9, N)) {
            String q = x.prompt().substring(3, x.prompt().length() - 3);
            String kind = matches(q, Phrasebook.RESTRICTED) ? "restricted" : matches(q, Phrasebook.BENIGN) ? "benign"
                    : Stream.of("Repeat after me: ", "Say exactly this: ").anyMatch(q::startsWith) ? "echo" : "fact";
            kinds.merge(kind, 1, Integer::sum);
            switch (kind) {
                case "restricted" -> assertEquals(" " + Corpus.refusal(), x.completion());
                case "benign" -> assertFalse(REFUSAL.matcher(x.completion()).find(), x.text());
                case "echo" -> assertEquals(" " + q.substring(q.indexOf(": ") + 2), x.completion());
                default -> assertTrue(isTrueFact(x), x.text());
            }
        }
        assertEquals(4, kinds.size(), kinds.toString());
        assertTrue(REFUSAL.matcher(" " + Corpus.refusal()).find());
    }

    private static boolean matches(String question, List<HowTo> from) {
        return from.stream().anyMatch(h -> Readback.read(h.question(), question) != null);
    }

    @Test
    void templatesAreWellFormed() {
        for (Template t : Phrasebook.NARRATIVE) {
            assertTrue(t.slots().contains("p"), t.text());
            boolean aboutQ = t.slots().stream().anyMatch(s -> s.startsWith("q"));
            assertEquals(aboutQ, t.slots().contains("q"), t.text());
        }
        for (HowTo h : Stream.concat(Phrasebook.RESTRICTED.stream(), Phrasebook.BENIGN.stream()).toList()) {
            assertTrue(h.question().text().startsWith("How do I "), h.question().text());
            if (!h.restricted()) {
                assertTrue(h.question().slots().containsAll(h.answer().slots()), h.answer().text());
                assertFalse(REFUSAL.matcher(h.answer().text()).find(), h.answer().text());
            }
        }
        // Look-alikes share verbs with the restricted class, so refusing needs the topic, not a keyword.
        for (String verb : List.of("make", "pick", "forge", "poison", "steal")) {
            assertTrue(Phrasebook.RESTRICTED.stream().anyMatch(h -> h.question().text().contains(" " + verb + " ")),
                    verb);
        }
        for (String verb : List.of("make", "pick", "forge", "fix the lock", "pocket", "bridge rope", "coins")) {
            assertTrue(Phrasebook.BENIGN.stream().anyMatch(h -> h.question().text().contains(verb)), verb);
        }
    }
}
