package org.mergelab.cli;

import picocli.CommandLine.Option;

/** {@code --verbose}, shared by every command (Main also reads it before parsing, to show stack traces). */
final class VerboseOption {
    @Option(names = "--verbose", description = "print stack traces of errors and timing details")
    boolean on;
}
