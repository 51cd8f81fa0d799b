package org.mergelab.merge.methods.legacy;

import org.mergelab.merge.ResolvedParams;

/**
 * TIES trim (mergekit's {@code magnitude}): keep the {@code k = floor(density·numel)} largest {@code |τ|}; among equal
 * magnitudes at the threshold the lower flat index wins. MergeLab: {@code k = 0} (a tiny tensor at a low density)
 * keeps nothing, where mergekit fails an assertion; density outside (0, 1] is a config error.
 */
final class MagnitudeTrim extends MagnitudeRankSparsifier {
    @Override
    public void check(String method, ResolvedParams p, int input, String model, String tensorName) {
        Sparsifier.checkDensity(method, p, input, model, tensorName);
    }

    @Override
    long[] keptRanks(double density, ResolvedParams p, int input, long numel) {
        return new long[] {0, (long) Math.floor(density * numel)};
    }
}
