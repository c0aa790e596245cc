package mae.tests;

import mae.tensor.io.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static mae.tests.PretrainTest.args;
import static mae.tests.PretrainTest.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Options given with --resume are applied (the step budget, the lr, the checkpoint interval, the kNN bank:
 * recorded in run.json with the step they took effect) or refused in one line; never ignored.
 */
class ResumeOptionsTest {
    static String savedHome;

    @TempDir static Path home;
    /** A finished 4-step run with checkpoints at 2 and 4. */
    static Path run4;

    @BeforeAll static void setUp() throws Exception {
        savedHome = System.getProperty("mae.home");
        System.setProperty("mae.home", home.toString());
        run4 = home.resolve("run4");
        Object[] r = run(args(run4, "--max-steps", "4"));
        assertEquals(0, r[0], (String) r[1]);
    }

    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    static List<String> resume(Path run, String... extra) {
        List<String> a = new ArrayList<>(List.of("pretrain", "--resume", run.toString(), "--no-progress"));
        a.addAll(List.of(extra));
        return a;
    }

    @Test void options_that_define_the_run_are_refused_in_one_line_and_nothing_changes(@TempDir Path tmp) throws Exception {
        Path c = Child.copy(run4, tmp.resolve("c"));
        Map<String, String> before = Child.snapshot(c);
        for (String[] flag : List.of(new String[]{"--batch", "32"}, new String[]{"--seed", "9"}, new String[]{"--mask-ratio", "0.5"},
                new String[]{"--config", "fmnist"}, new String[]{"--no-norm-pix"}, new String[]{"--masking", "grid"}, new String[]{"--accum", "2"},
                new String[]{"--warmup-epochs", "1"}, new String[]{"--data", tmp.toString()})) {
            Object[] r = run(resume(c, flag));
            String err = ((String) r[1]).trim();
            assertEquals(1, r[0], String.join(" ", flag) + ": " + err);
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.contains(flag[0].replace("--no-", "--")) && err.contains("cannot change on resume"), err);
        }
        assertEquals(before, Child.snapshot(c), "no file changed");
    }

    @Test void the_run_s_own_values_given_again_are_accepted(@TempDir Path tmp) throws Exception {
        Path c = Child.copy(run4, tmp.resolve("c"));
        Object[] r = run(resume(c, "--batch", "16", "--seed", "3", "--config", "tiny", "--norm-pix", "--mask-ratio", "0.75"));
        assertEquals(0, r[0], (String) r[1]);
        assertFalse(Json.readObject(c.resolve("run.json")).containsKey("changes"), "nothing changed, nothing recorded");
    }

    @Test void steps_lr_and_checkpoint_interval_apply_from_the_resumed_step_and_are_recorded(@TempDir Path tmp) throws Exception {
        Path c = Child.copy(run4, tmp.resolve("c"));
        Object[] r = run(resume(c, "--max-steps", "6", "--blr", "1e-4", "--checkpoint-every", "5", "--knn-bank", "100"));
        assertEquals(0, r[0], (String) r[1]);
        Map<String, Object> j = Json.readObject(c.resolve("run.json"));
        assertEquals(6L, j.get("max_steps"));
        assertEquals(1e-4, j.get("blr"));
        assertEquals(5L, j.get("checkpoint_every"));
        assertEquals(100L, j.get("knn_bank"));
        List<?> changes = (List<?>) j.get("changes");
        assertEquals(1, changes.size());
        Map<?, ?> change = (Map<?, ?>) changes.get(0);
        assertEquals(4L, change.get("step"), "took effect at the step the run resumed from");
        assertEquals(Map.of("max_steps", Map.of("from", 4L, "to", 6L), "blr", Map.of("from", 1.5e-3, "to", 1e-4),
                "checkpoint_every", Map.of("from", 2L, "to", 5L), "knn_bank", Map.of("from", 200L, "to", 100L)), change.get("changed"));

        List<String> lines = Files.readAllLines(c.resolve("metrics.jsonl"));
        assertEquals(6, lines.size());
        for (String line : lines.subList(4, 6)) {
            double lr = ((Number) Json.asObject(Json.parse(line), "").get("lr")).doubleValue();
            assertTrue(lr <= 1e-4 * 16 / 256, "the new lr applies: " + line);
        }
        assertEquals("step-0000006", Files.readString(c.resolve("checkpoints/latest")).trim());
        assertEquals(100L, Json.readObject(c.resolve("result.json")).get("knn_bank"));

        r = run(resume(c));                                               // resumed again without options: no new entry
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(1, ((List<?>) Json.readObject(c.resolve("run.json")).get("changes")).size());
        assertEquals(6L, Json.readObject(c.resolve("run.json")).get("max_steps"), "the changed value is the run's own now");
    }

    @Test void a_step_budget_below_the_resumed_step_is_refused(@TempDir Path tmp) throws Exception {
        Path c = Child.copy(run4, tmp.resolve("c"));
        Map<String, String> before = Child.snapshot(c);
        Object[] r = run(resume(c, "--max-steps", "2"));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("already at step 4, beyond the 2 steps"), (String) r[1]);
        assertEquals(before, Child.snapshot(c));
    }

    /** A run records its GEMM blocking; a resume uses the recorded one (and refuses a broken record in one line, changing nothing). */
    @Test void a_resumed_run_uses_the_gemm_blocking_its_run_started_with(@TempDir Path tmp) throws Exception {
        mae.kernels.GemmBlocking now = mae.kernels.GemmBlocking.current();
        assertEquals(now.kc() + "," + now.mc() + "," + now.nc() + "," + now.rows() + "," + now.kcInPlace(), Files.readString(run4.resolve("gemm-blocking.txt")).trim());
        try {
            Path c = Child.copy(run4, tmp.resolve("c"));
            int nc = 2 * now.nc();
            Files.writeString(c.resolve("gemm-blocking.txt"), "64," + now.mc() + "," + nc + ",6\n");        // the 6-row kernel, wherever it runs
            Object[] r = run(resume(c, "--max-steps", "5"));
            assertEquals(0, r[0], (String) r[1]);
            mae.kernels.GemmBlocking used = mae.kernels.GemmBlocking.current();
            assertEquals(List.of(64, now.mc(), nc, 6), List.of(used.kc(), used.mc(), used.nc(), used.rows()));
            assertTrue(used.source().contains("recorded in"), used.source());

            Path old = Child.copy(run4, tmp.resolve("old"));                   // a run recorded before ROWS: the widest kernel
            Files.writeString(old.resolve("gemm-blocking.txt"), "64," + now.mc() + "," + nc + "\n");
            Object[] o = run(resume(old, "--max-steps", "5"));
            assertEquals(0, o[0], (String) o[1]);
            used = mae.kernels.GemmBlocking.current();
            assertEquals(List.of(64, now.mc(), nc, now.rows()), List.of(used.kc(), used.mc(), used.nc(), used.rows()));

            Path d = Child.copy(run4, tmp.resolve("d"));
            Files.writeString(d.resolve("gemm-blocking.txt"), "64,7\n");
            Map<String, String> before = Child.snapshot(d);
            Object[] bad = run(resume(d, "--max-steps", "5"));
            String err = ((String) bad[1]).trim();
            assertEquals(1, bad[0], err);
            assertTrue(err.contains("gemm-blocking.txt") && err.contains("KC,MC,NC"), err);
            assertEquals(before, Child.snapshot(d), "no file changed");
        } finally {
            mae.kernels.GemmBlocking.set(now);
        }
    }
}
