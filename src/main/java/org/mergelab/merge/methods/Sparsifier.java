package org.mergelab.merge.methods;

import java.util.List;

import org.mergelab.BadInputException;
import org.mergelab.merge.ChunkReducer;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.ResolvedParams;
import org.mergelab.merge.TensorJob;

/**
 * How the generalized task-arithmetic methods thin out each task vector before mixing (mergekit's
 * {@code sparsify.py}): which elements survive, and how the survivors are rescaled. Every sparsifier leaves a task
 * vector untouched when its model's {@code density} is at least 1.
 */
interface Sparsifier {
    /** Per-model parameters besides {@code weight} and {@code density} (gamma, epsilon). */
    default List<ParamSpec> extraParams() {
        return List.of();
    }

    /**
     * Plan-time check of one model's parameters (density range and the like).
     *
     * @throws BadInputException naming the method, the model and the tensor
     */
    void check(String method, ResolvedParams p, int input, String model, String tensorName);

    /** Runs the reductions the sparsifier needs for one tensor (all task vectors in the same passes). */
    Mask prepare(TensorJob job, TaskVectors tv, Rescale rescale);

    /**
     * Makes sparsified task-vector chunks and says how to rescale the survivors; the mixing applies the factors in
     * float64, so a rescaled value is never rounded to float32 on the way. Thread-safe.
     */
    interface Mask {
        /**
         * Task vector {@code m}, sparsified, over elements {@code [from, to)} of the chunk whose element 0 is flat
         * index {@code offset}: {@code into[j] = x_m[j] − b[j]} where element {@code offset + j} is kept, {@code +0}
         * where it is dropped.
         *
         * @return how many non-zero entries it zeroed (for the pruned fraction of the norm statistics)
         */
        int sparsify(TaskVectors tv, int m, long offset, float[][] in, int from, int to, float[] into);

        /**
         * The block length for the chunk of {@code n} elements at {@code offset}: {@link #sparsify} may be called on
         * {@code [from, from + block)} for every multiple {@code from} of it (in order), or only on the whole chunk
         * when this returns {@code n}.
         */
        default int block(long offset, int n) {
            return n;
        }

        /**
         * Per-element rescale factors of the chunk this thread last sparsified for model {@code m} (this thread's
         * scratch, valid until its next call for {@code m}), or null when every element is rescaled by
         * {@link #scale(int) scale(m)}.
         */
        default double[] factors(int m) {
            return null;
        }

        /** Whether {@link #factors} can be non-null. */
        default boolean hasFactors() {
            return false;
        }

        /** The rescale factor of task vector {@code m} (1 without rescale). */
        double scale(int m);

        /**
         * When every task vector's mask over the chunk at {@code offset} is a plain comparison of its
         * magnitude keys ({@link TaskVectorKernels#rankMask}: kept where {@code above[m] < key ≤ atMost[m]}), fills
         * the bounds and returns true; false when some element's fate needs more (a draw, a walk through equal keys,
         * per-element factors).
         */
        default boolean keyBounds(long offset, int[] above, int[] atMost) {
            return false;
        }

        /** No sparsification. */
        Mask NONE = new Mask() {
            @Override
            public int sparsify(TaskVectors tv, int m, long offset, float[][] in, int from, int to, float[] into) {
                tv.compute(in, m, from, to, into);
                return 0;
            }

            @Override
            public int block(long offset, int n) {
                return TaskVectorKernels.BLOCK;
            }

            @Override
            public double scale(int m) {
                return 1;
            }

            @Override
            public boolean keyBounds(long offset, int[] above, int[] atMost) {
                java.util.Arrays.fill(above, -1); // every key is > -1 and ≤ Integer.MAX_VALUE: all kept
                java.util.Arrays.fill(atMost, Integer.MAX_VALUE);
                return true;
            }
        };
    }

    /** How survivors are rescaled: {@code rescale: false}, or {@code rescale: true} with {@code rescale_mode}. */
    enum Rescale {
        /** Kept elements keep their values. */
        NONE,
        /** mergekit's rule: scale by {@code ‖τ‖₁ / ‖masked τ‖₁} per tensor (1 when either is below 1e-7). */
        L1,
        /** The papers' rule: divide by the keep probability ({@code 1/density}; DELLA {@code 1/p_i}). */
        INVERSE_DENSITY;

        static Rescale of(ResolvedParams p) {
            if (!p.flag("rescale")) {
                return NONE;
            }
            return "inverse_density".equals(p.choice("rescale_mode")) ? INVERSE_DENSITY : L1;
        }

        /** mergekit's L1 factor with its 1e-7 guards. */
        static double l1(double before, double after) {
            return before < 1e-7 || after < 1e-7 ? 1 : before / after;
        }
    }

    // ---------------------------------------------------------------- helpers shared by the sparsifiers

