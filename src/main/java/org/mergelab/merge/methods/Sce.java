package org.mergelab.merge.methods;

import java.util.List;

import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.ChunkReducer;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.TensorJob;

/**
 * SCE (mergekit's {@code sce}; Select, Calculate, Erase). With task vectors {@code τ_i = x_i − b}:
 * <ol>
 * <li>Select (when {@code select_topk < 1}): per element the population variance of the {@code τ_i} across models;
 *     keep the {@code k = floor(count_nonzero(var)·select_topk)} elements of largest variance (ties: lower flat index
 *     first, see {@link TopKSelection}) in every τ and zero the rest. {@code select_topk ≤ 0} zeroes everything.</li>
 * <li>Calculate: {@code c_i = mean(τ_i²)} over the tensor, normalised to sum 1 (uniform {@code 1/n} when
 *     {@code |Σ c| < 1e-6}).</li>
 * <li>Erase: the {@code sum} sign election on the unweighted τ; disagreeing and zero elements drop out.</li>
 * </ol>
 * Result {@code b + Σ_i c_i m_i τ_i / max(Σ_i c_i m_i, 1e-6)}. No per-model weights; {@code int8_mask} has no numeric
 * effect.
 */
public final class Sce implements MergeMethod {
    @Override
    public String name() {
        return "sce";
    }

    @Override
    public List<ParamSpec> params() {
        return List.of(ParamSpec.global("select_topk", ParamSpec.Kind.NUMBER, 1.0),
                ParamSpec.global("int8_mask", ParamSpec.Kind.BOOLEAN, false));
    }

    @Override
    public BaseRole baseRole() {
        return BaseRole.SPECIAL;
    }

    @Override
    public void checkModels(ModelSet models) {
        GeneralizedTaskArithmetic.checkTaskVectorModels(name(), models, 1);
    }

    /** The variance of the chunk's task vectors at element {@code j}, as a selection key. */
    static int varianceKey(float[][] tau, int k, int j) {
        double mean = 0;
        for (int m = 0; m < k; m++) {
            mean += tau[m][j];
        }
        mean /= k;
        double var = 0;
        for (int m = 0; m < k; m++) {
            double d = tau[m][j] - mean;
            var += d * d;
        }
        return TaskVectors.magnitudeKey((float) (var / k));
    }

    @Override
    public ChunkKernel prepare(TensorJob job) {
        TaskVectors tv = new TaskVectors(job);
        int k = tv.count();
        int base = tv.base;
        double topk = job.params().number("select_topk");
        if (topk <= 0) {
            double[] c = new double[job.inputCount()];
            c[base] = 1;
            return Combination.of(c); // every task vector zeroed: the base
        }
        TopKSelection.Cut cut = null;
        if (topk < 1) {
            TopKSelection.Keys keys = new TopKSelection.Keys() {
                @Override
                public int streams() {
                    return 1;
                }

                @Override
                public void keys(long offset, float[][] in, int n, int[][] out) {
                    float[][] tau = tv.compute(in, n);
                    int[] o = out[0];
                    for (int j = 0; j < n; j++) {
                        o[j] = varianceKey(tau, k, j);
                    }
                }
            };
            TopKSelection.Histogram hist = TopKSelection.histogram(job, keys, false);
            long nonzero = job.numel() - hist.zeros(0);
            cut = hist.select(new long[][] {{(long) Math.floor(nonzero * topk)}}, false)[0][0];
        }
        TopKSelection.Cut selection = cut;
        double[] sq = job.reduce(new ChunkReducer<double[]>() {
            @Override
            public double[] newState(long offset, int length) {
                return new double[k];
            }

            @Override
            public void accumulate(double[] s, long offset, float[][] in, int n) {
                float[][] tau = selected(tv, selection, offset, in, n);
                for (int m = 0; m < k; m++) {
                    double sum = 0;
                    float[] t = tau[m];
                    for (int j = 0; j < n; j++) {
                        sum += (double) t[j] * t[j];
                    }
                    s[m] += sum;
                }
            }

            @Override
            public void combine(double[] into, double[] next) {
                for (int m = 0; m < k; m++) {
                    into[m] += next[m];
                }
            }
        });
        double[] c = new double[k];
        double total = 0;
        for (int m = 0; m < k; m++) {
            c[m] = sq[m] / job.numel();
            total += c[m];
        }
        for (int m = 0; m < k; m++) {
            c[m] = Math.abs(total) < 1e-6 ? 1.0 / k : c[m] / total;
        }
        double[] ones = new double[k];
        java.util.Arrays.fill(ones, 1);
        double[][] noFactors = new double[k][];
        // the unweighted τ vote; agreeing elements are summed with weights c_m, and so is the divisor
        return (offset, in, out, n) -> SignConsensus.SUM.mix(selected(tv, selection, offset, in, n), noFactors, k,
                ones, c, c, SignConsensus.Divide.AT_LEAST_1E6, 1, in[base], out, n);
    }

    /** The chunk's task vectors with the unselected elements zeroed (this thread's scratch). */
    private static float[][] selected(TaskVectors tv, TopKSelection.Cut cut, long offset, float[][] in, int n) {
        float[][] tau = tv.compute(in, n);
        if (cut == null) {
            return tau;
        }
        int k = tv.count();
        int[] key = TopKSelection.keyScratch(1, n)[0];
        for (int j = 0; j < n; j++) {
            key[j] = varianceKey(tau, k, j);
        }
        boolean[] keep = TopKSelection.flagScratch(n);
        cut.mark(offset, key, n, keep);
        for (int m = 0; m < k; m++) {
            float[] t = tau[m];
            for (int j = 0; j < n; j++) {
                if (!keep[j]) {
                    t[j] = 0f;
                }
            }
        }
        return tau;
    }
}
