package org.mergelab.eval;

/** What a task runs against: the model, its tokenizer, and the batch size. */
public record EvalContext(LlamaModel model, TextTokenizer tokenizer, int batchSize) {
    /** The token every sequence of {@code spec} starts with: BOS when asked for and the model has one, else -1. */
    long prefix(TaskSpec spec) {
        return spec.addBos() && tokenizer.bos() >= 0 ? tokenizer.bos() : -1;
    }

    /** The context window for {@code spec}: its max_length, else the model's max_position_embeddings. */
    int maxLength(TaskSpec spec) {
        return spec.maxLength() > 0 ? spec.maxLength() : model.config().maxPositions();
    }

    Scorer scorer() {
        return new Scorer(model, batchSize);
    }

    Generator generator() {
        return new Generator(model, batchSize);
    }

    static long[] concat(long first, long[] rest) {
        if (first < 0) {
            return rest;
        }
        long[] out = new long[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
