package org.mergelab.experiment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.mergelab.BadInputException;
import org.mergelab.eval.LlamaConfig;
import org.mergelab.eval.Task;
import org.mergelab.eval.TaskLoader;
import org.mergelab.eval.TextTokenizer;
import org.mergelab.io.ModelFolder;
import org.mergelab.io.ModelTensor;
import org.mergelab.merge.ConfigParser;
import org.mergelab.merge.MergeConfig;
import org.mergelab.merge.MergePlan;
import org.mergelab.merge.Planner;

/**
 * A spec checked against everything it names, before the first cell runs: the model folders (Llama family, the same
 * tensors and shapes), the task files of every split, a tokenizer for every model evaluated, and every merge cell
 * planned as {@code mergelab merge} would plan it (no tensor data is read). Holds the models open for the sweep.
 */
public final class SweepPlan implements AutoCloseable {
    private final ExperimentSpec spec;
    private final Map<String, ModelFolder> folders;
    private final Map<Path, ModelFolder> byPath;
    private final Map<String, String> modelHashes;
    private final Map<String, List<Task>> tasks;
    private final List<Cell> cells;

    private SweepPlan(ExperimentSpec spec, Map<String, ModelFolder> folders, Map<String, String> modelHashes,
            Map<String, List<Task>> tasks, List<Cell> cells) {
        this.spec = spec;
        this.folders = folders;
        this.byPath = new LinkedHashMap<>();
        folders.forEach((alias, f) -> byPath.put(spec.models().get(alias), f));
        this.modelHashes = modelHashes;
        this.tasks = tasks;
        this.cells = cells;
    }

    /** @param warnings told what the merge planner warns about (once per merge) */
    public static SweepPlan prepare(ExperimentSpec spec, Consumer<String> warnings) throws IOException {
        Map<String, ModelFolder> folders = new LinkedHashMap<>();
        try {
            Map<String, String> hashes = new LinkedHashMap<>();
            for (var e : spec.models().entrySet()) {
                folders.put(e.getKey(), openModel(spec, e.getKey(), e.getValue()));
                hashes.put(e.getKey(), ModelHashes.of(e.getValue()));
            }
            checkSameTensors(spec, folders);
            Map<String, List<Task>> tasks = new LinkedHashMap<>();
            for (String split : spec.tasks().splits()) {
                tasks.put(split, loadTasks(spec, split));
            }
            SweepPlan plan = new SweepPlan(spec, folders, Map.copyOf(hashes), tasks,
                    GridExpander.expand(spec, hashes));
            plan.checkTokenizers();
            Set<String> warned = new LinkedHashSet<>();
            for (Cell c : plan.cells) {
                if (!c.isReference()) {
                    plan.planMerge(c).warnings().forEach(w -> {
                        if (warned.add(c.where() + w)) {
                            warnings.accept(spec.file() + ": " + w);
                        }
                    });
                }
            }
            return plan;
        } catch (IOException | RuntimeException e) {
            folders.values().forEach(ModelFolder::close);
            throw e;
        }
    }

    private static ModelFolder openModel(ExperimentSpec spec, String alias, Path dir) throws IOException {
        String key = spec.at("models." + alias);
        if (!Files.isDirectory(dir)) {
            throw new BadInputException(key + ": model folder " + dir + " not found");
        }
        ModelFolder folder = null;
        try {
            folder = ModelFolder.open(dir);
            LlamaConfig.of(folder);
            return folder;
        } catch (BadInputException e) {
            if (folder != null) {
                folder.close();
            }
            throw new BadInputException(key + ": " + e.getMessage(), e);
        }
    }

