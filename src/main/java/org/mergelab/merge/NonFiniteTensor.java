package org.mergelab.merge;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * An output tensor whose merge read or produced NaN or infinite values: the inputs that held some, and what the merged
 * tensor holds as written.
 *
 * @param inputs only the inputs holding non-finite values, in input order
 */
public record NonFiniteTensor(String tensor, List<Input> inputs, NonFinite output) {
    /**
     * @param index the input's position among the tensor's inputs
     * @param model the input model's folder name
     * @param file the shard holding the tensor
     */
    public record Input(int index, String model, Path file, NonFinite count) {}

    public NonFiniteTensor {
        inputs = List.copyOf(inputs);
    }

    /** All non-finite values read from the inputs. */
    public NonFinite inputTotal() {
        return inputs.stream().map(Input::count).reduce(NonFinite.NONE, NonFinite::plus);
    }

    /** One line: the tensor, then each affected input and the output with their counts. */
    public String describe() {
        List<String> parts = new ArrayList<>();
        inputs.forEach(in -> parts.add("input " + in.model() + " has " + in.count()));
        if (output.any()) {
            // a finite input cannot explain an Inf: the merge itself overflowed (large weights, a narrow output dtype)
            parts.add("the output has " + output + (inputs.isEmpty() ? " (overflow)" : ""));
        }
        return tensor + ": " + String.join("; ", parts);
    }

    /** Warning lines, one per tensor, at most {@code cap} of them plus one saying how many more there are. */
    public static List<String> warnings(List<NonFiniteTensor> tensors, int cap) {
        List<String> lines = tensors.stream().limit(cap).map(t -> "warning: non-finite values in " + t.describe())
                .collect(Collectors.toCollection(ArrayList::new));
        if (tensors.size() > cap) {
            List<NonFiniteTensor> rest = tensors.subList(cap, tensors.size());
            NonFinite in = rest.stream().map(NonFiniteTensor::inputTotal).reduce(NonFinite.NONE, NonFinite::plus);
            NonFinite out = rest.stream().map(NonFiniteTensor::output).reduce(NonFinite.NONE, NonFinite::plus);
            lines.add("warning: and " + rest.size() + " more tensors with non-finite values (inputs " + in
                    + "; outputs " + out + ")");
        }
        return lines;
    }
}
