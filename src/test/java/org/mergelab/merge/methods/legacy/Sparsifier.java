package org.mergelab.merge.methods.legacy;

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
     * Sparsifies task-vector chunks in place and says how to rescale the survivors; the mixing applies the factors in
     * float64, so a rescaled value is never rounded to float32 on the way. Thread-safe.
     */
    interface Mask {
        /**
         * Zeroes the dropped elements of task vector {@code m}'s chunk {@code tau[0..n)} (element 0 is flat index
         * {@code offset}); kept elements keep their values.
         *
         * @return per-element rescale factors of the chunk (this thread's scratch for model {@code m}, valid until
         *     the next call for {@code m}), or null when every element is rescaled by {@link #scale(int) scale(m)}
         */
        double[] apply(int m, long offset, float[] tau, int n);

        /** The rescale factor of task vector {@code m} (1 without rescale). */
        double scale(int m);

        /** No sparsification. */
        Mask NONE = new Mask() {
            @Override
            public double[] apply(int m, long offset, float[] tau, int n) {
                return null;
            }

            @Override
            public double scale(int m) {
                return 1;
            }
        };
    }

    /** Zeroes the dropped elements of a task-vector chunk in place (no rescale). */
    @FunctionalInterface
    interface Drop {
        void apply(int m, long offset, float[] tau, int n);
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

    /** A mask with one rescale factor per task vector. */
    static Mask of(Drop drop, boolean[] active, double[] scale) {
        return new Mask() {
            @Override
            public double[] apply(int m, long offset, float[] tau, int n) {
                if (active[m]) {
                    drop.apply(m, offset, tau, n);
                }
                return null;
            }

            @Override
            public double scale(int m) {
                return scale[m];
            }
        };
    }

    /**
     * The L1 rescale factors of every task vector whose mask is a pure function of the chunk (random and DELLA
     * masks): one pass summing {@code |τ|} and {@code |masked τ|}.
     */
    static double[] l1Factors(TensorJob job, TaskVectors tv, boolean[] active, Drop masked) {
        int k = tv.count();
        double[] sums = job.reduce(new ChunkReducer<double[]>() {
            @Override
            public double[] newState(long offset, int length) {
                return new double[2 * k];
            }

            @Override
            public void accumulate(double[] s, long offset, float[][] in, int n) {
                float[] tau = TaskVectors.floats(1, n)[0];
                for (int m = 0; m < k; m++) {
                    if (!active[m]) {
                        continue;
                    }
                    tv.compute(in, m, n, tau);
                    double before = 0;
                    for (int j = 0; j < n; j++) {
                        before += Math.abs(tau[j]);
                    }
                    masked.apply(m, offset, tau, n);
                    double after = 0;
                    for (int j = 0; j < n; j++) {
                        after += Math.abs(tau[j]);
                    }
                    s[2 * m] += before;
                    s[2 * m + 1] += after;
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
            f[m] = Rescale.l1(sums[2 * m], sums[2 * m + 1]);
        }
        return f;
    }
}
