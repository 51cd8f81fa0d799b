package org.mergelab.experiment;

import java.io.IOException;

/** How a merge cell's model reaches evaluation: kept in memory, or written to disk and read back. */
interface MergeStrategy {
    CellModel merge(Cell cell) throws IOException;
}
