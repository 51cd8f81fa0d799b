package org.mergelab.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

class MachineTest {
    private static List<String> cpuinfo(String flags) {
        return List.of("processor\t: 0", "vendor_id\t: AuthenticAMD", "cpu family\t: 25", "model\t\t: 17",
                "model name\t: AMD EPYC", "flags\t\t: fpu sse2 avx " + flags + " bmi2", "", "processor\t: 1",
                "model name\t: something else");
    }

    @Test
    void namesTheCpuItsWidestVectorExtensionAndTheVectorWidth() {
        assertEquals("AMD EPYC (family 25, model 17; AVX-512 with BF16, 512-bit vectors), 2 cores, JDK 25.0.3, amd64",
                Machine.describe(cpuinfo("avx2 avx512f avx512_bf16"), 2, 512, "25.0.3", "amd64"));
        assertEquals("AMD EPYC (family 25, model 17; AVX-512, 512-bit vectors), 2 cores, JDK 25.0.3, amd64",
                Machine.describe(cpuinfo("avx2 avx512f"), 2, 512, "25.0.3", "amd64"));
        assertEquals("AMD EPYC (family 25, model 17; AVX2, 256-bit vectors), 2 cores, JDK 25.0.3, amd64",
                Machine.describe(cpuinfo("avx2"), 2, 256, "25.0.3", "amd64"));
    }

    @Test
    void withoutCpuinfoStillGivesCoresVectorsAndJdk() {
        assertEquals("CPU (128-bit vectors), 4 cores, JDK 25, aarch64", Machine.describe(List.of(), 4, 128, "25",
                "aarch64"));
    }

    @Test
    void modelNameIsNotTakenForModel() {
        // "model name" must not answer for "model" (and the first processor's values win)
        assertEquals("X (model 7; AVX2, 256-bit vectors), 1 core, JDK 25, amd64",
                Machine.describe(List.of("model name\t: X", "model\t\t: 7", "flags\t: avx2", "model\t: 9"), 1, 256,
                        "25", "amd64"));
    }
}
