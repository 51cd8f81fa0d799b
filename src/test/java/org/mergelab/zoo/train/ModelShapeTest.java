package org.mergelab.zoo.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.mergelab.BadInputException;
import org.mergelab.eval.LlamaConfig;

import com.fasterxml.jackson.databind.node.ObjectNode;

class ModelShapeTest {
    @Test
    void configJsonRoundTripsAndIsWhatTheEvaluationReads() {
        ModelShape s = new ModelShape(3, 64, 176, 4, 2, 100, 96, 500.0, 1e-6);
        assertEquals(s, ModelShape.of(s.config(), Path.of("config.json")));
        LlamaConfig eval = LlamaConfig.parse(s.config(), Path.of("config.json"));
        assertEquals(s.tensors().keySet(), eval.tensors().keySet());
        s.tensors().forEach((name, shape) -> assertEquals(java.util.Arrays.toString(shape),
                java.util.Arrays.toString(eval.tensors().get(name)), name));
        assertEquals(96, eval.maxPositions());
        assertEquals(s.parameters(), eval.tensors().values().stream()
                .mapToLong(d -> java.util.Arrays.stream(d).reduce(1, (a, b) -> a * b)).sum());
    }

    @Test
    void familyDefault() {
        ModelShape f = ModelShape.family();
        assertEquals(32, f.headDim());
        assertTrue(f.parameters() > 800_000 && f.parameters() < 900_000, "≈ 0.83 M: " + f.parameters());
    }

    @Test
    void rejectsWhatItCannotTrain() {
        assertThrows(IllegalArgumentException.class, () -> new ModelShape(2, 30, 64, 4, 4, 100, 32, 1e4, 1e-5),
                "heads of 7.5");
        assertThrows(IllegalArgumentException.class, () -> new ModelShape(2, 36, 64, 4, 4, 100, 32, 1e4, 1e-5),
                "odd head size");
        assertThrows(IllegalArgumentException.class, () -> new ModelShape(2, 32, 64, 4, 3, 100, 32, 1e4, 1e-5));
        ObjectNode c = ModelShape.family().config();
        c.putObject("rope_scaling").put("type", "linear");
        BadInputException e = assertThrows(BadInputException.class, () -> ModelShape.of(c, Path.of("m/config.json")));
        assertTrue(e.getMessage().startsWith("m/config.json: rope_scaling"), e.getMessage());
        ObjectNode d = ModelShape.family().config();
        d.put("num_key_value_heads", 3);
        assertThrows(BadInputException.class, () -> ModelShape.of(d, Path.of("config.json")));
    }
}
