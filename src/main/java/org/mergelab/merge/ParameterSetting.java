package org.mergelab.merge;

import java.util.List;
import java.util.Optional;

/**
 * A parameter value as mergekit configs write it: a scalar, a gradient (list of numbers interpolated over the layers),
 * a step list of non-numeric values, or conditionals keyed by a tensor-name filter.
 */
public sealed interface ParameterSetting {

    /**
     * Resolves the value for one tensor.
     *
     * @param tensorName the tensor the value is for (filters are substring tests on it)
     * @param layerT position in [0, 1] of the tensor's layer within its slice; 0 for non-layer tensors
     * @return the value (a Double, Boolean or String), or empty when no conditional matched
     */
    Optional<Object> resolve(String tensorName, double layerT);

    record Scalar(Object value) implements ParameterSetting {
        @Override
        public Optional<Object> resolve(String tensorName, double layerT) {
            return Optional.of(value);
        }
    }

    /** Piecewise-linear between evenly spaced anchors: s = t·(K−1), value = (1−f)·g[⌊s⌋] + f·g[⌊s⌋+1]. */
    record Gradient(double[] anchors) implements ParameterSetting {
        public Gradient {
            anchors = anchors.clone();
        }

        @Override
        public Optional<Object> resolve(String tensorName, double layerT) {
            int k = anchors.length;
            if (k == 1) {
                return Optional.of(anchors[0]);
            }
            double s = layerT * (k - 1);
            int i0 = Math.max(0, Math.min(k - 1, (int) Math.floor(s)));
            int i1 = Math.min(k - 1, i0 + 1);
            double f = s - i0;
            return Optional.of((1 - f) * anchors[i0] + f * anchors[i1]);
        }
    }

    /** A list of non-numeric values: a step function, value = g[⌊t·(K−1)⌋]. */
    record Steps(List<Object> values) implements ParameterSetting {
        @Override
        public Optional<Object> resolve(String tensorName, double layerT) {
            int i = (int) Math.floor(layerT * (values.size() - 1));
            return Optional.of(values.get(Math.max(0, Math.min(values.size() - 1, i))));
        }
    }

    /** {@code filter} null or "*" matches every tensor; otherwise a substring test on the tensor name. */
    record Conditional(String filter, ParameterSetting value) {
        boolean matches(String tensorName) {
            return filter == null || filter.equals("*") || tensorName.contains(filter);
        }
    }

    /** First matching conditional wins; no match leaves the parameter unset at this level. */
    record Conditionals(List<Conditional> cases) implements ParameterSetting {
        @Override
        public Optional<Object> resolve(String tensorName, double layerT) {
            for (Conditional c : cases) {
                if (c.matches(tensorName)) {
                    return c.value().resolve(tensorName, layerT);
                }
            }
            return Optional.empty();
        }
    }
}
