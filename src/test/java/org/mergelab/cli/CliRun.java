package org.mergelab.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the CLI in process and keeps what it printed. */
record CliRun(int code, String out, String err) {
    static CliRun of(Object... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] a = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            a[i] = String.valueOf(args[i]);
        }
        int code = Main.run(a, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliRun(code, out.toString(), err.toString());
    }
}
