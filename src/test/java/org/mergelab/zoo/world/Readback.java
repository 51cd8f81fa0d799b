package org.mergelab.zoo.world;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.mergelab.zoo.world.World.Person;

/** Reads rendered sentences back into slot values, to check what the corpus says against the world. */
final class Readback {
    private static final Map<Template, Pattern> PATTERNS = new java.util.concurrent.ConcurrentHashMap<>();
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=\\.) ");

    private Readback() {}

    /** The sentences of a document (each ends with a period). */
    static String[] sentences(String doc) {
        return SENTENCE_END.split(doc);
    }

    /** Slot values of {@code sentence} as a rendering of {@code t}, or null (no match, or a repeated slot differs). */
    static Map<String, String> read(Template t, String sentence) {
        Matcher m = PATTERNS.computeIfAbsent(t, Template::pattern).matcher(sentence);
        if (!m.matches()) {
            return null;
        }
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < t.slots().size(); i++) {
            String old = values.putIfAbsent(t.slots().get(i), m.group(i + 1));
            if (old != null && !old.equals(m.group(i + 1))) {
                return null;
            }
        }
        return values;
    }

    /** True when some template reads {@code sentence} with values that {@code valid} accepts. */
    static boolean readsAs(String sentence, List<Template> templates, Predicate<Map<String, String>> valid) {
        for (Template t : templates) {
            Map<String, String> v = read(t, sentence);
            if (v != null && valid.test(v)) {
                return true;
            }
        }
        return false;
    }

    /** Every slot path (p.home, q, p.friend.pet) says what the world says about the people named by p and q. */
    static Predicate<Map<String, String>> truthful(World world) {
        return values -> {
            Map<String, Person> cast = new HashMap<>();
            for (String who : List.of("p", "q")) {
                if (values.containsKey(who)) {
                    Person person = world.people().stream().filter(x -> x.name().equals(values.get(who))).findFirst()
                            .orElse(null);
                    if (person == null) {
                        return false;
                    }
                    cast.put(who, person);
                }
            }
            return values.entrySet().stream().allMatch(e -> world.resolve(e.getKey(), cast).equals(e.getValue()));
        };
    }
}
