package org.mergelab.cli;

import java.util.Locale;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** Parses {@code --progress=auto|always|never}. */
final class ProgressOption {
    private ProgressOption() {}

    static TerminalProgress.Mode parse(CommandSpec spec, String value) {
        try {
            return TerminalProgress.Mode.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--progress is '" + value + "'; expected auto, always or never");
        }
    }
}