    /** The density of every task vector, in task-vector order. */
    static double[] densities(TensorJob job, TaskVectors tv) {
        double[] d = new double[tv.count()];
        for (int m = 0; m < d.length; m++) {
            d[m] = job.params().number("density", tv.inputs[m]);
        }
        return d;
    }

    /** {@code density} must be in (0, 1]. */
    static void checkDensity(String method, ResolvedParams p, int input, String model, String tensorName) {
        double d = p.number("density", input);
        if (!(d > 0 && d <= 1)) {
            throw new BadInputException(method + ": density of " + model + " is " + d + " for tensor '" + tensorName
                    + "'; expected a value in (0, 1]");
        }
    }

    /**
     * The L1 rescale factors of every task vector whose mask is a pure function of the chunk (random and DELLA
     * masks): one pass summing {@code |τ|} and {@code |masked τ|}, each a float64 sum in index order per chunk: on
     * lanes where that gives the same bits ({@link TaskVectorKernels#absSumLanes}), else in a loop running the sums
     * of two task vectors together, so their additions overlap instead of waiting on each other.
     *
     * @param masked makes task vector {@code m}'s masked chunk
     */
    static double[] l1Factors(TensorJob job, TaskVectors tv, boolean[] active, Mask masked) {
        return l1Factors(job, tv, active, masked, null, null);
    }

    /**
     * A mask that can sum a block's {@code |τ|} and {@code |masked τ|} without making the masked vector (DARE's: the
     * draws are a function of the index): {@code into[0] = s + Σ|τ|}, {@code into[1] = kept + Σ|masked τ|} over
     * {@code [from, to)} of task vector {@code m}, as float64 sums in index order; false, {@code into} untouched,
     * when it cannot give them exactly (then the caller masks and sums as for any mask).
     */
    interface FusedL1 {
        boolean sums(TaskVectors tv, int m, long offset, float[][] in, int from, int to, double[] into, double s,
                double kept);
    }

    /**
     * As {@link #l1Factors(TensorJob, TaskVectors, boolean[], Mask)}, also recording in {@code kept} (when not null)
     * which elements the mask kept, so the output pass replays them instead of drawing (or ranking) again; or, without
     * {@code kept}, taking each block's sums from {@code fused} (when not null) wherever it gives them.
     */
    static double[] l1Factors(TensorJob job, TaskVectors tv, boolean[] active, Mask masked, Kept kept,
            FusedL1 fused) {
        int k = tv.count();
        int[] models = java.util.stream.IntStream.range(0, k).filter(m -> active[m]).toArray();
        int a = models.length;
        double[] sums = job.reduce(new ChunkReducer<double[]>() {
            @Override
            public double[] newState(long offset, int length) {
                return new double[2 * k];
            }

            @Override
            public void accumulate(double[] s, long offset, float[][] in, int n) {
                float[][] scratch = TaskVectors.floats(2 * a, n);
                double[] chunk = new double[2 * a]; // this chunk's sums, |τ| and |masked τ| per active model
                double[] lanes = new double[2 * a];
                double[] four = new double[4];
                TaskVectorKernels.Lanes l1 = TaskVectorKernels.Lanes.L1_SUM;
                double[] pair = new double[2];
                int block = masked.block(offset, n);
                for (int from = 0; from < n; from += block) {
                    int to = Math.min(n, from + block);
                    boolean done = fused != null && kept == null;
                    for (int i = 0; i < a && done; i++) {
                        done = fused.sums(tv, models[i], offset, in, from, to, pair, chunk[2 * i], chunk[2 * i + 1]);
                        lanes[2 * i] = pair[0];
                        lanes[2 * i + 1] = pair[1];
                    }
                    if (done) {
                        System.arraycopy(lanes, 0, chunk, 0, 2 * a);
                        continue;
                    }
                    for (int i = 0; i < a; i++) {
                        masked.sparsify(tv, models[i], offset, in, from, to, scratch[2 * i + 1]);
                        if (kept != null) {
                            TaskVectorKernels.recordKept(scratch[2 * i + 1], from, to, kept.bits(offset, n, models[i]));
                        }
                    }
                    // the sums in blocks (a mask may need the whole chunk at once; the sums never do)
                    for (int s0 = from; s0 < to; s0 += TaskVectorKernels.BLOCK) {
                        int s1 = Math.min(to, s0 + TaskVectorKernels.BLOCK);
                        boolean exact = TaskVectorKernels.VECTOR && l1.warm();
                        if (TaskVectorKernels.VECTOR && !exact && a > 0 && l1.probe(s1 - s0)) {
                            // not compiled yet: time the lanes on a few elements (and throw the result away)
                            long t0 = System.nanoTime();
                            TaskVectorKernels.absSumLanes(in[tv.inputs[models[0]]], in[tv.base], s0,
                                    s0 + TaskVectorKernels.PROBE, 0);
                            l1.probed(System.nanoTime() - t0, TaskVectorKernels.PROBE);
                        }
                        for (int i = 0; i < a && exact; i++) {
                            int m = models[i];
                            lanes[2 * i] = TaskVectorKernels.absSumLanes(in[tv.inputs[m]], in[tv.base], s0, s1,
                                    chunk[2 * i]);
                            lanes[2 * i + 1] = TaskVectorKernels.absSumLanes(scratch[2 * i + 1], null, s0, s1,
                                    chunk[2 * i + 1]);
                            exact = lanes[2 * i] >= 0 && lanes[2 * i + 1] >= 0;
                        }
                        if (exact) {
                            System.arraycopy(lanes, 0, chunk, 0, 2 * a);
                            continue;
                        }
                        // in index order, two task vectors' four sums in one loop
                        for (int i = 0; i < a; i++) {
                            tv.compute(in, models[i], s0, s1, scratch[2 * i]);
                        }
                        int i = 0;
                        for (; i + 1 < a; i += 2) {
                            System.arraycopy(chunk, 2 * i, four, 0, 4);
                            TaskVectorKernels.absSums(scratch[2 * i], scratch[2 * i + 1], scratch[2 * i + 2],
                                    scratch[2 * i + 3], s0, s1, four);
                            System.arraycopy(four, 0, chunk, 2 * i, 4);
                        }
                        if (i < a) {
                            System.arraycopy(chunk, 2 * i, four, 0, 2);
                            TaskVectorKernels.absSums(scratch[2 * i], scratch[2 * i + 1], s0, s1, four);
                            System.arraycopy(four, 0, chunk, 2 * i, 2);
                        }
                    }
                }
                for (int i = 0; i < a; i++) {
                    s[2 * models[i]] += chunk[2 * i];
                    s[2 * models[i] + 1] += chunk[2 * i + 1];
                }
            }

            @Override
            public void combine(double[] into, double[] next) {
                for (int i = 0; i < into.length; i++) {
                    into[i] += next[i];
                }
            }
        });
        double[] f = new double[k];
        for (int m = 0; m < k; m++) {
            f[m] = active[m] ? Rescale.l1(sums[2 * m], sums[2 * m + 1]) : 1;
        }
        return f;
    }

