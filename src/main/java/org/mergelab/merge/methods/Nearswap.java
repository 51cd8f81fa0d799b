package org.mergelab.merge.methods;

import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.TensorJob;

/**
 * mergekit's nearswap: takes the other model's value where it is near the base's. Elementwise,
 * {@code w = clamp(t / max(|a − b|, 1e-6), 0, 1)}, result {@code w·b + (1−w)·a} with {@code a} the base.
 */
public final class Nearswap extends BaseToOther {
    @Override
    public String name() {
        return "nearswap";
    }

    @Override
    public VocabRule vocabRule() {
        return VocabRule.NONE; // mergekit's nearswap has no embedding rectification
    }

    @Override
    ChunkKernel prepare(TensorJob job, int a, int b, double tValue) {
        float t = (float) tValue;
        return (offset, in, out, n) -> {
            float[] x = in[a];
            float[] y = in[b];
            for (int j = 0; j < n; j++) {
                float w = t / Math.max(Math.abs(x[j] - y[j]), 1e-6f);
                w = Math.max(0f, Math.min(1f, w));
                out[j] = w * y[j] + (1 - w) * x[j];
            }
        };
    }
}
