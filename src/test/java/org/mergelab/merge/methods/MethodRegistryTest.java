package org.mergelab.merge.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.mergelab.merge.MergeMethod;
import org.mergelab.merge.ParamSpec;

class MethodRegistryTest {
    @Test
    void listsEveryMethodOnce() {
        assertEquals(List.of("linear", "slerp", "nlerp", "delerp", "nuslerp", "multislerp", "karcher", "nearswap",
                "passthrough", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties",
                "della", "della_linear", "model_stock", "sce"), MethodRegistry.names());
    }

    /**
     * The methods whose prepare takes dots (Reductions.gram / vectorGram): a merge of large models warms those kernels
     * up for them.
     */
    @Test
    void theMethodsThatTakeDotsSaySo() {
        List<String> taking = MethodRegistry.names().stream()
                .filter(n -> MethodRegistry.find(n).orElseThrow().usesReductions()).toList();
        assertEquals(List.of("slerp", "nlerp", "delerp", "nuslerp", "multislerp", "karcher", "model_stock"), taking);
    }

    @Test
    void findsByExactName() {
        for (String name : MethodRegistry.names()) {
            MergeMethod m = MethodRegistry.find(name).orElseThrow();
            assertEquals(name, m.name());
        }
        assertFalse(MethodRegistry.find("nuzzle").isPresent());
        assertFalse(MethodRegistry.find("SLERP").isPresent());
        assertFalse(MethodRegistry.find("dare-ties").isPresent());
    }

    @Test
    void parameterDeclarationsAreWellFormed() {
        for (String name : MethodRegistry.names()) {
            MergeMethod m = MethodRegistry.find(name).orElseThrow();
            Set<String> seen = new HashSet<>();
            for (ParamSpec p : m.params()) {
                assertTrue(seen.add(p.name()), name + " declares '" + p.name() + "' twice");
                assertNotNull(p.scope());
                assertNotNull(p.kind());
                Object def = p.defaultValue();
                if (def != null) {
                    switch (p.kind()) {
                        case BOOLEAN -> assertTrue(def instanceof Boolean, name + "." + p.name());
                        case INTEGER -> assertTrue(def instanceof Integer, name + "." + p.name());
                        case NUMBER -> assertTrue(def instanceof Number, name + "." + p.name());
                        case CHOICE -> assertTrue(p.choices().contains(def), name + "." + p.name());
                    }
                }
            }
            assertNotNull(m.baseRole(), name);
        }
    }
}
