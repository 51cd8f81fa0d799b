package org.mergelab.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import org.mergelab.io.DType;
import org.mergelab.zoo.CharTokenizer;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A Llama checkpoint whose weights make it an exact bigram model over the character vocabulary, so task answers are
 * known by construction: one-hot embeddings, o_proj and down_proj zero (attention and MLP add nothing to the
 * residual), unit norms, so the final hidden state is √H·onehot(current token) and the lm_head column of the current
 * token is its row of next-token logits {@code table[current]}. rms_norm_eps is 1e-12 so the norm is exact.
 */
public final class BigramModel {
    static final int HIDDEN = 128;
    static final int VOCAB = CharTokenizer.VOCAB_SIZE;
    static final TinyModels.Spec SPEC = new TinyModels.Spec("LlamaForCausalLM", 1, HIDDEN, 32, 4, 4, 0, VOCAB, false,
            false, 0);

    /** Greedy chains: "2+2=" → "4"; "…>" → "abc"; "…?" → "NO"; "…!" → "YES"; anything else → "\n". */
    public static final Map<Character, Character> CHAINS = Map.ofEntries(Map.entry('=', '4'), Map.entry('>', 'a'),
            Map.entry('a', 'b'), Map.entry('b', 'c'), Map.entry('?', 'N'), Map.entry('N', 'O'), Map.entry('!', 'Y'),
            Map.entry('Y', 'E'), Map.entry('E', 'S'));

    final double[][] table;

    BigramModel(double[][] table) {
        this.table = table;
    }

    /**
     * Small random logits (±1) everywhere, plus a boost of 30 for each {@code successor} pair, so greedy generation
     * follows the successor chain; characters without a successor go to '\n'.
     */
    public static BigramModel withSuccessors(long seed, Map<Character, Character> successor) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] t = new double[VOCAB][VOCAB];
        for (int c = 0; c < VOCAB; c++) {
            for (int v = 0; v < VOCAB; v++) {
                t[c][v] = 2 * r.nextDouble() - 1;
            }
            t[c][CharTokenizer.EOS] = -5; // generation ends by stop strings and max_tokens in these tests
            t[c][CharTokenizer.NEWLINE] += 10;
        }
        successor.forEach((a, b) -> t[CharTokenizer.id(a)][CharTokenizer.id(b)] += 30);
        return new BigramModel(t);
    }

    public Path write(Path dir) throws IOException {
        Map<String, float[]> w = TinyModels.weights(SPEC, 3, DType.F32);
        java.util.Arrays.fill(w.get("model.embed_tokens.weight"), 0);
        for (int c = 0; c < VOCAB; c++) {
            w.get("model.embed_tokens.weight")[c * HIDDEN + c] = 1;
        }
        java.util.Arrays.fill(w.get("model.layers.0.self_attn.o_proj.weight"), 0);
        java.util.Arrays.fill(w.get("model.layers.0.mlp.down_proj.weight"), 0);
        java.util.Arrays.fill(w.get("model.layers.0.input_layernorm.weight"), 1);
        java.util.Arrays.fill(w.get("model.layers.0.post_attention_layernorm.weight"), 1);
        java.util.Arrays.fill(w.get("model.norm.weight"), 1);
        float[] head = w.get("lm_head.weight");
        java.util.Arrays.fill(head, 0);
        for (int c = 0; c < VOCAB; c++) {
            for (int v = 0; v < VOCAB; v++) {
                head[v * HIDDEN + c] = (float) (table[c][v] / Math.sqrt(HIDDEN));
            }
        }
        // the float32 logits the graph will compute, so the expectations below use exactly them
        for (int c = 0; c < VOCAB; c++) {
            for (int v = 0; v < VOCAB; v++) {
                table[c][v] = head[v * HIDDEN + c] * Math.sqrt(HIDDEN);
            }
        }
        ObjectNode config = TinyModels.config(SPEC, DType.F32);
        config.put("rms_norm_eps", 1e-12);
        TinyModels.write(dir, config, TinyModels.shapes(SPEC), w, DType.F32);
        CharTokenizer.write(dir);
        return dir;
    }

    public double logprob(long prev, long next) {
        return ReferenceLlama.logSoftmax(table[(int) prev])[(int) next];
    }

    /** Σ log P(tokens[i] | tokens[i−1]) for i ≥ from. */
    public double sum(long[] tokens, int from) {
        double s = 0;
        for (int i = Math.max(1, from); i < tokens.length; i++) {
            s += logprob(tokens[i - 1], tokens[i]);
        }
        return s;
    }

    public static long[] ids(String text, boolean bos) {
        long[] out = new long[text.length() + (bos ? 1 : 0)];
        if (bos) {
            out[0] = CharTokenizer.BOS;
        }
        for (int i = 0; i < text.length(); i++) {
            out[i + (bos ? 1 : 0)] = CharTokenizer.id(text.charAt(i));
        }
        return out;
    }
}
