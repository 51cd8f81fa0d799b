package org.mergelab.zoo.world;

import java.util.List;

import org.mergelab.zoo.world.World.Person;

/**
 * A fact about a person: its one question (the Q/A wording every fine-tune and benchmark uses) and several
 * statement paraphrases for pretraining, so that a fact seen only in statements can later be asked for.
 */
public enum Attribute {
    HOME("home", "Where does {p} live?",
            "{p} lives in {p.home}.", "{p.home} is the home of {p}.", "{p} is from {p.home}.",
            "{p} has a house in {p.home}.", "The town where {p} lives is {p.home}."),
    JOB("job", "What is {p}'s job?",
            "{p} is a {p.job}.", "{p} works as a {p.job}.", "By trade, {p} is a {p.job}.",
            "{p} earns a living as a {p.job}.", "The work of {p} is that of a {p.job}."),
    PET("pet", "What pet does {p} have?",
            "{p} has a pet {p.pet}.", "{p} owns a {p.pet}.", "The pet of {p} is a {p.pet}.",
            "{p} keeps a {p.pet} at home.", "A {p.pet} lives with {p}."),
    COLOUR("colour", "What is {p}'s favourite colour?",
            "{p}'s favourite colour is {p.colour}.", "The favourite colour of {p} is {p.colour}.",
            "{p} likes {p.colour} best.", "{p} loves the colour {p.colour}.", "Of all colours, {p} likes {p.colour} most."),
    FRIEND("friend", "Who is {p}'s best friend?",
            "{p}'s best friend is {p.friend}.", "The best friend of {p} is {p.friend}.",
            "{p.friend} is the best friend of {p}.", "{p} trusts {p.friend} more than anyone.",
            "Of all people, {p} likes {p.friend} best.");

    private final String key;
    private final Template question;
    private final List<Template> statements;

    Attribute(String key, String question, String... statements) {
        this.key = key;
        this.question = Template.of(question);
        this.statements = Template.all(statements);
    }

    /** The name used in template paths ({@code p.home}). */
    public String key() {
        return key;
    }

    public String value(Person p) {
        return switch (this) {
            case HOME -> p.home();
            case JOB -> p.job();
            case PET -> p.pet();
            case COLOUR -> p.colour();
            case FRIEND -> p.friend();
        };
    }

    /** Every value this attribute can take in {@code world} (the choices of a knowledge question). */
    public List<String> domain(World world) {
        return switch (this) {
            case HOME -> world.towns();
            case JOB -> World.JOBS;
            case PET -> World.PETS;
            case COLOUR -> World.COLOURS;
            case FRIEND -> world.people().stream().map(Person::name).toList();
        };
    }

    /** "Where does Mira live?" */
    public String question(String name) {
        return question.render(slot -> name);
    }

    List<Template> statements() {
        return statements;
    }

    Template questionTemplate() {
        return question;
    }

    static Attribute byKey(String key) {
        for (Attribute a : values()) {
            if (a.key.equals(key)) {
                return a;
            }
        }
        throw new IllegalArgumentException("no attribute '" + key + "'");
    }
}
