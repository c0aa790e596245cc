package mae.io;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Piped progress: a few plain lines, each with the ETA, the last with the time taken; quick tasks stay quiet. */
class ProgressTest {
    /** A clock the test moves: seconds per unit of work. */
    static final class Clock { long nanos; }

    static List<String> lines(ByteArrayOutputStream buf) { return buf.toString(StandardCharsets.UTF_8).lines().toList(); }

    @Test void pretraining_prints_every_tenth_with_the_eta() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Clock c = new Clock();
        Progress p = new Progress("step ", "", false, 100, 0, new PrintStream(buf, true, StandardCharsets.UTF_8), 10, 0, () -> c.nanos);
        for (int s = 1; s <= 100; s++) { c.nanos += 500_000_000L; p.step(s, "loss 0.5"); }   // 0.5 s a step
        p.close();
        List<String> l = lines(buf);
        assertEquals(10, l.size(), String.join("\n", l));
        assertEquals("step 10/100  loss 0.5  ETA 45s", l.get(0));
        assertEquals("step 20/100  loss 0.5  ETA 40s", l.get(1));
        assertEquals("step 100/100  loss 0.5  done in 50s", l.get(9));
    }

    @Test void a_resumed_run_counts_its_eta_from_where_it_resumed() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Clock c = new Clock();
        Progress p = new Progress("step ", "", false, 1000, 600, new PrintStream(buf, true, StandardCharsets.UTF_8), 10, 0, () -> c.nanos);
        for (int s = 601; s <= 1000; s++) { c.nanos += 1_000_000_000L; p.step(s, ""); }
        List<String> l = lines(buf);
        assertEquals(List.of("step 700/1000  ETA 5m 00s", "step 800/1000  ETA 3m 20s", "step 900/1000  ETA 1m 40s", "step 1000/1000  done in 6m 40s"), l);
    }

    @Test void an_evaluation_task_prints_its_quarters_once_it_has_run_two_seconds() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Clock c = new Clock();
        Progress p = new Progress("features: ", "images", false, 1000, 0, new PrintStream(buf, true, StandardCharsets.UTF_8),
                Progress.TASK_LINES, Progress.TASK_QUIET_SECONDS, () -> c.nanos);
        for (int i = 100; i <= 1000; i += 100) { c.nanos += 400_000_000L; p.step(i); }            // 0.4 s per 100 images
        assertEquals(List.of("features: 500/1000 images  ETA 2s", "features: 800/1000 images  ETA 1s", "features: 1000/1000 images  done in 4s"),
                lines(buf), "the mark at 250 passed at 1.2 s, still quiet; one line per mark passed after that");
    }

    @Test void a_quick_task_prints_nothing() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Clock c = new Clock();
        Progress p = new Progress("kNN: ", "queries", false, 64, 0, new PrintStream(buf, true, StandardCharsets.UTF_8),
                Progress.TASK_LINES, Progress.TASK_QUIET_SECONDS, () -> c.nanos);
        for (int i = 1; i <= 64; i++) { c.nanos += 10_000_000L; p.step(i); }
        assertEquals("", buf.toString(StandardCharsets.UTF_8));
    }

    @Test void durations_read_as_a_person_writes_them() {
        assertEquals("0s", Progress.duration(0.2));
        assertEquals("59s", Progress.duration(59.4));
        assertEquals("1m 00s", Progress.duration(60));
        assertEquals("2h 05m", Progress.duration(2 * 3600 + 5 * 60 + 20));
    }
}
