package org.mergelab.zoo.world;

import java.util.List;
import java.util.Locale;

/**
 * A word manipulation the words expert learns: its Q/A question and the prose that shows it in pretraining. Slots:
 * {@code {w}} the word, {@code {x}} the result.
 */
public enum WordOp {
    REVERSE("Reverse the word {w}.",
            "{w} backwards is {x}.", "Read backwards, the word {w} becomes {x}.", "If you reverse {w}, you get {x}."),
    SPELL("Spell the word {w}.",
            "The word {w} is spelled {x}.", "{w} is spelled {x}.", "You spell {w} as {x}."),
    UPPER("Write {w} in capital letters.",
            "{w} in capital letters is {x}.", "Written in capitals, {w} is {x}.", "In capitals, {w} becomes {x}.");

    private final Template question;
    private final List<Template> prose;

    WordOp(String question, String... prose) {
        this.question = Template.of(question);
        this.prose = Template.all(prose);
    }

    public String apply(String word) {
        return switch (this) {
            case REVERSE -> new StringBuilder(word).reverse().toString();
            case SPELL -> String.join("-", word.split(""));
            case UPPER -> word.toUpperCase(Locale.ROOT);
        };
    }

    /** "Reverse the word stone." */
    public String question(String word) {
        return question.render(slot -> word);
    }

    /** One prose sentence showing this operation on {@code word}. */
    String prose(String word, java.util.SplittableRandom r) {
        return World.pick(prose, r).render(slot -> slot.equals("w") ? word : apply(word));
    }

    List<Template> proseTemplates() {
        return prose;
    }

    Template questionTemplate() {
        return question;
    }
}
