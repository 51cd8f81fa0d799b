package org.mergelab.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.List;

import org.mergelab.BadInputException;
import org.mergelab.Version;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mergelab} command line. Commands return exit codes; this class alone maps failures to them. */
@Command(name = "mergelab", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "Merge Hugging Face checkpoints, evaluate them, sweep and report.")
public final class Main implements Runnable {
    /** The subcommands, in help order; {@link #commandLine} registers only the ones a command line needs. */
    static final List<Class<?>> SUBCOMMANDS = List.of(MergeCommand.class, InspectCommand.class, SynthCommand.class,
            BenchCommand.class, ScoreCommand.class, EvalCommand.class, SweepCommand.class, ReportCommand.class,
            ZooCommand.class, CommandLine.HelpCommand.class);

    public static final int OK = 0;
    public static final int INTERNAL_ERROR = 1;
    public static final int BAD_INPUT = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (sweep, merge, eval, report, zoo, inspect, score, synth, bench)");
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("merge")) {
            // compiling the kernels takes ~0.3-1 s of one core: start now, beside start-up and planning
            org.mergelab.merge.MergeEngine.warmUpKernelsInBackground();
        }
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI in process (tests call this); returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        CommandLine cl = commandLine(args);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> handle(e, verbose, err));
        cl.setParameterExceptionHandler((e, a) -> {
            // one line, not picocli's usage dump: the user asked for something specific and mistyped it
            String command = e.getCommandLine().getCommandSpec().qualifiedName();
            err.println("mergelab: " + e.getMessage() + " (see '" + command + " --help')");
            err.flush();
            return BAD_INPUT;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /**
     * The command line with the subcommands {@code args} can reach: the one it names, none for {@code --version}, all
     * otherwise (help, a typo). Picocli's classes are Java 5 bytecode, which the AOT cache cannot hold, so every
     * subcommand's model costs start-up time: building all ten took ~0.2 s of each merge (measured).
     */
    static CommandLine commandLine(String[] args) {
        CommandLine cl = new CommandLine(new Main());
        String first = args.length > 0 ? args[0] : "";
        boolean versionOnly = args.length == 1 && (first.equals("--version") || first.equals("-V"));
        List<Class<?>> named = SUBCOMMANDS.stream()
                .filter(c -> c.getAnnotation(Command.class).name().equals(first)).toList();
        for (Class<?> command : versionOnly ? List.<Class<?>>of() : named.isEmpty() ? SUBCOMMANDS : named) {
            cl.addSubcommand(command);
        }
        return cl;
    }

    private static int handle(Exception e, boolean verbose, PrintWriter err) {
        Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        BadInputException bad = badInputIn(e);
        int code;
        String message;
        if (bad != null) {
            code = BAD_INPUT;
            message = bad.getMessage();
        } else if (cause instanceof NoSuchFileException nf) {
            code = BAD_INPUT;
            message = nf.getFile() + ": not found";
        } else if (cause instanceof AccessDeniedException ad) {
            code = BAD_INPUT;
            message = ad.getFile() + ": permission denied";
        } else if (cause instanceof FileNotFoundException fnf) {
            // java.io's way of saying "missing" or "permission denied" (Jackson reads files through it)
            code = BAD_INPUT;
            message = fnf.getMessage();
        } else if (cause instanceof IOException io) {
            code = INTERNAL_ERROR;
            message = "I/O error: " + (e.getMessage() != null ? e.getMessage() : io.toString());
        } else {
            code = INTERNAL_ERROR;
            message = "internal error: " + e;
        }
        // the contract is one line: a message quoting a file's content must not break it
        err.println("mergelab: " + String.valueOf(message).replaceAll("\\s*[\\r\\n]+\\s*", " ").strip());
        if (verbose) {
            e.printStackTrace(err);
        } else if (code == INTERNAL_ERROR) {
            err.println("mergelab: rerun with --verbose for the stack trace");
        }
        err.flush();
        return code;
    }

    /** The BadInputException that caused {@code e}, if any (a worker thread or a wrapper may have carried it). */
    private static BadInputException badInputIn(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof BadInputException b) {
                return b;
            }
        }
        return null;
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"mergelab " + Version.get() + " (Java " + Runtime.version() + ")"};
        }
    }
}
