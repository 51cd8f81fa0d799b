package org.mergelab.experiment;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;
import org.mergelab.merge.methods.MethodRegistry;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;

/**
 * One merge cell as the mergekit config {@code mergelab merge} would read, so a cell merges exactly as that command
 * does: absolute model paths, per-model parameters under each model, global ones under {@code parameters:}.
 *
 * @param yaml the config text
 * @param inputs the aliases of the engine's inputs, in input order (the base listed explicitly)
 * @param baseInput the index in {@code inputs} of the merge's base, else 0 (the first model stands in for norms)
 */
public record MergekitConfig(String yaml, List<String> inputs, int baseInput) {
    /**
     * @param values the cell's value of each parameter axis
     * @param paths model folders by alias
     */
    static MergekitConfig of(ExperimentSpec.Merge merge, Map<ExperimentSpec.ParamAxis, Object> values,
            Map<String, Path> paths) {
        boolean lerp = merge.method().equals(ExperimentSpec.Merge.LERP);
        List<String> inputs = new ArrayList<>();
        if (lerp) {
            inputs.add(merge.base());
        }
        merge.models().stream().filter(a -> !inputs.contains(a)).forEach(inputs::add);
        if (merge.base() != null && !inputs.contains(merge.base())) {
            inputs.add(merge.base()); // where mergelab merge would append it
        }
        Map<String, Map<String, Object>> perModel = new LinkedHashMap<>();
        inputs.forEach(a -> perModel.put(a, new LinkedHashMap<>()));
        Map<String, Object> global = new LinkedHashMap<>();
        MergeMethod method;
        if (lerp) {
            method = MethodRegistry.find("linear").orElseThrow();
            BigDecimal t = BigDecimal.valueOf(((Number) values.values().iterator().next()).doubleValue());
            perModel.get(inputs.get(0)).put("weight", BigDecimal.ONE.subtract(t).doubleValue());
            perModel.get(inputs.get(1)).put("weight", t.doubleValue());
        } else {
            method = MethodRegistry.find(merge.method()).orElseThrow();
            values.forEach((axis, value) -> {
                if (scope(method, axis.name()) == ParamSpec.Scope.GLOBAL) {
                    global.put(axis.name(), value);
                } else if (axis.model() != null) {
                    perModel.get(axis.model()).put(axis.name(), value);
                } else {
                    for (String a : inputs) {
                        if (!a.equals(merge.base()) || method.baseRole() == MergeMethod.BaseRole.ORDINARY) {
                            perModel.get(a).put(axis.name(), value);
                        }
                    }
                }
            });
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("merge_method", method.name());
        if (merge.base() != null) {
            root.put("base_model", paths.get(merge.base()).toString());
        }
        List<Map<String, Object>> models = new ArrayList<>();
        for (String a : inputs) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("model", paths.get(a).toString());
            if (!perModel.get(a).isEmpty()) {
                entry.put("parameters", perModel.get(a));
            }
            models.add(entry);
        }
        root.put("models", models);
        if (!global.isEmpty()) {
            root.put("parameters", global);
        }
        if (merge.dtype() != null) {
            root.put("dtype", merge.dtype());
        }
        int base = merge.base() == null ? 0 : inputs.indexOf(merge.base());
        // a Dump keeps state while it writes: one per config
        String yaml = new Dump(DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).build()).dumpToString(root);
        return new MergekitConfig(yaml, List.copyOf(inputs), base);
    }

    private static ParamSpec.Scope scope(MergeMethod method, String param) {
        return method.params().stream().filter(p -> p.name().equals(param)).findFirst().orElseThrow().scope();
    }
}
