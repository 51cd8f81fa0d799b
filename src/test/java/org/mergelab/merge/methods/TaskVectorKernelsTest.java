package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mergelab.merge.CounterRandom;

/**
 * Every lane kernel against its scalar twin (and the scalar twins against the plain definitions), bit for bit, on
 * data with ties, zeros of both signs, NaN, infinities and subnormals, over ranges that start and end off the lane
 * boundaries.
 */
class TaskVectorKernelsTest {
    @BeforeAll
    static void compileLanes() {
        TaskVectorKernels.useLanes(true); // compiles them here; the kernels then take their lane paths
    }

    @AfterAll
    static void asInANewJvm() {
        TaskVectorKernels.resetLanes();
    }

    static final float[] SPECIAL = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, Float.intBitsToFloat(0x7fffffff),
        Float.intBitsToFloat(0xffc00001), 1e-30f};

    static float[] data(Random r, int n, boolean specials) {
        float[] x = new float[n];
        for (int j = 0; j < n; j++) {
            x[j] = switch (r.nextInt(specials ? 5 : 4)) {
                case 0 -> (r.nextInt(7) - 3) / 64f; // ties
                case 1 -> LegacyDifferentialTest.bf16(r.nextGaussian() * 0.02);
                case 2 -> (float) (r.nextGaussian() * 0.02);
                case 3 -> 0f;
                default -> SPECIAL[r.nextInt(SPECIAL.length)];
            };
        }
        return x;
    }

    /**
     * The fused task-arithmetic loop against the general one's steps: τ in float32, the sum in float64 started from 0,
     * then {@code b + outer·sum} narrowed; enough repetitions for C2 to compile (and vectorize) the fused loops. NaN
     * payloads are not compared: the general loop's τ came from a vectorized loop too.
     */
    @Test
    void taskSumIsTheGeneralLoopsArithmetic() {
        Random r = new Random(7);
        int n = 1000;
        double[][] coefficients = {{0.5, 0.5, 1}, {1, -1, 0.5}, {0.3, 0.7, 1 / 1.1}, {-0.0, 2, 3}};
        for (int rep = 0; rep < 2000; rep++) {
            float[] b = data(r, n, rep % 2 == 0);
            float[] x0 = data(r, n, rep % 3 == 0);
            float[] x1 = data(r, n, rep % 5 == 0);
            double[] c = coefficients[rep % coefficients.length];
            float[] two = new float[n];
            float[] one = new float[n];
            TaskSum.twoModels(b, x0, c[0], x1, c[1], c[2], two, n);
            TaskSum.oneModel(b, x0, c[0], c[2], one, n);
            for (int j = 0; j < n; j++) {
                float t0 = x0[j] - b[j];
                float t1 = x1[j] - b[j];
                double sum = 0.0 + c[0] * t0;
                float expectOne = (float) (b[j] + c[2] * sum);
                sum += c[1] * t1;
                float expectTwo = (float) (b[j] + c[2] * sum);
                if (!sameValue(two[j], expectTwo) || !sameValue(one[j], expectOne)) {
                    fail("rep " + rep + " element " + j + ": b " + b[j] + " x0 " + x0[j] + " x1 " + x1[j] + " gave "
                            + two[j] + " / " + one[j] + ", expected " + expectTwo + " / " + expectOne);
                }
            }
        }
    }

    /** The same bits, or both NaN (arithmetic on two NaNs keeps either's payload, as the compiled code orders it). */
    static boolean sameValue(float a, float b) {
        return Float.floatToRawIntBits(a) == Float.floatToRawIntBits(b) || (Float.isNaN(a) && Float.isNaN(b));
    }

    /** Keys read straight from stored bf16 are the keys of the decoded values, tails and specials included. */
    @Test
    void keysFromStoredBf16AreTheDecodedKeys() {
        org.junit.jupiter.api.Assumptions.assumeTrue(TaskVectorKernels.VECTOR, "no Vector API shape here");
        Random r = new Random(3);
        int total = 3000;
        java.lang.foreign.MemorySegment[] bf16 = MethodTestSupport.storedBf16(data(r, total, true),
                data(r, total, true));
        for (int[] slice : new int[][] {{0, 0}, {0, 1}, {3, 16}, {17, 33}, {5, 2995}}) {
            int n = slice[1];
            float[] x = new float[n];
            float[] b = new float[n];
            org.mergelab.io.FloatCodec.decode(org.mergelab.io.DType.BF16, bf16[0], slice[0], x, n);
            org.mergelab.io.FloatCodec.decode(org.mergelab.io.DType.BF16, bf16[1], slice[0], b, n);
            int[] expected = new int[n];
            TaskVectorKernels.keysScalar(x, b, expected, 0, n);
            int[] keys = new int[n];
            TaskVectorKernels.keysBf16(bf16[0], bf16[1], slice[0], keys, n);
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, keys, "offset " + slice[0] + " n=" + n);
        }
        assertTrue(TaskVectorKernels.Lanes.KEYS_BF16.runsOrProbes(4096, () -> {}), "lanes compiled in compileLanes()");
    }

    @Test
    void rankMaskLanesMatchScalarAndDefinition() {
        Random r = new Random(1);
        int n = 1000;
        for (int rep = 0; rep < 200; rep++) {
            float[] x = data(r, n, rep % 2 == 0);
            float[] b = data(r, n, rep % 3 == 0);
            int[] cuts = {-1, 0, 1, Float.floatToRawIntBits(1 / 64f), Float.floatToRawIntBits(2 / 64f),
                0x7f800000, Integer.MAX_VALUE - 1, Integer.MAX_VALUE};
            int above = cuts[r.nextInt(cuts.length)];
            int atMost = Math.max(above, cuts[r.nextInt(cuts.length)]);
            int from = r.nextInt(40);
            int to = n - r.nextInt(40);
            float[] lanes = new float[n];
            float[] scalar = new float[n];
            int zl = TaskVectorKernels.rankMask(x, b, lanes, from, to, above, atMost);
            TaskVectorKernels.useLanes(false);
            int zs = TaskVectorKernels.rankMask(x, b, scalar, from, to, above, atMost);
            TaskVectorKernels.useLanes(true);
            int zeroed = 0;
            for (int j = from; j < to; j++) {
                float t = x[j] - b[j];
                int key = Float.floatToRawIntBits(t) & 0x7fffffff;
                boolean keep = key > above && key <= atMost;
                float want = keep ? t : 0f;
                zeroed += !keep && t != 0 ? 1 : 0;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(scalar[j]), "scalar at " + j);
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(lanes[j]), "lanes at " + j);
            }
            assertEquals(zeroed, zs);
            assertEquals(zeroed, zl);
        }
    }

    @Test
    void randomMaskKeepsExactlyCounterRandomsDraws() {
        Random r = new Random(2);
        int n = 777;
        for (int rep = 0; rep < 100; rep++) {
            float[] x = data(r, n, true);
            float[] b = data(r, n, false);
            long key = CounterRandom.key(rep, "layers." + rep + ".w", rep % 3);
            double p = rep % 10 == 0 ? 1.0 : r.nextDouble();
            long first = r.nextInt(1 << 20);
            long limit = (long) Math.ceil(p * 0x1p53);
            int from = r.nextInt(20);
            int to = n - r.nextInt(20);
            float[] lanes = new float[n];
            float[] scalar = new float[n];
            int zl = TaskVectorKernels.randomMask(x, b, lanes, from, to, key, first, limit);
            TaskVectorKernels.useLanes(false);
            int zs = TaskVectorKernels.randomMask(x, b, scalar, from, to, key, first, limit);
            TaskVectorKernels.useLanes(true);
            // the reference: CounterRandom.retain on the task vector
            float[] want = new float[n];
            for (int j = 0; j < n; j++) {
                want[j] = x[j] - b[j];
            }
            float[] sub = java.util.Arrays.copyOfRange(want, from, to);
            CounterRandom.retain(key, first + from, sub, sub.length, p);
            int zeroed = 0;
            for (int j = from; j < to; j++) {
                float w = sub[j - from];
                zeroed += want[j] != 0 && !(CounterRandom.uniform(key, first + j) < p) ? 1 : 0;
                assertEquals(Float.floatToRawIntBits(w), Float.floatToRawIntBits(scalar[j]), "scalar at " + j);
                assertEquals(Float.floatToRawIntBits(w), Float.floatToRawIntBits(lanes[j]), "lanes at " + j);
            }
            assertEquals(zeroed, zs);
            assertEquals(zeroed, zl);
        }
    }

    @Test
    void nonzeroKeysAndLowHalves() {
        Random r = new Random(3);
        for (int rep = 0; rep < 100; rep++) {
            int n = 1 + r.nextInt(3000);
            float[] x = data(r, n, true);
            float[] b = data(r, n, true);
            int from = r.nextInt(Math.min(n, 20));
            int want = 0;
            for (int j = from; j < n; j++) {
                want += x[j] != 0 ? 1 : 0;
            }
            assertEquals(want, TaskVectorKernels.nonzero(x, from, n));
            int[] keys = new int[n];
            TaskVectorKernels.keys(x, b, keys, n);
            for (int j = 0; j < n; j++) {
                assertEquals(TaskVectors.magnitudeKey(x[j] - b[j]), keys[j]);
            }
            int bucket = keys[r.nextInt(n)] >>> 16;
            int[] found = new int[n + 16];
            int count = TaskVectorKernels.lowHalves(keys, n, bucket, found);
            int c = 0;
            for (int j = 0; j < n; j++) {
                if (keys[j] >>> 16 == bucket) {
                    assertEquals(keys[j] & 0xffff, found[c++]);
                }
            }
            assertEquals(c, count);
            int lo = Math.max(0, keys[r.nextInt(n)] - r.nextInt(1 << 20));
            int hi = (int) Math.min(Integer.MAX_VALUE, (long) lo + r.nextInt(1 << 24)); // windows are in [0, 2^31)
            count = WindowSelection.inside(keys, n, lo, hi, found);
            c = 0;
            long above = 0;
            for (int j = 0; j < n; j++) {
                if (keys[j] >= lo && keys[j] <= hi) {
                    assertEquals(keys[j], found[c++]);
                }
                above += keys[j] > hi ? 1 : 0;
            }
            assertEquals(c, count);
            assertEquals(above, WindowSelection.countAbove(keys, n, hi));
        }
    }

    /** Whenever the lanes give an L1 sum, it is the index-order float64 sum, bit for bit. */
    @Test
    void laneL1SumsAreTheIndexOrderSumsWhenGiven() {
        Random r = new Random(4);
        int given = 0;
        for (int rep = 0; rep < 400; rep++) {
            int n = 1 + r.nextInt(5000);
            float[] x = new float[n];
            float[] b = new float[n];
            int kind = rep % 4;
            for (int j = 0; j < n; j++) {
                b[j] = LegacyDifferentialTest.bf16(r.nextGaussian() * 0.02);
                x[j] = switch (kind) {
                    case 0 -> LegacyDifferentialTest.bf16(b[j] + r.nextGaussian() * 1e-3); // bf16 fine-tune
                    case 1 -> b[j] + (float) (r.nextGaussian() * 1e-3); // float32
                    case 2 -> r.nextInt(50) == 0 ? SPECIAL[r.nextInt(SPECIAL.length)] : b[j] + 1 / 64f;
                    default -> (float) Math.scalb(r.nextDouble(), -r.nextInt(140)); // many binades, subnormals
                };
            }
            double s = switch (rep % 3) {
                case 0 -> 0;
                case 1 -> 0.75;
                default -> r.nextDouble() * 100;
            };
            float[] use = rep % 2 == 0 ? b : null;
            double want = s;
            for (int j = 0; j < n; j++) {
                want += Math.abs(use == null ? x[j] : x[j] - use[j]);
            }
            double lanes = TaskVectorKernels.absSumLanes(x, use, 0, n, s);
            if (lanes >= 0) {
                given++;
                assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(lanes),
                        "kind " + kind + " n " + n + ": " + want + " vs " + lanes);
            } else {
                assertTrue(lanes == -1);
            }
        }
        assertTrue(given > 100, "the lanes applied to only " + given + " of 400 sums");
    }

    /**
     * DARE's fused L1 sums: where the lanes answer, both sums have the bits of the index-order float64 sums of
     * {@code |τ|} and of {@link TaskVectorKernels#randomMask}'s output (from any start {@code s}); they answer for bf16
     * task vectors, and decline (untouched sums) for values whose sums round.
     */
    @Test
    void fusedDareL1SumsAreTheIndexOrderSums() {
        Random r = new Random(11);
        int given = 0;
        for (int rep = 0; rep < 300; rep++) {
            int n = 1 + r.nextInt(3000);
            float[] x = new float[n];
            float[] b = new float[n];
            for (int j = 0; j < n; j++) {
                b[j] = LegacyDifferentialTest.bf16(r.nextGaussian() * 0.02);
                x[j] = switch (rep % 4) {
                    case 0, 1 -> LegacyDifferentialTest.bf16(b[j] + r.nextGaussian() * 1e-3); // a fine-tune
                    case 2 -> r.nextInt(5) == 0 ? b[j] : LegacyDifferentialTest.bf16(b[j] + r.nextGaussian());
                    default -> (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(60) - 30)); // sums that round
                };
            }
            int from = r.nextInt(Math.min(n, 20));
            int to = n - r.nextInt(Math.min(n - from, 20) + 1);
            long key = r.nextLong();
            long first = r.nextInt(1 << 20);
            long limit = (long) Math.ceil(r.nextDouble() * 0x1p53);
            double s = rep % 3 == 0 ? 0 : Math.scalb(r.nextInt(1 << 20), -r.nextInt(40));
            double kept = rep % 3 == 0 ? 0 : Math.scalb(r.nextInt(1 << 20), -r.nextInt(40));
            float[] masked = new float[n];
            TaskVectorKernels.useLanes(false);
            TaskVectorKernels.randomMask(x, b, masked, from, to, key, first, limit);
            TaskVectorKernels.useLanes(true);
            double wantAll = s;
            double wantKept = kept;
            for (int j = from; j < to; j++) {
                wantAll += Math.abs(x[j] - b[j]);
                wantKept += Math.abs(masked[j]);
            }
            double[] sums = {-7, -7};
            if (TaskVectorKernels.randomMaskAbsSums(x, b, from, to, key, first, limit, sums, s, kept)) {
                given++;
                assertEquals(Double.doubleToRawLongBits(wantAll), Double.doubleToRawLongBits(sums[0]), "all, " + rep);
                assertEquals(Double.doubleToRawLongBits(wantKept), Double.doubleToRawLongBits(sums[1]),
                        "kept, " + rep);
            } else {
                assertEquals(-7, sums[0]);
                assertEquals(-7, sums[1]);
                assertTrue(rep % 4 == 3 || TaskVectorKernels.VECTOR == false, "declined a bf16 task vector, " + rep);
            }
        }
        if (TaskVectorKernels.VECTOR) {
            assertTrue(given > 200, "the lanes answered " + given + " of 300");
        }
    }

    /** The bf16 task vectors of a real-shaped merge: the lanes apply to (nearly) every block. */
    @Test
    void laneL1SumsApplyToBf16TaskVectors() {
        Random r = new Random(5);
        int n = 1 << 18;
        float[] x = new float[n];
        float[] b = new float[n];
        for (int j = 0; j < n; j++) {
            b[j] = LegacyDifferentialTest.bf16(r.nextGaussian() * 0.02);
            x[j] = LegacyDifferentialTest.bf16(b[j] + r.nextGaussian() * 1e-3);
        }
        double s = 0;
        int exact = 0;
        int blocks = 0;
        for (int from = 0; from < n; from += TaskVectorKernels.BLOCK) {
            double next = TaskVectorKernels.absSumLanes(x, b, from, from + TaskVectorKernels.BLOCK, s);
            blocks++;
            if (next >= 0) {
                exact++;
                s = next;
            } else {
                for (int j = from; j < from + TaskVectorKernels.BLOCK; j++) {
                    s += Math.abs(x[j] - b[j]);
                }
            }
        }
        assertTrue(exact >= blocks * 9 / 10, exact + " of " + blocks + " blocks");
    }

    private static final double[] POWERS = {0.25, 0.5, 1, 2, 0x1p-1000};

    @Test
    void mixLanesMatchTheScalarMix() {
        Random r = new Random(6);
        int n = 523;
        for (int rep = 0; rep < 300; rep++) {
            int k = 1 + rep % 4;
            float[][] tau = new float[k][];
            double[][] factors = new double[k][];
            double[] a = new double[k];
            double[] g = new double[k];
            double[] h = new double[k];
            for (int m = 0; m < k; m++) {
                tau[m] = data(r, n, rep % 5 == 0);
                if (r.nextInt(3) == 0) {
                    factors[m] = new double[n];
                    for (int j = 0; j < n; j++) {
                        factors[m][j] = r.nextInt(4) == 0 ? 0 : 1 / (0.2 + r.nextDouble());
                    }
                }
                a[m] = r.nextInt(6) == 0 ? -0.4 : r.nextDouble();
                g[m] = rep % 2 == 0 ? 1 : r.nextDouble();
                h[m] = r.nextInt(6) == 0 ? -a[m] : a[m];
                if (rep % 5 == 1) {
                    h[m] = POWERS[rep / 5 % POWERS.length]; // equal powers of two: mixTwoLanes's reciprocals
                } else if (rep % 5 == 2) {
                    h[m] = POWERS[r.nextInt(POWERS.length)];
                }
            }
            float[] b = data(r, n, rep % 7 == 0);
            SignConsensus vote = rep % 3 == 0 ? SignConsensus.COUNT : SignConsensus.SUM;
            SignConsensus.Divide divide = SignConsensus.Divide.values()[r.nextInt(3)];
            double lambda = rep % 4 == 0 ? 1 : 0.5 + r.nextDouble();
            int from = r.nextInt(30);
            int to = n - r.nextInt(30);
            float[] lanes = new float[n];
            float[] scalar = new float[n];
            vote.mix(tau, factors, k, a, g, h, divide, lambda, b, lanes, from, to);
            vote.mixScalar(tau, factors, k, a, g, h, divide, lambda, b, scalar, from, to);
            float[] reference = reference(vote, tau, factors, k, a, g, h, divide, lambda, b, from, to);
            if (k == 2 && factors[0] == null && factors[1] == null) {
                float[] two = new float[n];
                vote.mixTwoScalar(tau[0], tau[1], a[0], a[1], g[0], g[1], h[0], h[1], divide, lambda, b, two, from,
                        to);
                for (int j = from; j < to; j++) {
                    assertEquals(Float.floatToIntBits(reference[j]), Float.floatToIntBits(two[j]), "two at " + j);
                }
            }
            for (int j = from; j < to; j++) {
                if (Float.floatToIntBits(reference[j]) != Float.floatToIntBits(scalar[j])
                        || Float.floatToIntBits(reference[j]) != Float.floatToIntBits(lanes[j])) {
                    fail(vote + " " + divide + " k " + k + " at " + j + ": reference " + reference[j] + ", scalar "
                            + scalar[j] + ", lanes " + lanes[j]);
                }
            }
        }
    }

    /** The mix as it was written before it was made branch-free (the branches say what it means). */
    static float[] reference(SignConsensus vote, float[][] tau, double[][] factors, int k, double[] a, double[] g,
            double[] h, SignConsensus.Divide divide, double lambda, float[] b, int from, int to) {
        float[] out = new float[b.length];
        for (int j = from; j < to; j++) {
            double sum = 0;
            for (int m = 0; m < k; m++) {
                double v = factors[m] == null ? tau[m][j] * a[m] : (factors[m][j] * a[m]) * tau[m][j];
                sum += vote == SignConsensus.SUM ? v : (v > 0 ? 1 : 0) - (v < 0 ? 1 : 0);
            }
            double sign = sum < 0 ? -1 : 1;
            double mixed = 0;
            double divisor = 0;
            for (int m = 0; m < k; m++) {
                double v = factors[m] == null ? tau[m][j] * a[m] : (factors[m][j] * a[m]) * tau[m][j];
                if (v * sign > 0) {
                    mixed += v * g[m];
                    divisor += h[m];
                }
            }
            double result = switch (divide) {
                case NO -> mixed * lambda;
                case ZERO_AS_ONE -> mixed / (divisor == 0 ? 1 : divisor) * lambda;
                case AT_LEAST_1E6 -> mixed / Math.max(divisor, 1e-6) * lambda;
            };
            out[j] = (float) (b[j] + result);
        }
        return out;
    }

    @Test
    void branchFreeHelpersAgreeWithComparisons() {
        double[] values = {0.0, -0.0, 1.5, -1.5, Double.MIN_VALUE, -Double.MIN_VALUE, Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY, Double.NaN, Double.longBitsToDouble(0xfff8000000000001L), Double.MAX_VALUE};
        for (double v : values) {
            long bits = Double.doubleToRawLongBits(v);
            assertEquals(v < 0 ? 1 : 0, SignConsensus.negative(bits), "negative " + v);
            assertEquals((v > 0 ? 1 : 0) - (v < 0 ? 1 : 0), SignConsensus.signum(bits), "signum " + v);
            assertEquals(v != 0 && !Double.isNaN(v) ? 1 : 0, SignConsensus.nonzeroNumber(bits), "nonzero " + v);
            assertEquals(Double.doubleToRawLongBits(v == 0 ? 1 : v),
                    Double.doubleToRawLongBits(SignConsensus.oneIfZero(v)), "oneIfZero " + v);
        }
    }

    /**
     * DELLA's rows decided from key buckets, without sorting, on the lanes and in scalar code: the same elements kept
     * as with the sort.
     */
    @Test
    void dellaRowsWithoutSortingMatchTheSort() {
        Random r = new Random(7);
        for (int rep = 0; rep < 300; rep++) {
            int len = 2 + r.nextInt(rep % 10 == 0 ? 6000 : 300);
            int rows = 1 + r.nextInt(4);
            int n = len * rows;
            float[] tau = new float[n];
            int kind = rep % 6;
            for (int j = 0; j < n; j++) {
                tau[j] = switch (kind) {
                    case 0 -> r.nextInt(5) == 0 ? 0f : LegacyDifferentialTest.bf16(r.nextGaussian() * 1e-3);
                    case 1 -> r.nextInt(4) / 64f; // few magnitudes: buckets of equal keys
                    case 2 -> r.nextInt(3) == 0 ? 0f : (float) (r.nextGaussian() * 1e-3);
                    case 3 -> rep % 2 == 0 ? 7f : r.nextInt(3) == 0 ? Float.MIN_VALUE : 0f; // all equal, or tiny
                    // distinct keys in one bucket (one bf16 value): too many to rank, the row goes to the sort
                    case 4 -> 1f + r.nextInt(1 << 16) * 0x1p-23f;
                    default -> SPECIAL[r.nextInt(SPECIAL.length)] * (r.nextBoolean() ? 1 : 1e-3f);
                };
            }
            double density = 0.2 + 0.6 * r.nextDouble();
            double eps = Math.min(density, 1 - density) * r.nextDouble() * 0.99;
            long key = r.nextLong();
            long offset = (long) r.nextInt(1000) * len;
            float[] sorted = tau.clone();
            float[] bucketed = tau.clone();
            DellaMagPrune.fast = false;
            try {
                DellaMagPrune.prune(sorted, offset, n, len, density, eps, key, null, "w");
            } finally {
                DellaMagPrune.fast = true;
            }
            DellaMagPrune.prune(bucketed, offset, n, len, density, eps, key, null, "w");
            float[] scalar = tau.clone();
            TaskVectorKernels.useLanes(false);
            try {
                DellaMagPrune.prune(scalar, offset, n, len, density, eps, key, null, "w");
            } finally {
                TaskVectorKernels.useLanes(true);
            }
            for (int j = 0; j < n; j++) {
                assertEquals(Float.floatToRawIntBits(sorted[j]), Float.floatToRawIntBits(bucketed[j]),
                        "kind " + kind + " len " + len + " at " + j);
                assertEquals(Float.floatToRawIntBits(sorted[j]), Float.floatToRawIntBits(scalar[j]),
                        "scalar loops, kind " + kind + " len " + len + " at " + j);
            }
        }
    }

    /**
     * Rows like a weight matrix's task vector (normal values, or the few distinct values of a bf16 fine-tune's, and a
     * share of them exactly zero: weights a fine-tune left unchanged) are decided from buckets, not sorted, and the kept
     * elements are the sort's.
     */
    @Test
    void dellaDecidesTypicalRowsWithoutTheSort() {
        Random r = new Random(9);
        for (int rep = 0; rep < 40; rep++) {
            int len = rep % 2 == 0 ? 2048 : 5632;
            double zeros = rep % 4 < 2 ? 0 : 0.2;
            boolean fewValues = rep % 8 >= 4;
            float[] tau = new float[len];
            for (int j = 0; j < len; j++) {
                // a bf16 fine-tune's task vector: the difference of two bf16 weights, a few bf16 steps of the base's
                // binade, so few distinct values (buckets of one key); or any normal values
                float base = LegacyDifferentialTest.bf16(r.nextGaussian() * 0.02);
                float ft = Float.intBitsToFloat(Float.floatToRawIntBits(base) + ((r.nextInt(7) - 3) << 16));
                float any = LegacyDifferentialTest.bf16(r.nextGaussian() * 1e-3);
                tau[j] = r.nextDouble() < zeros ? 0f : fewValues ? ft - base : any;
            }
            double density = 0.3 + 0.4 * r.nextDouble();
            long key = r.nextLong();
            float[] bucketed = tau.clone();
            assertTrue(DellaMagPrune.pruneRow(bucketed, 0, len, 7L * len, density, 0.15, key,
                    DellaMagPrune.RowScratch.of(len)), "decided without sorting, zeros " + zeros + ", few values " + fewValues);
            float[] sorted = tau.clone();
            DellaMagPrune.fast = false;
            try {
                DellaMagPrune.prune(sorted, 7L * len, len, len, density, 0.15, key, null, "w");
            } finally {
                DellaMagPrune.fast = true;
            }
            for (int j = 0; j < len; j++) {
                assertEquals(Float.floatToRawIntBits(sorted[j]), Float.floatToRawIntBits(bucketed[j]), "at " + j);
            }
        }
    }

    /**
     * DELLA's decisions from packed bucket bounds, whose rounding to 2²² leaves a band of draws undecided: a draw just
     * below its bound (kept) or at it (dropped) must come out listed as undecided or decided the exact way, never the
     * other, on the lanes (a row longer than the gathered block) and in scalar code. Rounding either bound the wrong way
     * decides such a draw wrongly.
     */
    @Test
    void dellaDecisionsNearTheirBoundsAreExactOrLeftUndecided() {
        Random r = new Random(10);
        for (boolean lanes : new boolean[] {true, false}) {
            int len = DellaRowKernels.GATHERED + 2 * TaskVectorKernels.PROBE + 5; // two blocks and a scalar tail
            long key = r.nextLong();
            long first = r.nextInt(1 << 20);
            int[] count = new int[len];
            int[] bucketOf = new int[len];
            long[] limits = new long[len];
            float[] tau = new float[len];
            for (int i = 0; i < len; i++) {
                count[i] = 1; // bucket i holds element i alone, at rank i
                bucketOf[i] = i;
                long m = CounterRandom.draw(key, first + i);
                limits[i] = i % 2 == 0 ? m + 1 : m; // kept just, or dropped just
                tau[i] = 1f + i;
            }
            long[] bounds = new long[len];
            DellaRowKernels.bounds(count, len, limits, bounds);
            int[] undecided = new int[len + TaskVectorKernels.IL.length()];
            int u = DellaRowKernels.decide(tau, 0, len, bucketOf, key, first, bounds, undecided,
                    new long[DellaRowKernels.GATHERED], lanes);
            java.util.Set<Integer> listed = new java.util.HashSet<>();
            for (int q = 0; q < u; q++) {
                listed.add(undecided[q]);
            }
            for (int i = 0; i < len; i++) {
                boolean kept = tau[i] != 0f;
                if (!listed.contains(i)) {
                    assertEquals(i % 2 == 0, kept, "lanes " + lanes + ", element " + i + " decided wrongly");
                } else {
                    assertTrue(kept, "an undecided element stays until ranked");
                }
            }
            assertTrue(u > len / 2, "most are left undecided: " + u);
        }
    }

    /** Recorded kept bits give a mask's output back exactly, and count what it zeroed. */
    @Test
    void keptBitsReplayAMask() {
        Random r = new Random(8);
        for (int rep = 0; rep < 100; rep++) {
            int n = 64 + r.nextInt(5000);
            float[] x = data(r, n, true);
            float[] b = data(r, n, true);
            float[] masked = new float[n];
            int from = 64 * r.nextInt(3);
            int zeroed = TaskVectorKernels.randomMask(x, b, masked, from, n, r.nextLong(), r.nextInt(1000),
                    (long) (r.nextDouble() * 0x1p53));
            long[] bits = new long[(n + 63) / 64];
            java.util.Arrays.fill(bits, -1L);
            TaskVectorKernels.recordKept(masked, from, n, bits);
            float[] again = new float[n];
            assertEquals(zeroed, TaskVectorKernels.keptMask(x, b, again, from, n, bits));
            for (int j = from; j < n; j++) {
                assertEquals(Float.floatToRawIntBits(masked[j]), Float.floatToRawIntBits(again[j]), "at " + j);
            }
            TaskVectorKernels.useLanes(false);
            float[] scalar = new float[n];
            long[] scalarBits = new long[bits.length];
            TaskVectorKernels.recordKept(masked, from, n, scalarBits);
            for (int w = from / 64; w < bits.length; w++) {
                long valid = n - 64L * w >= 64 ? -1L : (1L << (n - 64 * w)) - 1; // bits past n are not the kernel's
                assertEquals(bits[w] & valid, scalarBits[w] & valid, "word " + w);
            }
            assertEquals(zeroed, TaskVectorKernels.keptMask(x, b, scalar, from, n, bits));
            TaskVectorKernels.useLanes(true);
            for (int j = from; j < n; j++) {
                assertEquals(Float.floatToRawIntBits(masked[j]), Float.floatToRawIntBits(scalar[j]), "at " + j);
            }
            long key = r.nextLong();
            for (int j = 0; j < n; j++) {
                assertEquals(CounterRandom.uniform(key, 77 + j), CounterRandom.draw(key, 77 + j) * 0x1.0p-53);
            }
        }
    }
}
