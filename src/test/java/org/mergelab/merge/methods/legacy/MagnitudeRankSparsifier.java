package org.mergelab.merge.methods.legacy;

import org.mergelab.merge.ResolvedParams;
import org.mergelab.merge.TensorJob;

/**
 * Sparsifiers that keep a range of magnitude ranks of each task vector: ranking by {@code |τ|} descending (lower flat
 * index first among equal magnitudes, see {@link TopKSelection}), the elements of rank {@code [from, to)} survive.
 * The ranks come from {@link TopKSelection}'s streaming passes, with every active task vector as one stream.
 */
abstract class MagnitudeRankSparsifier implements Sparsifier {
    /**
     * The kept rank range {@code {from, to}} of one task vector of {@code numel} elements with density
     * {@code density < 1}; {@code from ≤ to}.
     */
    abstract long[] keptRanks(double density, ResolvedParams p, int input, long numel);

    @Override
    public Mask prepare(TensorJob job, TaskVectors tv, Rescale rescale) {
        double[] density = Sparsifier.densities(job, tv);
        int k = tv.count();
        int[] streamOf = new int[k];
        int streams = 0;
        for (int m = 0; m < k; m++) {
            streamOf[m] = density[m] < 1 ? streams++ : -1;
        }
        if (streams == 0) {
            return Mask.NONE;
        }
        int[] modelOf = new int[streams];
        for (int m = 0; m < k; m++) {
            if (streamOf[m] >= 0) {
                modelOf[streamOf[m]] = m;
            }
        }
        TopKSelection.Keys keys = new TopKSelection.Keys() {
            @Override
            public int streams() {
                return modelOf.length;
            }

            @Override
            public void keys(long offset, float[][] in, int n, int[][] out) {
                float[] b = in[tv.base];
                for (int s = 0; s < modelOf.length; s++) {
                    float[] x = in[tv.inputs[modelOf[s]]];
                    int[] o = out[s];
                    for (int j = 0; j < n; j++) {
                        o[j] = TaskVectors.magnitudeKey(x[j] - b[j]);
                    }
                }
            }
        };
        long numel = job.numel();
        long[][] ks = new long[streams][];
        for (int s = 0; s < streams; s++) {
            int m = modelOf[s];
            long[] r = keptRanks(density[m], job.params(), tv.inputs[m], numel);
            ks[s] = new long[] {r[0], r[1]};
        }
        TopKSelection.Histogram hist = TopKSelection.histogram(job, keys, rescale == Rescale.L1);
        TopKSelection.Cut[][] cuts = hist.select(ks, rescale == Rescale.L1);
        double[] scale = new double[k];
        boolean[] active = new boolean[k];
        for (int s = 0; s < streams; s++) {
            int m = modelOf[s];
            active[m] = true;
            scale[m] = switch (rescale) {
                case NONE -> 1;
                case INVERSE_DENSITY -> 1 / density[m];
                case L1 -> Rescale.l1(hist.sum(s), cuts[s][1].sum - cuts[s][0].sum);
            };
        }
        for (int m = 0; m < k; m++) {
            scale[m] = active[m] ? scale[m] : 1;
        }
        return Sparsifier.of((m, offset, tau, n) -> {
            int s = streamOf[m];
            TopKSelection.Cut to = cuts[s][1];
            TopKSelection.Cut from = cuts[s][0];
            if (to.all() && from.none()) {
                return;
            }
            // kept: in the top `to` but not in the top `from`; branch-free but at keys equal to a threshold
            TopKSelection.Cursor inTo = to.cursor(offset);
            if (from.none()) {
                for (int j = 0; j < n; j++) {
                    int bits = Float.floatToRawIntBits(tau[j]);
                    tau[j] = Float.intBitsToFloat(bits & -inTo.in(bits & 0x7fffffff));
                }
                return;
            }
            TopKSelection.Cursor inFrom = from.cursor(offset);
            for (int j = 0; j < n; j++) {
                int bits = Float.floatToRawIntBits(tau[j]);
                int key = bits & 0x7fffffff;
                int keep = inTo.in(key) & (inFrom.in(key) ^ 1);
                tau[j] = Float.intBitsToFloat(bits & -keep);
            }
        }, active, scale);
    }
}
