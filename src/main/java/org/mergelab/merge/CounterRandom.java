package org.mergelab.merge;

import java.nio.charset.StandardCharsets;

/**
 * Counter-based randomness for random merge methods (DARE, DELLA): a draw is a pure function of
 * (seed, tensor name, model index, element index), so output bytes are the same for any thread count, chunk size or
 * processing order. The mixer is SplitMix64's finaliser, applied twice over the combined key.
 */
public final class CounterRandom {
    private CounterRandom() {}

    /** The stream key of one model's task vector in one tensor; compute once per tensor and model. */
    public static long key(long seed, String tensorName, int model) {
        long h = 0xcbf29ce484222325L; // FNV-1a over the name's UTF-8 bytes
        for (byte b : tensorName.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix(mix(seed ^ 0x9E3779B97F4A7C15L) ^ h) + model * 0xD1B54A32D192ED03L;
    }

    /** Uniform in [0, 1) for element {@code element} of the stream {@code key}. */
    public static double uniform(long key, long element) {
        return (mix(key + element * 0x9E3779B97F4A7C15L) >>> 11) * 0x1.0p-53;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
