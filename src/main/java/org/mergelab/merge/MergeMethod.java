package org.mergelab.merge;

import java.util.List;

/**
 * A merge method: the parameters it declares, the model sets it accepts, and how it merges one tensor. Methods live
 * in {@code merge.methods}, one file each, listed once in {@link org.mergelab.merge.methods.MethodRegistry}.
 */
public interface MergeMethod {
    /** The mergekit {@code merge_method} name. */
    String name();

    List<ParamSpec> params();

    /** How the base model takes part; decides whether per-model parameters are required on it. */
    BaseRole baseRole();

    /**
     * Rejects model sets the method cannot merge (counts, missing base), before any tensor is read.
     *
     * @throws org.mergelab.BadInputException naming the method and what it expects
     */
    void checkModels(ModelSet models);

    /** What happens when embeddings (embed_tokens, lm_head) differ in vocabulary size; mergekit's rule per method. */
    default VocabRule vocabRule() {
        return VocabRule.NONE;
    }

    /** Rejects parameter values that cannot work for this tensor (e.g. weights summing to 0); plan time, no I/O. */
    default void checkParams(ResolvedParams params, ModelSet models, String tensorName) {}

    /** Runs the reductions the method needs, then returns the elementwise kernel for the output. */
    ChunkKernel prepare(TensorJob job);

    /**
     * Whether {@link #prepare} takes dot products ({@link Reductions}: norms, Gram matrices); a merge of large models
     * then compiles their Vector API kernels at start (see {@code MergeEngine}), which the other methods would pay for
     * in vain.
     */
    default boolean usesReductions() {
        return false;
    }

    enum VocabRule {
        /** Different sizes are an error. */
        NONE,
        /** Every input is cut to the common top-left {@code [min rows, min cols]} (mergekit's rectify_embed_sizes). */
        CROP_TO_SMALLEST,
        /** Larger inputs are cut to the base's shape; a smaller one is an error (the task-vector methods). */
        CROP_TO_BASE
    }

    enum BaseRole {
        /** The base is one more input like the others (linear, karcher). */
        ORDINARY,
        /** The base is special (an endpoint or the origin of task vectors): per-model parameters are not asked of it. */
        SPECIAL
    }

    /** The inputs of a merge: their names (paths as written in the config) and which one is the base. */
    record ModelSet(List<String> names, int baseIndex) {
        public int count() {
            return names.size();
        }

        public boolean hasBase() {
            return baseIndex >= 0;
        }

        /** Inputs other than the base. */
        public int nonBaseCount() {
            return hasBase() ? count() - 1 : count();
        }
    }
}
