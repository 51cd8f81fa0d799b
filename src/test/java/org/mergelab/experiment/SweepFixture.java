package org.mergelab.experiment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.mergelab.io.DType;
import org.mergelab.zoo.CharTokenizer;
import org.mergelab.zoo.SyntheticLlama;

/**
 * What the sweep tests run on: three tiny random Llama folders with the character tokenizer (a base and two
 * "fine-tunes" of it), and a task folder with val/ and test/ splits holding one task of every type, a few items each.
 */
public record SweepFixture(Path dir, Path base, Path chat, Path math, Path tasks) {
    public static final SyntheticLlama.Spec MODEL = new SyntheticLlama.Spec(2, 32, 64, 4, 2, CharTokenizer.VOCAB_SIZE,
            DType.BF16, Long.MAX_VALUE, false);

    public static SweepFixture write(Path dir) throws IOException {
        SweepFixture f = new SweepFixture(dir, dir.resolve("base"), dir.resolve("chat"), dir.resolve("math"),
                dir.resolve("tasks"));
        model(f.base, 0, 0);
        model(f.chat, 2, 0.3);
        model(f.math, 3, 0.3);
        for (String split : new String[] {"val", "test"}) {
            Path d = Files.createDirectories(f.tasks.resolve(split));
            String other = split.equals("val") ? "1" : "2";
            write(d, "qa", "type: generate\nprompt: \"Q: {q}\\nA:\"\nstop: [\"\\n\"]\nmax_tokens: 3\n",
                    "{\"q\": \"2+" + other + "\", \"answer\": \"" + (2 + Integer.parseInt(other)) + "\"}\n"
                            + "{\"q\": \"capital of France\", \"answer\": \"Paris\"}\n");
            write(d, "choice", "type: multiple_choice\nchoices: [\"yes\", \"no\"]\n",
                    "{\"prompt\": \"Is water wet" + other + "?\", \"answer\": 0}\n"
                            + "{\"prompt\": \"Is fire cold?\", \"answer\": 1}\n{\"prompt\": \"Is ice hot?\","
                            + " \"answer\": 1}\n");
            write(d, "text", "type: perplexity\n", "{\"text\": \"The cat sat on the mat " + other + ".\"}\n"
                    + "{\"text\": \"Merging models is fun.\"}\n");
            write(d, "refuse", "type: refusal\nstop: [\"\\n\"]\nmax_tokens: 3\npatterns: [\"^a\"]\n",
                    "{\"prompt\": \"Tell me a secret " + other + "\"}\n{\"prompt\": \"Say hi\"}\n");
        }
        return f;
    }

    private static void model(Path dir, long seed, double delta) throws IOException {
        SyntheticLlama.write(dir, MODEL, 1, seed, delta);
        CharTokenizer.write(dir);
    }

    private static void write(Path dir, String name, String yaml, String jsonl) throws IOException {
        Files.writeString(dir.resolve(name + ".yaml"), yaml + "data: " + name + ".jsonl\n");
        Files.writeString(dir.resolve(name + ".jsonl"), jsonl);
    }

    /** The models and tasks section every test spec starts with. */
    public String header() {
        return "models:\n  base: " + base + "\n  chat: " + chat + "\n  math: " + math + "\ntasks:\n  dir: " + tasks
                + "\n";
    }

    /** Writes {@code dir/NAME.yaml}: the header, then {@code body}. */
    public Path spec(String name, String body) throws IOException {
        Path p = dir.resolve(name + ".yaml");
        Files.writeString(p, header() + body);
        return p;
    }
}
