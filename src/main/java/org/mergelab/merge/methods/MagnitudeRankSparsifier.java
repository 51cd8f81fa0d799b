package org.mergelab.merge.methods;

import java.lang.foreign.MemorySegment;

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
                for (int s = 0; s < modelOf.length; s++) {
                    TaskVectorKernels.keys(in[tv.inputs[modelOf[s]]], in[tv.base], out[s], n);
                }
            }

            @Override
            public boolean keysBf16(long offset, MemorySegment[] bf16, int n, int[][] out) {
                int x = tv.inputs[modelOf[0]];
                if (!TaskVectorKernels.VECTOR || !TaskVectorKernels.Lanes.KEYS_BF16.runsOrProbes(n, () ->
                        TaskVectorKernels.keysBf16(bf16[x], bf16[tv.base], offset, out[0], TaskVectorKernels.PROBE))) {
                    return false; // the probe's keys are scratch: decoding the chunk writes them all
                }
                for (int s = 0; s < modelOf.length; s++) {
                    TaskVectorKernels.keysBf16(bf16[tv.inputs[modelOf[s]]], bf16[tv.base], offset, out[s], n);
                }
                return true;
            }

            @Override
            public MemorySegment[] differenceBf16(int s, MemorySegment[] bf16) {
                return new MemorySegment[] {bf16[tv.inputs[modelOf[s]]], bf16[tv.base]};
            }
        };
        long numel = job.numel();
        long[][] ks = new long[streams][];
        for (int s = 0; s < streams; s++) {
            int m = modelOf[s];
            long[] r = keptRanks(density[m], job.params(), tv.inputs[m], numel);
            ks[s] = new long[] {r[0], r[1]};
        }
        // one pass when the first chunk predicts the cuts well (not for the L1 rescale: it needs sums above them)
        TopKSelection.Cut[][] onePass = rescale == Rescale.L1 ? null : WindowSelection.select(job, keys, ks);
        TopKSelection.Histogram sums = onePass != null ? null
                : TopKSelection.histogram(job, keys, rescale == Rescale.L1);
        TopKSelection.Cut[][] cuts = onePass != null ? onePass : sums.select(ks, rescale == Rescale.L1);
        double[] scale = new double[k];
        boolean[] active = new boolean[k];
        for (int s = 0; s < streams; s++) {
            int m = modelOf[s];
            active[m] = true;
            scale[m] = switch (rescale) {
                case NONE -> 1;
                case INVERSE_DENSITY -> 1 / density[m];
                case L1 -> Rescale.l1(sums.sum(s), cuts[s][1].sum - cuts[s][0].sum);
            };
        }
        for (int m = 0; m < k; m++) {
            scale[m] = active[m] ? scale[m] : 1;
        }
        return new Mask() {
            @Override
            public int sparsify(TaskVectors tv, int m, long offset, float[][] in, int from, int to, float[] into) {
                float[] x = in[tv.inputs[m]];
                float[] b = in[tv.base];
                int s = streamOf[m];
                if (s < 0) {
                    TaskVectorKernels.taskVector(x, b, into, from, to);
                    return 0;
                }
                TopKSelection.Cut upTo = cuts[s][1];
                TopKSelection.Cut past = cuts[s][0];
                if (upTo.all() && past.none()) {
                    TaskVectorKernels.taskVector(x, b, into, from, to);
                    return 0;
                }
                // kept: in the top `upTo` but not in the top `past`; in most chunks each is a plain key comparison
                int above = upTo.above(offset);
                int atMost = past.above(offset);
                if (above != TopKSelection.Cut.WALK && atMost != TopKSelection.Cut.WALK) {
                    return TaskVectorKernels.rankMask(x, b, into, from, to, above, atMost);
                }
                // the chunk (whole, see block()) where a cut's keys equal to its threshold stop being selected: up to
                // that index they count as above it, from it on as below, so the chunk is at most three runs of plain
                // key comparisons (a cursor over every key took 5 % of a 4 GB breadcrumbs merge); a cut not walked here
                // is "from it on" from the chunk's start
                int upEnd = above == TopKSelection.Cut.WALK ? upTo.walkEnd(offset, x, b, from, to) : from;
                int pastEnd = atMost == TopKSelection.Cut.WALK ? past.walkEnd(offset, x, b, from, to) : from;
                int upAfter = above == TopKSelection.Cut.WALK ? upTo.threshold : above;
                int pastAfter = atMost == TopKSelection.Cut.WALK ? past.threshold : atMost;
                int upBefore = upAfter - 1;
                int pastBefore = pastAfter - 1;
                int first = Math.min(upEnd, pastEnd);
                int second = Math.max(upEnd, pastEnd);
                return TaskVectorKernels.rankMask(x, b, into, from, first, upBefore, pastBefore)
                        + TaskVectorKernels.rankMask(x, b, into, first, second, upEnd <= first ? upAfter : upBefore,
                                pastEnd <= first ? pastAfter : pastBefore)
                        + TaskVectorKernels.rankMask(x, b, into, second, to, upAfter, pastAfter);
            }

            @Override
            public int block(long offset, int n) {
                for (int s = 0; s < cuts.length; s++) {
                    if (cuts[s][1].above(offset) == TopKSelection.Cut.WALK
                            || cuts[s][0].above(offset) == TopKSelection.Cut.WALK) {
                        return n; // a cursor walks this chunk from its start
                    }
                }
                return TaskVectorKernels.BLOCK;
            }

            @Override
            public double scale(int m) {
                return scale[m];
            }

            @Override
            public boolean keyBounds(long offset, int[] above, int[] atMost) {
                for (int m = 0; m < k; m++) {
                    int s = streamOf[m];
                    above[m] = s < 0 ? -1 : cuts[s][1].above(offset);
                    atMost[m] = s < 0 ? Integer.MAX_VALUE : cuts[s][0].above(offset);
                    if (above[m] == TopKSelection.Cut.WALK || atMost[m] == TopKSelection.Cut.WALK) {
                        return false;
                    }
                }
                return true;
            }
        };
    }
}
