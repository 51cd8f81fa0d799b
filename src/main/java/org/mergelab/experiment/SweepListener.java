package org.mergelab.experiment;

import java.util.List;

/** What a sweep tells its caller as it goes (the CLI draws a bar and prints a line per cell). */
public interface SweepListener {
    /** Before the first cell: how many cells the spec has and how many will run (the others are done). */
    default void starting(int cells, int toRun) {}

    /** A cell is done and its rows are stored. Calls come one at a time, from the threads running cells. */
    default void cellDone(Cell cell, List<ResultRow> rows) {}

    /** A warning or note for the user. */
    default void note(String message) {}
}
