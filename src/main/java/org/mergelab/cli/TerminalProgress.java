package org.mergelab.cli;

import org.mergelab.merge.Progress;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar (bytes, rate, ETA) on stderr when it is a terminal; nothing otherwise. The bar library writes
 * {@code \r} frames even into files and pipes, so the terminal check is ours.
 */
final class TerminalProgress implements Progress {
    enum Mode { AUTO, ALWAYS, NEVER }

    private final String task;
    private ProgressBar bar;

    private TerminalProgress(String task) {
        this.task = task;
    }

    static Progress create(Mode mode, String task) {
        return shows(mode) ? new TerminalProgress(task) : Progress.NONE;
    }

    /** Whether a bar is drawn in {@code mode}: AUTO means stderr is a terminal and this is not CI. */
    static boolean shows(Mode mode) {
        return switch (mode) {
            case ALWAYS -> true;
            case NEVER -> false;
            case AUTO -> System.console() != null && System.console().isTerminal()
                    && System.getenv("CI") == null;
        };
    }

    @Override
    public void start(long totalBytes, int tensors) {
        bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(1, totalBytes / 1_000_000))
                .setUnit(" MB", 1).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200)
                .showSpeed().continuousUpdate().build();
    }

    private long pendingBytes;

    @Override
    public synchronized void advance(long bytes) {
        pendingBytes += bytes;
        if (pendingBytes >= 1_000_000) {
            bar.stepBy(pendingBytes / 1_000_000);
            pendingBytes %= 1_000_000;
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.stepTo(bar.getMax());
            bar.close();
        }
    }
}