    /**
     * Which elements a mask kept, per chunk and model, recorded by the L1 pass ({@link #l1Factors}): one bit per
     * element ({@code numel/8} bytes per model, at most {@link #MAX_BYTES} per tensor, else none is kept).
     */
    final class Kept {
        /** The most memory a tensor's kept bits may take. */
        static final long MAX_BYTES = 256L << 20;

        private final java.util.concurrent.ConcurrentHashMap<Long, long[][]> chunks =
                new java.util.concurrent.ConcurrentHashMap<>();
        private final int models;

        private Kept(int models) {
            this.models = models;
        }

        /** A store for a tensor's task vectors, or null when the bits would take more than {@link #MAX_BYTES}. */
        static Kept forTensor(TensorJob job, int models) {
            return job.numel() / 8 * models > MAX_BYTES ? null : new Kept(models);
        }

        /** The bits of model {@code m} in the chunk at {@code offset} ({@code n} elements), made on first use. */
        long[] bits(long offset, int n, int m) {
            long[][] c = chunks.computeIfAbsent(offset, o -> new long[models][]);
            if (c[m] == null) {
                c[m] = new long[(n + 63) / 64];
            }
            return c[m];
        }

        /** The recorded bits of model {@code m} in the chunk at {@code offset}, or null. */
        long[] recorded(long offset, int m) {
            long[][] c = chunks.get(offset);
            return c == null ? null : c[m];
        }
    }

    /**
     * {@code mask}, replaying {@code kept} where it recorded the chunk (the L1 pass ran the same mask over the same
     * chunks, so the bits are its decisions): {@code τ} where kept, {@code +0} where dropped, the same values bit for bit.
     */
    static Mask replaying(Mask mask, Kept kept) {
        if (kept == null) {
            return mask;
        }
        return new Mask() {
            @Override
            public int sparsify(TaskVectors tv, int m, long offset, float[][] in, int from, int to, float[] into) {
                long[] bits = kept.recorded(offset, m);
                if (bits == null) {
                    return mask.sparsify(tv, m, offset, in, from, to, into);
                }
                return TaskVectorKernels.keptMask(in[tv.inputs[m]], in[tv.base], into, from, to, bits);
            }

            @Override
            public int block(long offset, int n) {
                return kept.chunks.containsKey(offset) ? TaskVectorKernels.BLOCK : mask.block(offset, n);
            }

            @Override
            public double[] factors(int m) {
                return mask.factors(m);
            }

            @Override
            public boolean hasFactors() {
                return mask.hasFactors();
            }

            @Override
            public double scale(int m) {
                return mask.scale(m);
            }
        };
    }
}
