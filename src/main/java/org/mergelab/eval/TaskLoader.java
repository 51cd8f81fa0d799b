package org.mergelab.eval;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;

import org.mergelab.BadInputException;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * Reads task files (YAML, or JSON, which is YAML) and their JSONL data, validating everything before any model runs:
 * every problem is reported as {@code file:line: what} ({@link BadInputException}).
 */
public final class TaskLoader {
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final Set<String> COMMON = Set.of("name", "type", "data", "prompt", "add_bos", "max_length");
    private static final Map<TaskType, Set<String>> KEYS = Map.of(
            TaskType.PERPLEXITY, Set.of(),
            TaskType.MULTIPLE_CHOICE, Set.of("choices", "answer", "target_delimiter"),
            TaskType.GENERATE, Set.of("answer", "stop", "max_tokens", "regex", "ignore_case"),
            TaskType.REFUSAL, Set.of("stop", "max_tokens", "patterns"));

    private TaskLoader() {}

    /**
     * Loads task files; a folder contributes its {@code *.yaml}, {@code *.yml} and {@code *.json} files (sorted).
     *
     * @param limit keep the first {@code limit} items of each task; 0 keeps all
     */
    public static List<Task> load(List<Path> filesOrDirs, int limit) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path p : filesOrDirs) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    List<Path> found = s.filter(f -> f.getFileName().toString().matches(".*\\.(ya?ml|json)$"))
                            .filter(Files::isRegularFile).sorted().toList();
                    if (found.isEmpty()) {
                        throw new BadInputException(p + ": no task files (*.yaml, *.yml, *.json) in this folder");
                    }
                    files.addAll(found);
                }
            } else if (Files.isRegularFile(p)) {
                files.add(p);
            } else {
                throw new BadInputException(p + ": task file or folder not found");
            }
        }
        List<Task> tasks = new ArrayList<>();
        Map<String, Path> names = new LinkedHashMap<>();
        for (Path f : files) {
            Task t = loadOne(f, limit);
            Path other = names.putIfAbsent(t.name(), f);
            if (other != null) {
                throw new BadInputException(f + ": task name '" + t.name() + "' is also used by " + other);
            }
            tasks.add(t);
        }
        return tasks;
    }

    static Task loadOne(Path file, int limit) throws IOException {
        byte[] specBytes = Files.readAllBytes(file);
        MappingNode root = parseYaml(file, utf8(file, specBytes));
        Map<String, Node> keys = new LinkedHashMap<>();
        for (NodeTuple t : root.getValue()) {
            String key = scalar(file, t.getKeyNode(), "a key");
            if (keys.put(key, t.getValueNode()) != null) {
                throw bad(file, t.getKeyNode(), "duplicate key '" + key + "'");
            }
        }
        Node typeNode = keys.get("type");
        if (typeNode == null) {
            throw bad(file, root, "missing 'type'; expected one of " + typeKeys());
        }
        TaskType type = TaskType.of(scalar(file, typeNode, "a task type"));
        if (type == null) {
            throw bad(file, typeNode, "unknown type '" + scalar(file, typeNode, "") + "'; expected one of "
                    + typeKeys());
        }
        for (var e : keys.entrySet()) {
            if (!COMMON.contains(e.getKey()) && !KEYS.get(type).contains(e.getKey())) {
                List<String> allowed = new ArrayList<>(COMMON);
                allowed.addAll(KEYS.get(type));
                throw bad(file, e.getValue(), "unknown key '" + e.getKey() + "' for a " + type.key()
                        + " task; expected one of " + allowed.stream().sorted().toList());
            }
        }
        String stem = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        String name = keys.containsKey("name") ? scalar(file, keys.get("name"), "a name") : stem;
        Node dataNode = keys.get("data");
        if (dataNode == null) {
            throw bad(file, root, "missing 'data' (the JSONL file of examples)");
        }
        Path data = resolve(file, scalar(file, dataNode, "a file path"));
        if (!Files.isRegularFile(data)) {
            throw bad(file, dataNode, "data file " + data + " not found");
        }
        String defaultPrompt = type == TaskType.PERPLEXITY ? "{text}" : "{prompt}";
        Node promptNode = keys.get("prompt");
        PromptTemplate prompt = PromptTemplate.parse(
                promptNode == null ? defaultPrompt : scalar(file, promptNode, "a template string"),
                promptNode == null ? file + " (default prompt " + defaultPrompt + ")" : where(file, promptNode));
        boolean addBos = bool(file, keys.get("add_bos"), true);
        int maxLength = integer(file, keys.get("max_length"), 0, 2);
        String delimiter = keys.containsKey("target_delimiter")
                ? scalar(file, keys.get("target_delimiter"), "a string") : " ";
        List<String> stop = keys.containsKey("stop") ? strings(file, keys.get("stop")) : List.of();
        for (String s : stop) {
            if (s.isEmpty()) {
                throw bad(file, keys.get("stop"), "an empty stop string would stop every generation at once");
            }
        }
        int maxTokens = integer(file, keys.get("max_tokens"), 32, 1);
        Pattern regex = keys.containsKey("regex") ? regex(file, keys.get("regex"), false) : null;
        boolean ignoreCase = bool(file, keys.get("ignore_case"), true);
        List<Pattern> patterns = new ArrayList<>();
        if (keys.containsKey("patterns")) {
            for (String p : strings(file, keys.get("patterns"))) {
                patterns.add(compile(file, keys.get("patterns"), p, true));
            }
        } else if (type == TaskType.REFUSAL) {
            patterns.addAll(TaskSpec.defaultRefusalPatterns());
        }
        TaskSpec spec = new TaskSpec(name, type, file, data, addBos, maxLength, delimiter, stop, maxTokens, regex,
                ignoreCase, List.copyOf(patterns));

        byte[] dataBytes = Files.readAllBytes(data);
        List<TaskItem> items = new ArrayList<>();
        String[] lines = utf8(data, dataBytes).split("\r?\n", -1);
        Node choicesNode = keys.get("choices");
        for (int i = 0; i < lines.length && (limit <= 0 || items.size() < limit); i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            String row = data + ":" + (i + 1);
            JsonNode doc;
            try {
                doc = JSON.readTree(lines[i]);
            } catch (JsonProcessingException e) {
                throw new BadInputException(row + ": not valid JSON: " + e.getOriginalMessage());
            }
            if (doc == null || !doc.isObject()) {
                throw new BadInputException(row + ": expected a JSON object per line");
            }
            String text = prompt.render(doc, row);
            items.add(switch (type) {
                case PERPLEXITY -> new TaskItem.Document(i + 1, text);
                case MULTIPLE_CHOICE -> choice(file, choicesNode, keys.get("answer"), doc, row, i + 1, text);
                case GENERATE -> new TaskItem.Prompt(i + 1, text, answers(file, keys.get("answer"), doc, row));
                case REFUSAL -> new TaskItem.Prompt(i + 1, text, List.of());
            });
        }
        if (items.isEmpty()) {
            throw new BadInputException(data + ": no examples (one JSON object per line expected)");
        }
        MessageDigest sha = LlamaModel.sha256();
        sha.update(specBytes);
        sha.update((byte) 0);
        sha.update(dataBytes);
        return new Task(spec, List.copyOf(items), "sha256:" + HexFormat.of().formatHex(sha.digest()));
    }

    /** choices: a field name (string) or the literal list for every row; answer: a field with an index or a choice. */
    private static TaskItem.Choice choice(Path file, Node choicesNode, Node answerNode, JsonNode doc, String row,
            int line, String prompt) {
        List<String> choices = new ArrayList<>();
        if (choicesNode instanceof SequenceNode) {
            choices.addAll(strings(file, choicesNode));
        } else {
            String field = choicesNode == null ? "choices" : scalar(file, choicesNode, "a field name or a list");
            JsonNode c = doc.get(field);
            if (c == null || !c.isArray()) {
                throw new BadInputException(row + ": field '" + field + "' is "
                        + (c == null ? "missing" : PromptTemplate.kind(c)) + "; expected the list of choices");
            }
            for (JsonNode v : c) {
                if (!v.isValueNode() || v.isNull()) {
                    throw new BadInputException(row + ": field '" + field + "' holds " + PromptTemplate.kind(v)
                            + "; choices must be strings");
                }
                choices.add(v.asText());
            }
        }
        if (choices.size() < 2) {
            throw new BadInputException(row + ": " + choices.size() + " choice(s); multiple choice needs at least 2");
        }
        String field = answerNode == null ? "answer" : scalar(file, answerNode, "a field name");
        JsonNode a = doc.get(field);
        int gold;
        if (a == null || a.isNull()) {
            throw new BadInputException(row + ": no field '" + field + "' (the index or text of the correct choice)");
        } else if (a.isIntegralNumber()) {
            gold = a.intValue();
            if (gold < 0 || gold >= choices.size()) {
                throw new BadInputException(row + ": answer index " + gold + " is outside 0.." + (choices.size() - 1));
            }
        } else if (a.isTextual()) {
            gold = choices.indexOf(a.textValue());
            if (gold < 0) {
                throw new BadInputException(row + ": answer '" + a.textValue() + "' is not one of the choices "
                        + choices);
            }
        } else {
            throw new BadInputException(row + ": field '" + field + "' is " + PromptTemplate.kind(a)
                    + "; expected a choice index or the choice's text");
        }
        return new TaskItem.Choice(line, prompt, List.copyOf(choices), gold);
    }

    private static List<String> answers(Path file, Node answerNode, JsonNode doc, String row) {
        String field = answerNode == null ? "answer" : scalar(file, answerNode, "a field name");
        JsonNode a = doc.get(field);
        List<String> out = new ArrayList<>();
        if (a != null && a.isArray()) {
            a.forEach(v -> out.add(v.asText()));
        } else if (a != null && a.isValueNode() && !a.isNull()) {
            out.add(a.asText());
        }
        if (out.isEmpty()) {
            throw new BadInputException(row + ": field '" + field + "' is "
                    + (a == null ? "missing" : PromptTemplate.kind(a))
                    + "; expected the answer (text or list of texts)");
        }
        return out;
    }

    private static MappingNode parseYaml(Path file, String text) {
        LoadSettings settings = LoadSettings.builder().setLabel(file.toString()).setSchema(new CoreSchema()).build();
        Node node;
        try {
            node = new Compose(settings).composeString(text).orElse(null);
        } catch (MarkedYamlEngineException e) {
            String at = e.getProblemMark().map(m -> ":" + (m.getLine() + 1)).orElse("");
            throw new BadInputException(file + at + ": " + e.getProblem());
        } catch (YamlEngineException e) {
            throw new BadInputException(file + ": " + e.getMessage());
        }
        if (!(node instanceof MappingNode m)) {
            throw new BadInputException(file + ":1: expected a mapping of task settings (name, type, data, ...)");
        }
        return m;
    }

    private static String utf8(Path file, byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new BadInputException(file + ": not valid UTF-8");
        }
    }

    private static Path resolve(Path specFile, String p) {
        Path path = Path.of(p);
        Path parent = specFile.toAbsolutePath().getParent();
        return path.isAbsolute() || parent == null ? path : parent.resolve(path).normalize();
    }

    private static String scalar(Path file, Node n, String what) {
        if (n instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
            return s.getValue();
        }
        throw bad(file, n, "expected " + what);
    }

    private static boolean bool(Path file, Node n, boolean fallback) {
        if (n == null) {
            return fallback;
        }
        if (n instanceof ScalarNode s && s.getTag().equals(Tag.BOOL)) {
            return Boolean.parseBoolean(s.getValue().toLowerCase(java.util.Locale.ROOT));
        }
        throw bad(file, n, "expected true or false");
    }

    private static int integer(Path file, Node n, int fallback, int min) {
        if (n == null) {
            return fallback;
        }
        if (n instanceof ScalarNode s && s.getTag().equals(Tag.INT)) {
            try {
                int v = Integer.parseInt(s.getValue());
                if (v >= min) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw bad(file, n, "expected an integer >= " + min);
    }

    private static List<String> strings(Path file, Node n) {
        if (n instanceof ScalarNode) {
            return List.of(scalar(file, n, "a string or a list of strings"));
        }
        if (!(n instanceof SequenceNode seq)) {
            throw bad(file, n, "expected a string or a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (Node v : seq.getValue()) {
            out.add(scalar(file, v, "a string"));
        }
        return out;
    }

    private static Pattern regex(Path file, Node n, boolean ignoreCase) {
        return compile(file, n, scalar(file, n, "a regular expression"), ignoreCase);
    }

    private static Pattern compile(Path file, Node n, String p, boolean ignoreCase) {
        try {
            return Pattern.compile(p, ignoreCase ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE : 0);
        } catch (PatternSyntaxException e) {
            throw bad(file, n, "invalid regular expression '" + p + "': " + e.getDescription());
        }
    }

    private static String where(Path file, Node n) {
        return file + n.getStartMark().map(m -> ":" + (m.getLine() + 1)).orElse("");
    }

    private static BadInputException bad(Path file, Node n, String what) {
        return new BadInputException(where(file, n) + ": " + what);
    }

    private static String typeKeys() {
        return String.join(", ", java.util.Arrays.stream(TaskType.values()).map(TaskType::key).toList());
    }
}
