package org.mergelab.experiment;

import java.util.List;

/**
 * {@code manifest.json}: what the results folder holds and how it was made. Rewritten after every cell.
 *
 * @param spec the spec file
 * @param specHash SHA-256 of the spec file as last run
 * @param started when this run began (ISO-8601)
 * @param finished when it ended, null while it runs (or when it was killed)
 * @param cellsDone planned cells with a row for every split
 * @param rows rows in results.jsonl
 * @param cells the planned cells, in spec order
 */
record Manifest(String experiment, String spec, String specHash, String mergelabVersion, String gitCommit,
        String started, String finished, List<String> splits, int cellsPlanned, int cellsDone, int rows,
        List<PlannedCell> cells) {

    record PlannedCell(String cellId, String label, boolean done) {}
}