    /** Merging and comparing need one architecture: every model has the first one's tensors and shapes. */
    private static void checkSameTensors(ExperimentSpec spec, Map<String, ModelFolder> folders) {
        String first = folders.keySet().iterator().next();
        ModelFolder ref = folders.get(first);
        folders.forEach((alias, f) -> {
            for (ModelTensor t : ref.tensors()) {
                ModelTensor other = f.tensor(t.name());
                if (other == null) {
                    throw new BadInputException(spec.at("models." + alias) + ": has no tensor '" + t.name()
                            + "' (models." + first + " has it); a sweep's models must have the same tensors");
                }
                if (!Arrays.equals(other.info().shape(), t.info().shape())) {
                    throw new BadInputException(spec.at("models." + alias) + ": tensor '" + t.name() + "' has shape "
                            + other.info().shapeString() + " but models." + first + " has " + t.info().shapeString()
                            + "; a sweep's models must have the same shapes");
                }
            }
            if (f.tensorCount() != ref.tensorCount()) {
                throw new BadInputException(spec.at("models." + alias) + ": has " + f.tensorCount() + " tensors but"
                        + " models." + first + " has " + ref.tensorCount() + "; a sweep's models must have the same"
                        + " tensors");
            }
        });
    }

    private static List<Task> loadTasks(ExperimentSpec spec, String split) throws IOException {
        Path dir = spec.splitDir(split);
        if (!Files.isDirectory(dir)) {
            throw new BadInputException(spec.at("tasks.splits") + ": split '" + split + "' has no folder " + dir);
        }
        List<Task> all = TaskLoader.load(List.of(dir), spec.tasks().limit());
        if (spec.tasks().names().isEmpty()) {
            return all;
        }
        List<Task> chosen = new ArrayList<>();
        for (String name : spec.tasks().names()) {
            chosen.add(all.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow(() ->
                    new BadInputException(spec.at("tasks.names") + ": no task '" + name + "' in " + dir + " (it has "
                            + all.stream().map(Task::name).toList() + ")")));
        }
        return List.copyOf(chosen);
    }

    /** Every model evaluated (references, and each merge's donor) needs a tokenizer that loads. */
    private void checkTokenizers() throws IOException {
        Set<String> evaluated = new LinkedHashSet<>();
        for (Cell c : cells) {
            evaluated.add(c.isReference() ? c.model() : c.config().inputs().get(c.config().baseInput()));
        }
        Set<Path> dirs = new LinkedHashSet<>();
        for (String alias : evaluated) {
            Path dir = tokenizerDir(folders.get(alias).dir());
            if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
                String key = spec.tokenizer() != null ? "tokenizer" : "models." + alias;
                throw new BadInputException(spec.at(key) + ": " + dir + " has no tokenizer.json, which evaluating"
                        + " needs; add one, or name a folder that has one under tokenizer:");
            }
            dirs.add(dir);
        }
        for (Path dir : dirs) {
            TextTokenizer.load(dir).close(); // it parses, and its BOS/EOS resolve
        }
    }

    /** Where the tokenizer of a model in {@code modelDir} comes from: the spec's tokenizer folder, else its own. */
    Path tokenizerDir(Path modelDir) {
        return spec.tokenizer() != null ? spec.tokenizer() : modelDir;
    }

    /** The merge of a cell planned over the open models, as {@code mergelab merge} plans its config. */
    MergePlan planMerge(Cell cell) {
        try {
            MergeConfig cfg = ConfigParser.parse(Path.of(cell.where()), cell.config().yaml());
            Planner.Checked checked = Planner.check(cfg);
            return Planner.plan(checked, checked.paths().stream().map(byPath::get).toList());
        } catch (BadInputException e) {
            throw new BadInputException(spec.file() + ": " + e.getMessage() + " (cell '" + cell.label() + "')", e);
        }
    }

    public ExperimentSpec spec() {
        return spec;
    }

    public List<Cell> cells() {
        return cells;
    }

    /** The tasks of each split, in spec order. */
    public Map<String, List<Task>> tasks() {
        return tasks;
    }

    /** Content hash of every model, by alias. */
    public Map<String, String> modelHashes() {
        return modelHashes;
    }

    ModelFolder folder(String alias) {
        return folders.get(alias);
    }

    @Override
    public void close() {
        folders.values().forEach(ModelFolder::close);
    }
}
