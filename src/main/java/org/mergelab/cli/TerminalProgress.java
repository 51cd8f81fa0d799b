package org.mergelab.cli;

import org.mergelab.merge.Progress;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar (amount in units such as MB or cells, rate, ETA) on stderr when it is a terminal; nothing otherwise.
 * The bar library writes {@code \r} frames even into files and pipes, so the terminal check is ours.
 */
final class TerminalProgress implements Progress {
    enum Mode { AUTO, ALWAYS, NEVER }

    private final String task;
    private final String unit;
    private final long unitSize;
    private ProgressBar bar;

    private TerminalProgress(String task, String unit, long unitSize) {
        this.task = task;
        this.unit = unit;
        this.unitSize = unitSize;
    }

    /** A bar in MB: {@link #start} and {@link #advance} count bytes. */
    static Progress create(Mode mode, String task) {
        return create(mode, task, " MB", 1_000_000);
    }

    /** A bar counting {@code unit}s of {@code unitSize} of what {@link #start} and {@link #advance} count. */
    static Progress create(Mode mode, String task, String unit, long unitSize) {
        boolean show = switch (mode) {
            case ALWAYS -> true;
            case NEVER -> false;
            case AUTO -> System.console() != null && System.console().isTerminal()
                    && System.getenv("CI") == null;
        };
        return show ? new TerminalProgress(task, unit, unitSize) : Progress.NONE;
    }

    @Override
    public void start(long total, int items) {
        bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(1, total / unitSize))
                .setUnit(unit, 1).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200)
                .showSpeed().continuousUpdate().build();
    }

    private long pending;

    @Override
    public synchronized void advance(long amount) {
        pending += amount;
        if (pending >= unitSize) {
            bar.stepBy(pending / unitSize);
            pending %= unitSize;
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
