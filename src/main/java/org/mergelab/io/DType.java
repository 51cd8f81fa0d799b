package org.mergelab.io;

import java.util.Locale;

import org.mergelab.BadInputException;

/** Element types of safetensors files. Floats are merged; the others are copied through unchanged. */
public enum DType {
    F64(8, "float64"),
    F32(4, "float32"),
    F16(2, "float16"),
    BF16(2, "bfloat16"),
    I64(8, "int64"),
    I32(4, "int32"),
    I16(2, "int16"),
    I8(1, "int8"),
    U8(1, "uint8"),
    BOOL(1, "bool");

    private final int width;
    private final String torchName;

    DType(int width, String torchName) {
        this.width = width;
        this.torchName = torchName;
    }

    /** Bytes per element. */
    public int width() {
        return width;
    }

    /** The name PyTorch and config.json's {@code torch_dtype} use, e.g. {@code bfloat16}. */
    public String torchName() {
        return torchName;
    }

    public boolean isFloat() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** Parses the dtype string of a safetensors header ("BF16"); null when unknown. */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /**
     * Parses a dtype as configs spell it: mergekit's {@code bfloat16}, {@code float16}, {@code float32} (an optional
     * {@code torch.} prefix allowed), plus the short forms {@code bf16}, {@code fp16}, {@code fp32}.
     */
    public static DType fromConfigName(String name, String where) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.startsWith("torch.")) {
            n = n.substring("torch.".length());
        }
        return switch (n) {
            case "bfloat16", "bf16" -> BF16;
            case "float16", "fp16", "half" -> F16;
            case "float32", "fp32", "float" -> F32;
            default -> throw new BadInputException(where + ": unknown dtype '" + name
                    + "'; expected bfloat16, float16 or float32");
        };
    }
}
