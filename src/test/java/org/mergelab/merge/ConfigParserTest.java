package org.mergelab.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.mergelab.BadInputException;
import org.mergelab.io.DType;

/** mergekit YAML → {@link MergeConfig}: every value form, and one-line errors naming the file and the key path. */
class ConfigParserTest {
    static final Path FILE = Path.of("/configs/my-merge.yml");

    static MergeConfig parse(String yaml) {
        return ConfigParser.parse(FILE, yaml);
    }

    /** Asserts parsing fails with a one-line message naming the file and containing every fragment. */
    static String bad(String yaml, String... fragments) {
        BadInputException e = assertThrows(BadInputException.class, () -> parse(yaml));
        String m = e.getMessage();
        assertTrue(m.startsWith(FILE.toString()), () -> "message should start with the file name: " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), () -> "message should contain '" + f + "': " + m);
        }
        assertFalse(m.contains("\n") || m.contains("\r"), () -> "message should be one line: " + m);
        return m;
    }

    static final String HEAD = "merge_method: linear\nmodels:\n  - model: a\n";

    static ParameterSetting global(String yamlParams, String name) {
        return parse(HEAD + "parameters:\n" + yamlParams).parameters().get(name);
    }

    // ---------------------------------------------------------------- values

    @Test
    void scalarsIntsBecomeDoublesBooleansAndStringsStay() {
        MergeConfig c = parse(HEAD + """
                parameters:
                  t: 1
                  lambda: 0.25
                  big: 3000000000
                  normalize: false
                  mode: sum
                """);
        assertEquals(new ParameterSetting.Scalar(1.0), c.parameters().get("t"));
        assertInstanceOf(Double.class, ((ParameterSetting.Scalar) c.parameters().get("t")).value());
        assertEquals(new ParameterSetting.Scalar(0.25), c.parameters().get("lambda"));
        assertEquals(new ParameterSetting.Scalar(3e9), c.parameters().get("big"));
        assertEquals(new ParameterSetting.Scalar(false), c.parameters().get("normalize"));
        assertEquals(new ParameterSetting.Scalar("sum"), c.parameters().get("mode"));
        assertEquals(Optional.of(1.0), c.parameters().get("t").resolve("anything", 0.7));
        assertEquals(List.of("t", "lambda", "big", "normalize", "mode"), List.copyOf(c.parameters().keySet()),
                "parameters keep their written order");
    }

    @Test
    void numbersAndNullsWrittenThePyYamlWay() {
        // mergekit reads configs with PyYAML: these are numbers, booleans and nulls there, not strings
        MergeConfig c = parse("""
                merge_method: slerp
                base_model: ~
                models:
                  - model: a
                    parameters:
                      weight: [.2, -.5, +0.5]
                parameters:
                  t: .5
                  eps: 1e-8
                  normalize: True
                """);
        assertNull(c.baseModel());
        assertEquals(new ParameterSetting.Scalar(0.5), c.parameters().get("t"));
        assertEquals(new ParameterSetting.Scalar(1e-8), c.parameters().get("eps"));
        assertEquals(new ParameterSetting.Scalar(true), c.parameters().get("normalize"));
        var g = assertInstanceOf(ParameterSetting.Gradient.class, c.models().get(0).parameters().get("weight"));
        assertEquals(List.of(0.2, -0.5, 0.5), java.util.Arrays.stream(g.anchors()).boxed().toList());
    }

    @Test
    void gradientOfIntsAndFloats() {
        ParameterSetting s = global("  weight: [0, 0.5, 1]\n", "weight");
        ParameterSetting.Gradient g = assertInstanceOf(ParameterSetting.Gradient.class, s);
        assertEquals(3, g.anchors().length);
        assertEquals(0.0, g.anchors()[0]);
        assertEquals(1.0, g.anchors()[2]);
        assertEquals(0.25, (Double) s.resolve("x", 0.25).orElseThrow(), 1e-15);
        assertEquals(0.75, (Double) s.resolve("x", 0.75).orElseThrow(), 1e-15);
        assertEquals(1.0, (Double) s.resolve("x", 1.0).orElseThrow(), 1e-15);
        // block style too
        ParameterSetting b = global("  weight:\n    - 1\n    - 3\n", "weight");
        assertEquals(2.0, (Double) b.resolve("x", 0.5).orElseThrow(), 1e-15);
    }

    @Test
    void stepListOfNonNumbers() {
        ParameterSetting s = global("  mode: [first, second, third]\n", "mode");
        assertInstanceOf(ParameterSetting.Steps.class, s);
        assertEquals(Optional.of("first"), s.resolve("x", 0.0));
        assertEquals(Optional.of("first"), s.resolve("x", 0.49));
        assertEquals(Optional.of("second"), s.resolve("x", 0.5));
        assertEquals(Optional.of("third"), s.resolve("x", 1.0));
        ParameterSetting flags = global("  flag: [true, false]\n", "flag");
        assertEquals(Optional.of(true), flags.resolve("x", 0.2));
        assertEquals(Optional.of(false), flags.resolve("x", 1.0));
    }

    @Test
    void singleConditionalAsAMapping() {
        ParameterSetting s = global("  t: {filter: self_attn, value: 0.3}\n", "t");
        ParameterSetting.Conditionals c = assertInstanceOf(ParameterSetting.Conditionals.class, s);
        assertEquals(1, c.cases().size());
        assertEquals("self_attn", c.cases().get(0).filter());
        assertEquals(Optional.of(0.3), s.resolve("model.layers.3.self_attn.q_proj.weight", 0.5));
        assertEquals(Optional.empty(), s.resolve("model.layers.3.mlp.up_proj.weight", 0.5),
                "no match leaves the parameter unset at this level");
    }

    @Test
    void conditionalListFirstMatchWinsWithCatchAlls() {
        ParameterSetting s = global("""
                  t:
                    - filter: self_attn
                      value: [0, 1]
                    - filter: o_proj
                      value: 0.9
                    - filter: mlp
                      value: 0.7
                    - value: 0.5
                    - filter: mlp
                      value: 0.1
                """, "t");
        ParameterSetting.Conditionals c = assertInstanceOf(ParameterSetting.Conditionals.class, s);
        assertEquals(5, c.cases().size());
        assertNull(c.cases().get(3).filter());
        assertInstanceOf(ParameterSetting.Gradient.class, c.cases().get(0).value());
        // o_proj lives under self_attn: the earlier self_attn case wins
        assertEquals(Optional.of(0.25), s.resolve("model.layers.1.self_attn.o_proj.weight", 0.25));
        assertEquals(Optional.of(0.7), s.resolve("model.layers.1.mlp.down_proj.weight", 0.25));
        assertEquals(Optional.of(0.5), s.resolve("model.embed_tokens.weight", 0));

        ParameterSetting star = global("""
                  t:
                    - filter: "*"
                      value: 0.4
                    - value: 0.6
                """, "t");
        assertEquals("*", ((ParameterSetting.Conditionals) star).cases().get(0).filter());
        assertEquals(Optional.of(0.4), star.resolve("lm_head.weight", 0));
        assertEquals(Optional.of(0.4), star.resolve("model.norm.weight", 0));
    }

    @Test
    void modelsAsMappingsAndPlainStrings() {
        MergeConfig c = parse("""
                merge_method: linear
                base_model: models/base
                models:
                  - models/plain
                  - model: models/mapped
                    parameters:
                      weight: 0.7
                  - model: models/no-params
                parameters:
                  weight: 1
                """);
        assertEquals("linear", c.method());
        assertEquals("models/base", c.baseModel());
        assertEquals(3, c.models().size());
        assertEquals("models/plain", c.models().get(0).model());
        assertTrue(c.models().get(0).parameters().isEmpty());
        assertEquals("models/mapped", c.models().get(1).model());
        assertEquals(new ParameterSetting.Scalar(0.7), c.models().get(1).parameters().get("weight"));
        assertTrue(c.models().get(2).parameters().isEmpty());
        assertEquals(FILE, c.file());
        assertTrue(c.text().contains("models/mapped"), "the YAML text is kept for the output folder");
        assertNull(c.dtype());
        assertNull(c.outDtype());
        assertNull(c.tokenizerSource());
        assertTrue(c.warnings().isEmpty(), () -> c.warnings().toString());
    }

    // ---------------------------------------------------------------- dtype, tokenizer

    @ParameterizedTest
    @CsvSource({"bfloat16, BF16", "torch.bfloat16, BF16", "bf16, BF16", "float16, F16", "torch.float16, F16",
        "fp16, F16", "float32, F32", "fp32, F32", "torch.float32, F32"})
    void dtypeNames(String name, DType expected) {
        MergeConfig c = parse(HEAD + "dtype: " + name + "\nout_dtype: " + name + "\n");
        assertEquals(expected, c.dtype());
        assertEquals(expected, c.outDtype());
    }

    @Test
    void dtypeAndOutDtypeAreIndependent() {
        MergeConfig c = parse(HEAD + "dtype: float32\nout_dtype: bfloat16\n");
        assertEquals(DType.F32, c.dtype());
        assertEquals(DType.BF16, c.outDtype());
    }

    @Test
    void unknownDtypeNamesTheKeyAndTheValue() {
        bad(HEAD + "dtype: float8\n", "dtype", "float8", "bfloat16");
        bad(HEAD + "out_dtype: int8\n", "out_dtype", "int8");
        bad(HEAD + "dtype: 16\n", "dtype");
    }

    @Test
    void tokenizerSourceBaseOrPath() {
        assertEquals("base", parse(HEAD + "tokenizer_source: base\n").tokenizerSource());
        assertEquals("models/chat", parse(HEAD + "tokenizer_source: models/chat\n").tokenizerSource());
        assertEquals("base", parse(HEAD + "tokenizer:\n  source: base\n").tokenizerSource());
        assertEquals("models/chat", parse(HEAD + "tokenizer: {source: models/chat}\n").tokenizerSource());
    }

    @Test
    void tokenizerUnionIsNotSupportedYet() {
        bad(HEAD + "tokenizer_source: union\n", "tokenizer_source", "union", "not supported yet");
        bad(HEAD + "tokenizer:\n  source: union\n", "tokenizer.source", "union", "not supported yet");
        // mergekit's default tokenizer source is union
        bad(HEAD + "tokenizer: {}\n", "union", "not supported yet");
        bad(HEAD + "tokenizer:\n  source: base\n  pad_to_multiple_of: 64\n", "tokenizer.pad_to_multiple_of",
                "not supported yet");
    }

    @Test
    void tokenizerAndTokenizerSourceTogetherIsAnError() {
        bad(HEAD + "tokenizer_source: base\ntokenizer:\n  source: base\n", "tokenizer_source", "tokenizer");
    }

    // ---------------------------------------------------------------- warnings

    @Test
    void unknownTopLevelKeysAreWarningsNamingTheKey() {
        MergeConfig c = parse(HEAD + "lora_merge_cache: /tmp/x\nparamters:\n  t: 1\n");
        assertEquals(2, c.warnings().size(), c.warnings().toString());
        assertTrue(c.warnings().get(0).contains(FILE.toString()), c.warnings().toString());
        assertTrue(c.warnings().get(0).contains("'lora_merge_cache'"), c.warnings().toString());
        assertTrue(c.warnings().get(1).contains("'paramters'"), c.warnings().toString());
        assertTrue(c.parameters().isEmpty());
    }

    @Test
    void chatTemplateIsAcceptedWithAWarning() {
        MergeConfig c = parse(HEAD + "chat_template: chatml\n");
        assertEquals(1, c.warnings().size());
        assertTrue(c.warnings().get(0).contains("chat_template"));
    }

    // ---------------------------------------------------------------- errors

    @Test
    void yamlSyntaxErrorGivesLineAndColumn() {
        // line 3 col 4: a mapping value where a plain scalar continues
        String m = bad("merge_method: linear\nmodels: a\n  b: c\n", FILE + ":3:4: YAML syntax error");
        assertTrue(m.contains("mapping values are not allowed"), m);
        // unclosed flow sequence: reported at the end of the input
        bad("merge_method: linear\nmodels: [a, b\n", FILE + ":3:1: YAML syntax error");
    }

    @Test
    void tabIndentationIsASyntaxErrorAtTheTab() {
        bad("merge_method: linear\nmodels:\n\t- model: a\n", FILE + ":3:1: YAML syntax error", "TAB");
    }

    @Test
    void duplicateKeyIsAnError() {
        bad("merge_method: linear\nmodels: [a]\nmerge_method: slerp\n", FILE + ":3:", "duplicate key",
                "merge_method");
        bad(HEAD + "parameters:\n  t: 1\n  t: 2\n", "duplicate key", "t");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n\n", "# just a comment\n", "---\n", "~\n"})
    void emptyConfig(String yaml) {
        bad(yaml, "empty config", "merge_method");
    }

    @Test
    void topLevelMustBeAMapping() {
        bad("- merge_method: linear\n- models: [a]\n", "top level", "mapping", "a list");
        bad("linear\n", "top level", "mapping", "'linear'");
    }

    @Test
    void severalYamlDocumentsAreAnError() {
        bad(HEAD + "---\n" + HEAD, "YAML syntax error", "single document");
    }

    @Test
    void missingOrBadMergeMethod() {
        bad("models: [a]\n", "'merge_method'");
        bad("merge_method:\nmodels: [a]\n", "'merge_method'");
        bad("merge_method: [linear]\nmodels: [a]\n", "merge_method", "a list");
        bad("merge_method: ''\nmodels: [a]\n", "merge_method");
    }

    @Test
    void missingOrEmptyModels() {
        bad("merge_method: linear\n", "'models:'");
        bad("merge_method: linear\nmodels:\n", "'models:'");
        bad("merge_method: linear\nmodels: []\n", "'models'", "non-empty list");
        bad("merge_method: linear\nmodels: a\n", "'models'", "non-empty list");
    }

    @Test
    void badModelEntries() {
        bad("merge_method: linear\nmodels:\n  - model: a\n  - parameters: {weight: 1}\n", "models[1].model");
        bad("merge_method: linear\nmodels:\n  - model: a\n    weight: 1\n", "models[0]", "'weight'",
                "parameters");
        bad("merge_method: linear\nmodels:\n  - 3\n", "models[0]", "mapping");
        bad("merge_method: linear\nmodels:\n  - model: [a]\n", "models[0].model");
        bad("merge_method: linear\nmodels:\n  - ''\n", "models[0]");
        bad("merge_method: linear\nmodels:\n  - '   '\n", "models[0]");
        bad("merge_method: linear\nmodels:\n  - model: a\n    parameters: 3\n", "models[0].parameters",
                "mapping");
        bad("merge_method: linear\nbase_model: [a]\nmodels: [a]\n", "base_model");
        bad(HEAD + "parameters: [1, 2]\n", "parameters", "mapping");
        bad(HEAD + "parameters:\n  1: 2\n", "parameters", "non-text key");
    }

    @Test
    void modulesAreNotSupportedYet() {
        bad("merge_method: linear\nmodules:\n  - sources: []\n", "'modules:'", "not supported yet", "slices:");
    }

    @Test
    void slicesParse() {
        MergeConfig c = ConfigParser.parse(FILE, """
                merge_method: passthrough
                slices:
                  - sources: [{model: m, layer_range: [0, 24]}]
                  - sources:
                      - model: m
                        layer_range: [8, 24]
                        parameters:
                          scale: [{filter: o_proj, value: 0.5}, {value: 1.0}]
                    base_model: m
                    parameters: {foo: 1}
                    residual_weight: 0.3
                """);
        assertTrue(c.usesSlices());
        assertEquals(2, c.slices().size());
        var s1 = c.slices().get(1);
        assertEquals("m", s1.baseModel());
        assertEquals(8, s1.sources().get(0).start());
        assertEquals(24, s1.sources().get(0).end());
        assertTrue(s1.sources().get(0).parameters().containsKey("scale"));
        assertTrue(s1.parameters().containsKey("foo"));
        assertTrue(c.warnings().stream().anyMatch(w -> w.contains("residual_weight")), c.warnings().toString());
    }

    @Test
    void badSlices() {
        bad("merge_method: linear\nmodels: [a]\nslices: [{sources: [{model: a, layer_range: [0, 1]}]}]\n",
                "either 'models:' or 'slices:'");
        bad("merge_method: linear\nslices: [{sources: [{model: a}]}]\n", "slices[0].sources[0].layer_range");
        bad("merge_method: linear\nslices: [{sources: [{model: a, layer_range: [4, 2]}]}]\n",
                "slices[0].sources[0].layer_range", "[4, 2]");
        bad("merge_method: linear\nslices: [{sources: [{model: a, layer_range: [0, 2]}], extra: 1}]\n",
                "slices[0]", "'extra'");
        bad("merge_method: linear\nslices: {a: 1}\n", "'slices'", "non-empty list");
    }

    static final String TWO = "merge_method: linear\nmodels:\n  - model: a\n  - model: b\n    parameters:\n";

    @Test
    void conditionalWithUnknownKeyNamesTheFullPath() {
        bad(TWO + "      weight:\n        - filter: mlp\n          valeu: 1\n", "models[1].parameters.weight[0]",
                "'valeu'");
        bad(TWO + "      weight: {filter: mlp, value: 1, extra: 2}\n", "models[1].parameters.weight", "'extra'");
    }

    @Test
    void conditionalWithoutValue() {
        bad(TWO + "      weight:\n        - filter: mlp\n          value: 1\n        - filter: attn\n",
                "models[1].parameters.weight[1]", "'value'");
        bad(TWO + "      weight: {filter: mlp}\n", "models[1].parameters.weight", "'value'");
        bad(TWO + "      weight: {filter: mlp, value: }\n", "models[1].parameters.weight.value", "no value");
        bad(TWO + "      weight: {filter: mlp, value: {a: 1}}\n", "models[1].parameters.weight.value");
        bad(TWO + "      weight: {filter: 3, value: 1}\n", "models[1].parameters.weight.filter");
    }

    @Test
    void mixedListsAndEmptyValues() {
        bad(TWO + "      weight: [1, a]\n", "models[1].parameters.weight", "mixes");
        bad(TWO + "      weight: [0.5, {filter: mlp, value: 1}]\n", "models[1].parameters.weight");
        bad(TWO + "      weight: [1, null]\n", "models[1].parameters.weight");
        bad(TWO + "      weight: []\n", "models[1].parameters.weight", "empty list");
        bad(TWO + "      weight:\n", "models[1].parameters.weight", "no value");
    }

    // ---------------------------------------------------------------- files

    @Test
    void readsFromAFileAndNamesItInErrors(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("merge.yml");
        Files.writeString(f, HEAD + "dtype: bfloat16\n");
        MergeConfig c = ConfigParser.parse(f);
        assertEquals(f, c.file());
        assertEquals(DType.BF16, c.dtype());

        Path missing = dir.resolve("nope.yml");
        BadInputException e = assertThrows(BadInputException.class, () -> ConfigParser.parse(missing));
        assertTrue(e.getMessage().startsWith(missing.toString()) && e.getMessage().contains("not found"),
                e.getMessage());

        Path folder = Files.createDirectory(dir.resolve("folder.yml"));
        e = assertThrows(BadInputException.class, () -> ConfigParser.parse(folder));
        assertTrue(e.getMessage().startsWith(folder.toString()), e.getMessage());

        Path latin1 = dir.resolve("latin1.yml");
        Files.write(latin1, new byte[] {'a', ':', ' ', (byte) 0xE9, '\n'});
        e = assertThrows(BadInputException.class, () -> ConfigParser.parse(latin1));
        assertTrue(e.getMessage().startsWith(latin1.toString()) && e.getMessage().contains("UTF-8"),
                e.getMessage());
    }
}
