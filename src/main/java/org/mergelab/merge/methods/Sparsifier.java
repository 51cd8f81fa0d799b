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

    /** Sparsifies task-vector chunks in place. Thread-safe. */
    interface Mask {
        /**
         * Zeroes the dropped elements of task vector {@code m}'s chunk {@code tau[0..n)} (element 0 is flat index
         * {@code offset}) and rescales the kept ones.
         */
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

    /** Multiplies {@code tau[j]} by {@code scale} where {@code keep[j]}, zeroes it elsewhere. */
    static void keepScaled(float[] tau, boolean[] keep, int n, double scale) {
        if (scale == 1) {
            for (int j = 0; j < n; j++) {
                if (!keep[j]) {
                    tau[j] = 0f;
                }
            }
            return;
        }
        for (int j = 0; j < n; j++) {
            tau[j] = keep[j] ? (float) (tau[j] * scale) : 0f;
        }
    }

    /**
     * The L1 rescale factors of every task vector whose mask is a pure function of the chunk (random and DELLA
     * masks): one pass summing {@code |τ|} and {@code |masked τ|}. {@code masked} applies the mask without rescale.
     */
    static double[] l1Factors(TensorJob job, TaskVectors tv, boolean[] active, Mask masked) {
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
