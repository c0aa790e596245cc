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

import static org.junit.jupiter.api.Assertions.*;

/**
 * finetune saves its state after every whole epoch: a run killed (SIGKILL) in the middle of the pretrained
 * encoder's phase, after the random-init baseline has finished, continues with --resume and ends with the same
 * numbers, bit for bit, as the same run never stopped; a --resume with other options is refused, naming them.
 */
class FinetuneResumeTest {
    static String savedHome;
    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    static List<String> args(Path run, String... extra) {
        List<String> a = new ArrayList<>(List.of("finetune", "--checkpoint", run.toString(), "--data", PretrainTest.DATA, "--train-limit", "192",
                "--epochs", "4", "--batch", "32", "--eval-each-epoch", "--translate", "1", "--drop-path", "0.1", "--seed", "5", "--no-progress"));
        a.addAll(List.of(extra));
        return a;
    }

    /** finetune.json's numbers: accuracy, the baseline's, the curve. */
    static List<Object> numbers(Path run) throws Exception {
        Map<String, Object> j = Json.readObject(run.resolve("finetune.json"));
        return List.of(j.get("accuracy"), j.get("random_init_accuracy"), j.get("epoch_accuracy"));
    }

    @Test void a_killed_finetune_resumes_to_the_same_numbers(@TempDir Path tmp) throws Exception {
        Path once = tmp.resolve("once"), killed = tmp.resolve("killed");
        SummaryLinesTest.stdout(PretrainTest.args(once, "--max-steps", "2"));
        SummaryLinesTest.stdout(PretrainTest.args(killed, "--max-steps", "2"));

        SummaryLinesTest.stdout(args(once));
        List<Object> want = numbers(once);
        assertFalse(Files.exists(once.resolve("finetune-state")), "a finished run leaves no state");

        Path state = killed.resolve("finetune-state/state.json");
        Process p = Child.start(home, tmp.resolve("child.log"), "mae.cli.Main", args(killed));
        boolean held = Child.killWhen(p, () -> {
            try {
                String s = Files.readString(state);
                return s.contains("\"phase\": \"pretrained\"") && s.contains("\"epoch\": 2");
            } catch (Exception notYet) {
                return false;
            }
        });
        assertTrue(held, "the child reached the pretrained encoder's epoch 2: " + Files.readString(tmp.resolve("child.log")));
        assertFalse(Files.exists(killed.resolve("finetune.json")), "killed before the end");

        String err = MessagesTest.fails(args(killed, "--resume", "--blr", "0.001").toArray(new String[0]));
        assertTrue(err.contains(state.toString()) && err.contains("blr \"0.004\" there, \"0.001\" now"), err);

        String o = SummaryLinesTest.stdout(args(killed, "--resume"));
        assertTrue(o.contains("resuming " + killed.resolve("finetune-state") + ": pretrained encoder, after epoch 2"), o);
        assertTrue(o.contains("random-init encoder: ") && o.contains("(finished before the stop)"), o);
        assertFalse(o.contains("epoch 1: test top-1"), "epochs done before the stop are not run again: " + o);
        assertEquals(want, numbers(killed));
        assertFalse(Files.exists(killed.resolve("finetune-state")), "a finished run leaves no state");
    }
}
