package mae.io;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress of a long task with its ETA: a live bar on a terminal (the progressbar library, on stderr), a few
 * plain lines when the output is a file or a pipe. Pretraining prints a line every tenth of the run
 * ("step 140/1400  loss 0.9133 lr 3.75e-04 231 img/s  ETA 5m 12s"); evaluation tasks (feature extraction, kNN,
 * the linear probe, fine-tuning, the explain passes) a line at each quarter once they have run for two seconds
 * ("features, pretrained encoder, training images: 5000/10000 images  ETA 7s"), so quick ones stay quiet.
 * The last line says how long the task took. bin/mae --no-progress turns the bars into lines.
 */
public final class Progress implements AutoCloseable {
    private static volatile boolean barsAllowed = true;

    /** bin/mae --no-progress: plain lines even on a terminal. */
    public static void allowBars(boolean allowed) { barsAllowed = allowed; }

    /** Whether progress shows as a live bar: bars allowed and a terminal attached. */
    public static boolean live() { return barsAllowed && System.console() != null; }

    /** Lines of an evaluation task: one per quarter. */
    static final int TASK_LINES = 4;
    /** An evaluation task prints its lines only after running this long. */
    static final double TASK_QUIET_SECONDS = 2;
    private static volatile double taskQuietSeconds = TASK_QUIET_SECONDS;

    /**
     * How long an evaluation task stays quiet before its lines (default 2 s); tests set 0 to see every task's lines
     * whatever the machine's speed.
     */
    public static void setTaskQuietSeconds(double seconds) { taskQuietSeconds = seconds; }

    private final ProgressBar bar;
    private final PrintStream log;
    private final String prefix, unit;
    private final long total, start;
    private final int lines;
    private final double quietSeconds;
    private final LongSupplier clock;
    private final long t0;
    private int printed;                 // lines printed so far (0..lines)

    /**
     * An evaluation task of {@code total} units on System.out: a bar on a terminal, else up to four lines.
     * {@code task} names it ("features, pretrained encoder, training images").
     */
    public static Progress start(String task, long total, String unit) {
        return start(task, total, unit, System.out);
    }

    /** As {@link #start(String, long, String)}, the lines to {@code log}; a null log prints nothing (bars still show on a terminal). */
    public static Progress start(String task, long total, String unit, PrintStream log) {
        return new Progress(task + ": ", unit, live(), total, 0, log, TASK_LINES, taskQuietSeconds, System::nanoTime);
    }

    /** As above, a task resumed with {@code start} of its units done before (not printed again; the ETA from this launch's pace). */
    public static Progress start(String task, long total, long start, String unit, PrintStream log) {
        return new Progress(task + ": ", unit, live(), total, start, log, TASK_LINES, taskQuietSeconds, System::nanoTime);
    }

    /** Pretraining's steps from {@code start} to {@code total}: a bar when {@code live}, else a line to {@code log} every tenth. */
    public static Progress steps(boolean live, long total, long start, PrintStream log) {
        return new Progress("step ", "", live, total, start, log, 10, 0, System::nanoTime);
    }

    Progress(String prefix, String unit, boolean live, long total, long start, PrintStream log, int lines, double quietSeconds, LongSupplier clock) {
        this.prefix = prefix;
        this.unit = unit;
        this.total = Math.max(0, total);
        this.start = Math.min(start, this.total);
        this.log = log;
        this.lines = lines;
        this.quietSeconds = quietSeconds;
        this.clock = clock;
        this.t0 = clock.getAsLong();
        String name = prefix.endsWith(": ") ? prefix.substring(0, prefix.length() - 2) : prefix.strip();
        this.bar = live ? new ProgressBarBuilder().setTaskName(name).setInitialMax(this.total).startsFrom(this.start, Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate().build() : null;
        // The lines already passed when a run resumes are not printed again.
        while (printed < lines && mark(printed + 1) <= this.start) printed++;
    }

    /** The unit count at which line k of {@code lines} falls (the last at total). */
    private long mark(int k) { return k >= lines ? total : Math.max(1, total * k / lines); }

    public void step(long done) { step(done, ""); }

    /** {@code done} units of the total are done; {@code extra} (e.g. "loss 0.61") goes on the bar and the lines. */
    public void step(long done, String extra) {
        if (bar != null) {
            bar.stepTo(done);
            if (!extra.isEmpty()) bar.setExtraMessage(extra);
            return;
        }
        if (log == null || printed >= lines || done < mark(printed + 1)) return;
        while (printed < lines && mark(printed + 1) <= done) printed++;         // one line, however many marks it passed
        double secs = (clock.getAsLong() - t0) / 1e9;
        if (secs < quietSeconds) return;                                   // a quick task (so far): no lines
        String when;
        if (done >= total) when = "done in " + duration(secs);
        else if (done > start && secs > 0) when = "ETA " + duration(secs * (total - done) / (done - start));
        else when = "ETA unknown";
        log.printf(Locale.ROOT, "%s%n", prefix + done + "/" + total + (unit.isEmpty() ? "" : " " + unit) + (extra.isEmpty() ? "" : "  " + extra) + "  " + when);
    }

    /** A line of its own to the log while the task runs (over the bar's line on a terminal; the bar redraws below it). */
    public void note(String line) {
        if (log != null) log.printf(Locale.ROOT, "%s%s%n", bar != null ? "\r\033[K" : "", line);
    }

    @Override public void close() { if (bar != null) bar.close(); }

    /** "12s", "5m 12s", "2h 05m". */
    static String duration(double seconds) {
        long s = Math.round(Math.max(0, seconds));
        if (s < 60) return s + "s";
        if (s < 3600) return String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh %02dm", s / 3600, (s % 3600) / 60);
    }
}
