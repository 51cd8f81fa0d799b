package org.mergelab.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import jdk.incubator.vector.FloatVector;

/**
 * The machine line of the benchmark reports. The sessions' machines differ (the same 2-core VM has come up on an
 * AVX-512 Zen 4 and on an AVX2 Zen 3), and the compute-bound merges run 1.2-1.9x apart on them (4 GB TIES to DARE-TIES)
 * while the I/O floor does not, so a report names the CPU, its vector instructions and the width the Vector API uses.
 */
final class Machine {
    private Machine() {}

    /** This machine, e.g. {@code AMD EPYC (family 25, model 1; AVX2, 256-bit vectors), 2 cores, JDK 25.0.3, amd64}. */
    static String describe() {
        List<String> cpuinfo = List.of();
        try {
            cpuinfo = Files.readAllLines(Path.of("/proc/cpuinfo"));
        } catch (IOException | RuntimeException e) {
            // not Linux: the rest of the line still says something
        }
        return describe(cpuinfo, Runtime.getRuntime().availableProcessors(),
                FloatVector.SPECIES_PREFERRED.vectorBitSize(), Runtime.version().toString(),
                System.getProperty("os.arch"));
    }

    /** The line for the first processor of {@code cpuinfo} (the lines of {@code /proc/cpuinfo}; empty if unknown). */
    static String describe(List<String> cpuinfo, int cores, int vectorBits, String jdk, String arch) {
        List<String> details = new ArrayList<>();
        field(cpuinfo, "cpu family").ifPresent(f -> details.add("family " + f));
        field(cpuinfo, "model").ifPresent(m -> details.add("model " + m));
        String cpu = String.join(", ", details);
        List<String> vectors = new ArrayList<>();
        isa(field(cpuinfo, "flags").orElse("")).ifPresent(vectors::add);
        vectors.add(vectorBits + "-bit vectors");
        cpu += (cpu.isEmpty() ? "" : "; ") + String.join(", ", vectors);
        String name = field(cpuinfo, "model name").orElse("CPU");
        return name + " (" + cpu + "), " + cores + (cores == 1 ? " core" : " cores") + ", JDK " + jdk + ", " + arch;
    }

    /** The 1-minute load average ({@code /proc/loadavg}), NaN where unknown: how busy the cores were around a run. */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** The widest x86 vector extension among the flags: what decides the lane count of every kernel. */
    private static Optional<String> isa(String flags) {
        List<String> f = List.of(flags.split("\\s+"));
        if (f.contains("avx512f")) {
            return Optional.of(f.contains("avx512_bf16") ? "AVX-512 with BF16" : "AVX-512");
        }
        if (f.contains("avx2")) {
            return Optional.of("AVX2");
        }
        return f.contains("asimd") ? Optional.of("NEON") : Optional.empty();
    }

    /** The value of the first {@code key : value} line whose key is exactly {@code key}. */
    private static Optional<String> field(List<String> cpuinfo, String key) {
        for (String line : cpuinfo) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equals(key)) {
                String value = line.substring(colon + 1).strip();
                return value.isEmpty() ? Optional.empty() : Optional.of(value);
            }
        }
        return Optional.empty();
    }
}
