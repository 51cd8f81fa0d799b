package org.mergelab.zoo.world;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * A sentence with {@code {slot}} placeholders. A slot is a plain name ({@code {t}}) or a path through the world
 * ({@code {p.friend.home}}); the caller says what each slot renders to. Slot values are single words (names, towns,
 * numbers, spelled words), which is what lets {@link #pattern()} read a rendering back.
 */
final class Template {
    private final String text;
    private final List<String> literals;
    private final List<String> slots;

    private Template(String text, List<String> literals, List<String> slots) {
        this.text = text;
        this.literals = literals;
        this.slots = slots;
    }

    static Template of(String text) {
        List<String> literals = new ArrayList<>();
        List<String> slots = new ArrayList<>();
        int from = 0;
        for (int open = text.indexOf('{'); open >= 0; open = text.indexOf('{', from)) {
            int close = text.indexOf('}', open);
            if (close < 0) {
                throw new IllegalArgumentException("unclosed slot in template: " + text);
            }
            literals.add(text.substring(from, open));
            slots.add(text.substring(open + 1, close));
            from = close + 1;
        }
        literals.add(text.substring(from));
        return new Template(text, List.copyOf(literals), List.copyOf(slots));
    }

    static List<Template> all(String... texts) {
        return java.util.Arrays.stream(texts).map(Template::of).toList();
    }

    String text() {
        return text;
    }

    /** The slots in order of appearance (a slot used twice is listed twice). */
    List<String> slots() {
        return slots;
    }

    /** The literal text between the slots, without placeholders (for collecting the corpus's English words). */
    String literalText() {
        return String.join(" ", literals);
    }

    String render(UnaryOperator<String> value) {
        StringBuilder out = new StringBuilder(literals.get(0));
        for (int i = 0; i < slots.size(); i++) {
            out.append(value.apply(slots.get(i))).append(literals.get(i + 1));
        }
        return out.toString();
    }

    /** Matches exactly this template's renderings; group {@code i + 1} captures slot {@code i}. */
    Pattern pattern() {
        StringBuilder re = new StringBuilder(Pattern.quote(literals.get(0)));
        for (int i = 0; i < slots.size(); i++) {
            re.append("([A-Za-z0-9-]+)");
            if (!literals.get(i + 1).isEmpty()) {
                re.append(Pattern.quote(literals.get(i + 1)));
            }
        }
        return Pattern.compile(re.toString());
    }

    @Override
    public String toString() {
        return text;
    }
}
