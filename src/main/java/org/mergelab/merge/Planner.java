package org.mergelab.merge;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.mergelab.BadInputException;
import org.mergelab.io.DType;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.io.OutTensor;
import org.mergelab.merge.methods.MethodRegistry;

/**
 * Turns a config into a {@link MergePlan}. Two stages, both before any tensor data is read: {@link #check} needs only
 * the config (method, model sets, parameter names and types); {@link #plan} adds the opened models (layer ranges,
 * tensor sets, shapes, per-tensor parameter values).
 *
 * <p>Both config forms become slices, as in mergekit: {@code models:} is one slice whose sources are the models (the
 * base appended when not listed) over all their layers; {@code slices:} stacks output layers slice after slice.
 */
public final class Planner {
    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)(?:layers|h|blocks|layer)\\.(\\d+)\\.");

    private Planner() {}

    /**
     * A slice source after checking.
     *
     * @param model index into {@link Checked#paths()}
     * @param start first layer, or -1 for "all layers" ({@code models:} form)
     * @param where the config key, for messages ({@code models[1]}, {@code slices[0].sources[2]})
     * @param appendedBase whether this is a base model that the config did not list among the models
     */
    public record Source(int model, String name, int start, int end, Map<String, ParameterSetting> params,
            String where, boolean appendedBase) {
        boolean allLayers() {
            return start < 0;
        }
    }

    /**
     * An output slice after checking: its sources, which one is the base (-1: none), its own parameters, and the
     * model set the method was checked against.
     */
    public record Slice(List<Source> sources, int base, Map<String, ParameterSetting> params, String where,
            MergeMethod.ModelSet models) {}

    /**
     * The config's method and model sets, checked without touching any model.
     *
     * @param models every distinct model, with the global base (used for the donor and {@code tokenizer_source})
     * @param paths the distinct models' folders, in the order of {@code models}
     */
    public record Checked(MergeConfig config, MergeMethod method, MergeMethod.ModelSet models, List<Path> paths,
            List<Slice> slices, List<String> warnings) {}

    public static Checked check(MergeConfig cfg) {
        Path file = cfg.file();
        MergeMethod method = MethodRegistry.find(cfg.method()).orElseThrow(() -> new BadInputException(file
                + ": unknown merge_method '" + cfg.method() + "'; expected one of " + MethodRegistry.names()));
        List<String> names = new ArrayList<>();
        List<Path> paths = new ArrayList<>();
        List<Slice> slices = new ArrayList<>();
        if (cfg.usesSlices()) {
            for (int s = 0; s < cfg.slices().size(); s++) {
                slices.add(checkSlice(cfg, method, s, names, paths));
            }
        } else {
            slices.add(checkModelsForm(cfg, method, names, paths));
        }
        int globalBase = cfg.baseModel() == null ? -1 : indexOf(cfg.baseModel(), names, paths);
        List<String> warnings = new ArrayList<>(cfg.warnings());
        ParameterResolver.checkNames(cfg, method, slices, warnings);
        return new Checked(cfg, method, new MergeMethod.ModelSet(List.copyOf(names), globalBase), List.copyOf(paths),
                List.copyOf(slices), List.copyOf(warnings));
    }

    /** The distinct-model index of {@code name}, adding it when new. */
    private static int indexOf(String name, List<String> names, List<Path> paths) {
        Path p = Path.of(name).toAbsolutePath().normalize();
        int i = paths.indexOf(p);
        if (i < 0) {
            names.add(name);
            paths.add(p);
            i = paths.size() - 1;
        }
        return i;
    }

    private static Slice checkModelsForm(MergeConfig cfg, MergeMethod method, List<String> names, List<Path> paths) {
        Path file = cfg.file();
        List<Source> sources = new ArrayList<>();
        for (int i = 0; i < cfg.models().size(); i++) {
            MergeConfig.ModelEntry m = cfg.models().get(i);
            int before = paths.size();
            int idx = indexOf(m.model(), names, paths);
            if (idx < before) {
                throw new BadInputException(file + ": models[" + i + "] '" + m.model() + "' is listed twice (also models["
                        + idx + "]); list each model once");
            }
            sources.add(new Source(idx, m.model(), -1, -1, m.parameters(), "models[" + i + "]", false));
        }
        int base = -1;
        if (cfg.baseModel() != null) {
            int idx = indexOf(cfg.baseModel(), names, paths);
            base = idx;
            if (idx == sources.size()) {
                sources.add(new Source(idx, cfg.baseModel(), -1, -1, Map.of(), "base_model", true));
            }
        }
        MergeMethod.ModelSet set = new MergeMethod.ModelSet(List.copyOf(names), base);
        try {
            method.checkModels(set);
        } catch (BadInputException e) {
            throw new BadInputException(file + ": " + e.getMessage());
        }
        return new Slice(List.copyOf(sources), base, Map.of(), "", set);
    }

    private static Slice checkSlice(MergeConfig cfg, MergeMethod method, int s, List<String> names, List<Path> paths) {
        MergeConfig.OutputSlice slice = cfg.slices().get(s);
        String where = "slices[" + s + "]";
        List<Source> sources = new ArrayList<>();
        List<String> sourceNames = new ArrayList<>();
        for (int i = 0; i < slice.sources().size(); i++) {
            MergeConfig.InputSlice in = slice.sources().get(i);
            int idx = indexOf(in.model(), names, paths);
            sources.add(new Source(idx, in.model(), in.start(), in.end(), in.parameters(),
                    where + ".sources[" + i + "]", false));
            sourceNames.add(in.model());
        }
        String baseName = slice.baseModel() != null ? slice.baseModel() : cfg.baseModel();
        int base = -1;
        if (baseName != null) {
            int baseModel = indexOf(baseName, names, paths);
            for (int i = 0; i < sources.size() && base < 0; i++) {
                if (sources.get(i).model() == baseModel) {
                    base = i;
                }
            }
        }
        MergeMethod.ModelSet set = new MergeMethod.ModelSet(List.copyOf(sourceNames), base);
        try {
            method.checkModels(set);
        } catch (BadInputException e) {
            String hint = baseName != null && base < 0 ? " (base_model " + baseName + " is not among this slice's"
                    + " sources)" : "";
            throw new BadInputException(cfg.file() + ": " + where + ": " + e.getMessage() + hint);
        }
        return new Slice(List.copyOf(sources), base, slice.parameters(), where, set);
    }

    /** Parameters of tensor {@code tensor} in the first slice, read under the same name from every source. */
    static ResolvedParams resolve(Checked checked, String tensor, double layerT) {
        Slice slice = checked.slices().getFirst();
        List<String> names = slice.sources().stream().map(src -> tensor).toList();
        return ParameterResolver.resolve(checked.config(), checked.method(), slice, names, tensor, layerT);
    }

    /** Builds the plan over opened models ({@code folders} in the order of {@code checked.paths()}). */
    public static MergePlan plan(Checked checked, List<ModelFolder> folders) {
        MergeConfig cfg = checked.config();
        int donor = checked.models().hasBase() ? checked.models().baseIndex()
                : checked.slices().getFirst().sources().getFirst().model();
        List<TensorTask> tasks = new ArrayList<>();
        int outputLayers;
        if (!cfg.usesSlices()) {
            planModelsForm(checked, folders, donor, tasks);
            outputLayers = -1;
        } else {
            outputLayers = planSlices(checked, folders, donor, tasks);
        }
        return new MergePlan(cfg, checked.method(), checked.models(), List.copyOf(folders), donor, List.copyOf(tasks),
                outputLayers, unusedFilters(checked, tasks));
    }

    /** {@code models:} form: every model has the same tensors; outputs follow the donor's storage order. */
    private static void planModelsForm(Checked checked, List<ModelFolder> folders, int donor, List<TensorTask> tasks) {
        Slice slice = checked.slices().getFirst();
        ModelFolder d = folders.get(donor);
        for (Source src : slice.sources()) {
            checkSameTensorSet(folders.get(src.model()), d);
        }
        int layers = layerCount(d);
        for (ModelTensor dt : d.tensors()) {
            List<ModelTensor> inputs = new ArrayList<>();
            for (Source src : slice.sources()) {
                inputs.add(folders.get(src.model()).tensor(dt.name()));
            }
            List<String> names = inputs.stream().map(ModelTensor::name).toList();
            tasks.add(task(checked, slice, dt.name(), names, inputs, layerT(dt.name(), layers)));
        }
    }

    /**
     * {@code slices:} form: output layers are the slices' layers stacked in order and renumbered; embeddings come
     * from the first slice's sources, the other non-layer tensors (final norm, lm_head) from the last slice's.
     *
     * @return the number of output layers
     */
    private static int planSlices(Checked checked, List<ModelFolder> folders, int donor, List<TensorTask> tasks) {
        MergeConfig cfg = checked.config();
        ModelFolder d = folders.get(donor);
        List<String> front = new ArrayList<>();
        List<String> back = new ArrayList<>();
        for (ModelTensor t : d.tensors()) {
            if (layerIndex(t.name()) < 0) {
                (t.name().contains("embed") ? front : back).add(t.name());
            }
        }
        List<Slice> slices = checked.slices();
        for (String name : front) {
            tasks.add(nonLayerTask(checked, folders, slices.getFirst(), name));
        }
        int outLayer = 0;
        for (Slice slice : slices) {
            int length = sliceLength(cfg, slice, folders);
            for (int i = 0; i < length; i++) {
                double layerT = length > 1 ? (double) i / (length - 1) : 1;
                Source first = slice.sources().getFirst();
                ModelFolder firstModel = folders.get(first.model());
                for (ModelTensor t : layerTensors(firstModel, first.start() + i)) {
                    List<ModelTensor> inputs = new ArrayList<>();
                    List<String> names = new ArrayList<>();
                    for (Source src : slice.sources()) {
                        String name = renumber(t.name(), src.start() + i);
                        ModelTensor in = folders.get(src.model()).tensor(name);
                        if (in == null) {
                            throw new BadInputException(folders.get(src.model()).dir() + ": has no tensor '" + name
                                    + "' (needed by " + src.where() + ")");
                        }
                        inputs.add(in);
                        names.add(name);
                    }
                    tasks.add(task(checked, slice, renumber(t.name(), outLayer), names, inputs, layerT));
                }
                outLayer++;
            }
        }
        for (String name : back) {
            tasks.add(nonLayerTask(checked, folders, slices.getLast(), name));
        }
        return outLayer;
    }

    private static TensorTask nonLayerTask(Checked checked, List<ModelFolder> folders, Slice slice, String name) {
        List<ModelTensor> inputs = new ArrayList<>();
        for (Source src : slice.sources()) {
            ModelTensor t = folders.get(src.model()).tensor(name);
            if (t == null) {
                throw new BadInputException(folders.get(src.model()).dir() + ": has no tensor '" + name + "' (needed by "
                        + src.where() + ")");
            }
            inputs.add(t);
        }
        return task(checked, slice, name, inputs.stream().map(ModelTensor::name).toList(), inputs, 0);
    }

    /** Layers each source of the slice contributes; all must agree and lie inside their models. */
    private static int sliceLength(MergeConfig cfg, Slice slice, List<ModelFolder> folders) {
        int length = -1;
        for (Source src : slice.sources()) {
            ModelFolder f = folders.get(src.model());
            int layers = layerCount(f);
            if (src.end() > layers) {
                throw new BadInputException(cfg.file() + ": " + src.where() + ".layer_range [" + src.start() + ", "
                        + src.end() + "] is outside " + src.name() + ", which has " + layers + " layers");
            }
            int n = src.end() - src.start();
            if (length >= 0 && n != length) {
                throw new BadInputException(cfg.file() + ": " + slice.where() + ": sources span different layer counts ("
                        + length + " and " + n + "); every source of a slice must cover as many layers");
            }
            length = n;
        }
        return length;
    }

    /** The tensors of one layer, in the model's storage order. */
    private static List<ModelTensor> layerTensors(ModelFolder f, int layer) {
        return f.tensors().stream().filter(t -> layerIndex(t.name()) == layer).toList();
    }

    /** The name up to and including its layer index ({@code model.layers.3}), or null for non-layer tensors. */
    static String layerPrefix(String name) {
        Matcher m = LAYER.matcher(name);
        return m.find() ? name.substring(0, m.end(1)) : null;
    }

    /** The same tensor name at another layer index. */
    static String renumber(String name, int layer) {
        Matcher m = LAYER.matcher(name);
        if (!m.find()) {
            return name;
        }
        return name.substring(0, m.start(1)) + layer + name.substring(m.end(1));
    }

    /** Shapes, dtypes, vocabulary crops, parameters and output dtype of one output tensor. */
    private static TensorTask task(Checked checked, Slice slice, String output, List<String> inputNames,
            List<ModelTensor> inputs, double layerT) {
        MergeConfig cfg = checked.config();
        MergeMethod method = checked.method();
        int ref = slice.base() >= 0 ? slice.base() : 0;
        ModelTensor reference = inputs.get(ref);
        long[] shape = outputShape(checked, slice, inputs, ref);
        for (ModelTensor t : inputs) {
            if (t.dtype().isFloat() != reference.dtype().isFloat()) {
                throw new BadInputException(t.file().path().getParent() + ": tensor '" + t.name() + "' is " + t.dtype()
                        + " but " + reference.file().path().getParent() + " stores it as " + reference.dtype());
            }
        }
        if (!reference.dtype().isFloat()) {
            OutTensor out = new OutTensor(output, reference.dtype(), reference.info().shape());
            return new TensorTask(out, List.of(), -1, new ResolvedParams(Map.of(), List.of()), 0, reference);
        }
        ResolvedParams params = ParameterResolver.resolve(cfg, method, slice, inputNames, output, layerT);
        try {
            method.checkParams(params, slice.models(), output);
        } catch (BadInputException e) {
            throw new BadInputException(cfg.file() + ": " + e.getMessage());
        }
        DType type = cfg.outDtype() != null ? cfg.outDtype() : cfg.dtype() != null ? cfg.dtype() : reference.dtype();
        return new TensorTask(new OutTensor(output, type, shape), List.copyOf(inputs), slice.base(), params, layerT,
                null);
    }

    /**
     * The output shape: the inputs' common shape, or for embeddings of different vocabulary sizes the crop the
     * method's {@link MergeMethod.VocabRule} allows.
     */
    private static long[] outputShape(Checked checked, Slice slice, List<ModelTensor> inputs, int ref) {
        ModelTensor reference = inputs.get(ref);
        long[] shape = reference.info().shape();
        boolean same = inputs.stream().allMatch(t -> t.info().sameShape(reference.info()));
        if (same) {
            return shape;
        }
        MergeMethod.VocabRule rule = checked.method().vocabRule();
        ModelTensor odd = inputs.stream().filter(t -> !t.info().sameShape(reference.info())).findFirst().orElseThrow();
        boolean embedding = isEmbedding(reference.name()) && shape.length == 2
                && inputs.stream().allMatch(t -> t.info().rank() == 2);
        String mismatch = odd.file().path().getParent() + ": tensor '" + odd.name() + "' has shape "
                + odd.info().shapeString() + " but " + reference.file().path().getParent() + " has "
                + reference.info().shapeString();
        if (!embedding || rule == MergeMethod.VocabRule.NONE) {
            throw new BadInputException(mismatch + (embedding ? " (" + checked.method().name()
                    + " cannot merge different vocabulary sizes, as in mergekit)" : ""));
        }
        if (rule == MergeMethod.VocabRule.CROP_TO_SMALLEST) {
            long rows = Long.MAX_VALUE;
            long cols = Long.MAX_VALUE;
            for (ModelTensor t : inputs) {
                rows = Math.min(rows, t.info().dim(0));
                cols = Math.min(cols, t.info().dim(1));
            }
            return new long[] {rows, cols};
        }
        // CROP_TO_BASE: larger inputs are cut to the base's shape; a smaller one cannot be
        for (ModelTensor t : inputs) {
            if (t.info().dim(0) < shape[0] || t.info().dim(1) < shape[1]) {
                throw new BadInputException(mismatch + " (" + checked.method().name()
                        + " crops larger vocabularies to the base's; a smaller one cannot be merged)");
            }
        }
        return shape;
    }

    /** Embeddings and the output head: the tensors whose rows follow the vocabulary. */
    static boolean isEmbedding(String name) {
        return name.contains("embed_tokens") || name.contains("lm_head") || name.endsWith("wte.weight");
    }

    private static void checkSameTensorSet(ModelFolder f, ModelFolder d) {
        if (f == d) {
            return;
        }
        for (ModelTensor t : d.tensors()) {
            if (f.tensor(t.name()) == null) {
                throw new BadInputException(f.dir() + ": has no tensor '" + t.name() + "' (present in " + d.dir()
                        + "); all models must have the same tensors");
            }
        }
        for (ModelTensor t : f.tensors()) {
            if (d.tensor(t.name()) == null) {
                throw new BadInputException(f.dir() + ": has tensor '" + t.name() + "' that " + d.dir()
                        + " lacks; all models must have the same tensors");
            }
        }
    }

    /** Warnings for filters that match no tensor (likely a typo; mergekit says nothing). */
    private static List<String> unusedFilters(Checked checked, List<TensorTask> tasks) {
        List<String> warnings = new ArrayList<>();
        for (String filter : ParameterResolver.filters(checked.config(), checked.slices())) {
            boolean used = tasks.stream().anyMatch(t -> t.out().name().contains(filter)
                    || t.inputs().stream().anyMatch(in -> in.name().contains(filter)));
            if (!used) {
                warnings.add(checked.config().file() + ": filter '" + filter + "' matches no tensor");
            }
        }
        return warnings;
    }

    static int layerCount(ModelFolder model) {
        int fromConfig = model.numHiddenLayers();
        if (fromConfig > 0) {
            return fromConfig;
        }
        int max = -1;
        for (ModelTensor t : model.tensors()) {
            max = Math.max(max, layerIndex(t.name()));
        }
        return max + 1;
    }

    static int layerIndex(String tensorName) {
        Matcher m = LAYER.matcher(tensorName);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /**
     * Position of a tensor's layer in [0, 1], {@code layer/(L−1)} (1 when there is a single layer). Embeddings, the
     * final norm and lm_head take 0, as mergekit 0.1.x does.
     */
    static double layerT(String tensorName, int layers) {
        int idx = layerIndex(tensorName);
        if (idx < 0) {
            return 0;
        }
        return layers > 1 ? (double) idx / (layers - 1) : 1;
    }
}
