package mae.tests;

import mae.tensor.io.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static mae.tests.PretrainTest.args;
import static mae.tests.PretrainTest.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A run that dies before its first checkpoint (kill -9, or an error after run.json) restarts cleanly from step 0,
 * with --resume or with the same --out; an error before training leaves no run folder.
 */
class EarlyDeathTest {
    static String savedHome;

    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    /** 12 steps, no checkpoint before the last. */
    static List<String> noEarlyCheckpoint(Path out) { return args(out, "--max-steps", "12", "--checkpoint-every", "0"); }

    @Test void a_run_killed_before_its_first_checkpoint_starts_again_from_step_0(@TempDir Path tmp) throws Exception {
        Path straight = tmp.resolve("straight"), killed = tmp.resolve("killed");
        Object[] r = run(noEarlyCheckpoint(straight));
        assertEquals(0, r[0], (String) r[1]);

        Process p = Child.start(home, tmp.resolve("child.log"), "mae.cli.Main", noEarlyCheckpoint(killed));
        assertTrue(Child.killWhen(p, () -> Files.exists(killed.resolve("metrics.jsonl"))), Files.readString(tmp.resolve("child.log")));
        assertTrue(Files.exists(killed.resolve("run.json")));
        assertFalse(Files.exists(killed.resolve("checkpoints/latest")), "killed before its first checkpoint");
        Path sameOut = Child.copy(killed, tmp.resolve("same-out"));
        Files.writeString(sameOut.resolve("notes.txt"), "mine");

        r = run(List.of("pretrain", "--resume", killed.toString(), "--no-progress"));          // was: "no complete checkpoint"
        assertEquals(0, r[0], (String) r[1]);
        PretrainTest.assertBitIdentical(PretrainTest.weights(straight, 12), PretrainTest.weights(killed, 12));
        assertEquals(PretrainTest.losses(straight), PretrainTest.losses(killed), "metrics start again at step 1");

        r = run(noEarlyCheckpoint(sameOut));                                                   // was: "holds another run"
        assertEquals(0, r[0], (String) r[1]);
        PretrainTest.assertBitIdentical(PretrainTest.weights(straight, 12), PretrainTest.weights(sameOut, 12));
        assertEquals(PretrainTest.losses(straight), PretrainTest.losses(sameOut));
        assertEquals("mine", Files.readString(sameOut.resolve("notes.txt")), "files that are not the run's stay");

        r = run(noEarlyCheckpoint(sameOut));                                                   // now it has a checkpoint: refused
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("holds another run"), (String) r[1]);
    }

    @Test void a_run_stopped_by_an_error_before_its_first_checkpoint_resumes_from_step_0(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        Object[] r = run(args(out, "--max-steps", "6", "--checkpoint-every", "0", "--blr", "1e12", "--warmup-epochs", "0"));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("The last good checkpoint is none"), (String) r[1]);
        assertTrue(Files.exists(out.resolve("run.json")) && !Files.exists(out.resolve("checkpoints/latest")));

        r = run(List.of("pretrain", "--resume", out.toString(), "--blr", "1.5e-3", "--no-progress"));
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(6, Files.readAllLines(out.resolve("metrics.jsonl")).size(), "steps 1..6, the exploded ones gone");
        Map<String, Object> runJson = Json.readObject(out.resolve("run.json"));
        assertEquals(1.5e-3, runJson.get("blr"));
        assertEquals(List.of(Map.of("step", 0L, "changed", Map.of("blr", Map.of("from", 1e12, "to", 1.5e-3)))), runJson.get("changes"));
        assertEquals("step-0000006", Files.readString(out.resolve("checkpoints/latest")).trim());
    }

    @Test void an_error_before_training_starts_leaves_no_run_folder(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        for (List<String> extra : List.of(List.of("--batch", "9000"), List.of("--batch", "3000", "--accum", "3"))) {
            Object[] r = run(args(out, extra.toArray(new String[0])));
            assertEquals(1, r[0]);
            assertTrue(((String) r[1]).contains("fewer than one step's --batch x --accum"), (String) r[1]);
            assertFalse(Files.exists(out), "no run folder: " + extra);
        }
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Object[] r = run(args(empty, "--batch", "9000"));
        assertEquals(1, r[0]);
        try (var s = Files.list(empty)) { assertEquals(0, s.count(), "an empty --out stays empty"); }
        Path latest = home.resolve("runs/latest");
        if (Files.exists(latest)) assertFalse(Files.readString(latest).contains(tmp.toString()), "runs/latest names no failed run");
    }
}
