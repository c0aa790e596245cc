package mae.train;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The training progress line: step, loss, lr, images/s and ETA. A terminal gets a live bar (the
 * progressbar library); a log file or pipe gets a plain line every tenth of the run.
 */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final PrintStream log;
    private final long total;
    private final long every;

    Progress(boolean live, long total, long start, PrintStream log) {
        this.log = log;
        this.total = total;
        this.every = Math.max(1, total / 10);
        this.bar = live ? new ProgressBarBuilder().setTaskName("pretrain").setInitialMax(total).startsFrom(start, java.time.Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate().build() : null;
    }

    void step(long step, double loss, double lr, double ips) {
        String extra = String.format(Locale.ROOT, "loss %.4f lr %.2e %.0f img/s", loss, lr, ips);
        if (bar != null) {
            bar.stepTo(step);
            bar.setExtraMessage(extra);
        } else if (step % every == 0 || step == total) {
            log.printf(Locale.ROOT, "step %d/%d  %s%n", step, total, extra);
        }
    }

    @Override public void close() { if (bar != null) bar.close(); }
}
