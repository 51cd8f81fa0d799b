package org.mergelab.merge.methods.legacy;

import java.util.List;

import org.mergelab.BadInputException;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.ResolvedParams;

/**
 * Model Breadcrumbs (mergekit's {@code magnitude_outliers}): drop the {@code n_top = floor(gamma·N)} largest
 * {@code |τ|} as outliers and the smallest ones, keeping {@code floor(density·N)}. With
 * {@code n_bot = N − floor(density·N) − n_top} (when negative, {@code n_top += n_bot} and {@code n_bot = 0}), the
 * kept elements are ascending-magnitude positions {@code [n_bot, N − n_top)}, i.e. descending ranks
 * {@code [n_top, N − n_bot)}.
 *
 * <p>MergeLab decision: that range is kept as documented even when {@code n_top = 0} ({@code gamma: 0}, or any tensor
 * under 100 elements at the default gamma), where mergekit's negative slice end empties the range and zeroes the
 * whole task vector.
 */
final class MagnitudeOutliers extends MagnitudeRankSparsifier {
    @Override
    public List<ParamSpec> extraParams() {
        return List.of(ParamSpec.perModel("gamma", ParamSpec.Kind.NUMBER, 0.01));
    }

    @Override
    public void check(String method, ResolvedParams p, int input, String model, String tensorName) {
        Sparsifier.checkDensity(method, p, input, model, tensorName);
        double gamma = p.number("gamma", input);
        if (!(gamma >= 0 && gamma <= 1)) {
            throw new BadInputException(method + ": gamma of " + model + " is " + gamma + " for tensor '"
                    + tensorName + "'; expected a value in [0, 1]");
        }
    }

    @Override
    long[] keptRanks(double density, ResolvedParams p, int input, long numel) {
        long target = (long) Math.floor(density * numel);
        long top = (long) Math.floor(p.number("gamma", input) * numel);
        long bottom = numel - target - top;
        if (bottom < 0) {
            top += bottom;
            bottom = 0;
        }
        return new long[] {top, numel - bottom};
    }
}
