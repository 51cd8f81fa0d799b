package org.mergelab.io;

import java.io.IOException;
import java.nio.file.Path;

import org.mergelab.BadInputException;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The safetensors header parser on arbitrary bytes: every input either parses or is rejected with our own
 * {@link BadInputException}; any other exception (or a hang, or an allocation larger than the input) is a finding.
 * {@code mvn test} replays the stored inputs; {@code JAZZER_FUZZ=1} fuzzes (CI: {@code ci}, a short run;
 * {@code -Pfuzz}: {@code long}, at least a million inputs).
 */
class SafetensorsHeaderFuzzTest {
    private static final Path LABEL = Path.of("fuzz.safetensors");

    @FuzzTest(maxDuration = "25s")
    @DictionaryEntries({"\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"BF16\"", "\"F32\"",
        "\"I64\"", "\"BOOL\"", "18446744073709551615", "-1", "[0,0]"})
    void ci(byte[] file) throws IOException {
        parse(file);
    }

    @FuzzTest(maxDuration = "30m", maxExecutions = 1_200_000)
    void exhaustive(byte[] file) throws IOException {
        parse(file);
    }

    static void parse(byte[] file) throws IOException {
        try {
            SafetensorsFile.parse(LABEL, file);
        } catch (BadInputException expected) {
            if (expected.getMessage() == null || !expected.getMessage().startsWith(LABEL.toString())) {
                throw new AssertionError("message does not name the file: " + expected.getMessage());
            }
        }
    }
}
