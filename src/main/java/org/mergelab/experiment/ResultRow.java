package org.mergelab.experiment;

import java.util.List;
import java.util.Map;

/**
 * One line of {@code results.jsonl}: a cell evaluated on one split (the contract between the runner and the report;
 * README "Experiments" lists the fields).
 *
 * @param kind {@code reference} or {@code merge}
 * @param method the spec's method, null for references
 * @param model the reference's alias, null for merges
 * @param models aliases ({@code [alias]} for a reference)
 * @param params the cell's parameter values; empty for references
 * @param seed the merge's seed, null for references
 * @param tasks per task, in spec order
 * @param norms null for references
 */
public record ResultRow(String cellId, String experiment, String kind, String label, String method, String model,
        String base, List<String> models, Map<String, Object> params, Long seed, String split,
        Map<String, TaskScores> tasks, NormSummary norms, Timing timing, Provenance provenance) {

    /**
     * Seconds spent on the cell (merge and session load are shared by its splits' rows) and the process's peak
     * memory so far.
     *
     * @param loadS reading the weights into an ONNX Runtime session
     * @param evalS this split's tasks
     * @param peakRssMb the process's peak resident memory (VmHWM), null where /proc is not available
     * @param cachedTasks how many of this split's tasks came from the evaluation cache
     */
    public record Timing(double mergeS, double loadS, double evalS, Long peakRssMb, int cachedTasks) {
        static double round(double seconds) {
            return Math.round(seconds * 1000) / 1000.0;
        }
    }

    /**
     * @param gitCommit HEAD of the git checkout the sweep ran in, null when there is none
     * @param specHash SHA-256 of the spec file
     * @param modelHashes content hashes of the cell's models ({@link ModelHashes}), by alias
     * @param modelIdentity identity of the evaluated weights (eval's hash of the float32 tensors)
     * @param created ISO-8601, seconds
     */
    public record Provenance(String mergelabVersion, String gitCommit, String specHash,
            Map<String, String> modelHashes, String modelIdentity, String created) {}
}
