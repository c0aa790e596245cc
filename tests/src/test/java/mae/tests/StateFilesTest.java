package mae.tests;

import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static mae.tests.PretrainTest.args;
import static mae.tests.PretrainTest.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad state files (state.json, checkpoints/latest, metrics.jsonl, run.json) and non-finite checkpoints: one line
 * naming the file and what was expected, exit 1, and nothing already written is changed. A writer killed while
 * it replaces checkpoints/latest leaves a temp file that the next run removes.
 */
class StateFilesTest {
    static String savedHome;

    @TempDir static Path home;
    /** A finished 2-step run with its checkpoint at step 2. */
    static Path run2;

    @BeforeAll static void setUp() throws Exception {
        savedHome = System.getProperty("mae.home");
        System.setProperty("mae.home", home.toString());
        run2 = home.resolve("run2");
        Object[] r = run(args(run2, "--max-steps", "2"));
        assertEquals(0, r[0], (String) r[1]);
    }

    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    @TempDir Path tmp;
    int copies;

    /** A copy of the run, changed by edit. */
    Path broken(Edit edit) throws Exception {
        Path c = Child.copy(run2, tmp.resolve("c" + copies++));
        edit.apply(c);
        return c;
    }

    interface Edit { void apply(Path run) throws Exception; }

    /** --resume fails with one line holding each expected part, and leaves every file as it was. */
    static void resumeRefused(Path run, String... expected) throws Exception {
        Map<String, String> before = Child.snapshot(run);
        long t0 = System.nanoTime();
        Object[] r = run(List.of("pretrain", "--resume", run.toString(), "--no-progress"));
        String err = ((String) r[1]).trim();
        assertEquals(1, r[0], err);
        assertEquals(1, err.lines().count(), "one line: " + err);
        for (String x : expected) assertTrue(err.contains(x), "'" + x + "' in: " + err);
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "within seconds");
        assertEquals(before, Child.snapshot(run), "nothing written is changed");
    }

    static final String STATE = "checkpoints/step-0000002/state.json";

    static void replaceInState(Path run, String from, String to) throws Exception {
        Path f = run.resolve(STATE);
        String s = Files.readString(f);
        assertTrue(s.contains(from), s);
        Files.writeString(f, s.replace(from, to));
    }

    @Test void a_state_json_with_a_wrong_step_or_missing_keys_names_the_file_and_key() throws Exception {
        resumeRefused(broken(r -> replaceInState(r, "\"step\": 2,", "\"step\": -1,")), "state.json: \"step\" is -1, but the checkpoint folder is step-0000002 (expected 2)");
        resumeRefused(broken(r -> replaceInState(r, "\"step\": 2,", "\"step\": 99999999999,")), "state.json: \"step\" is 99999999999");
        resumeRefused(broken(r -> replaceInState(r, "\"step\": 2,", "\"step\": \"two\",")), "state.json: \"step\" is \"two\", expected an integer");
        resumeRefused(broken(r -> replaceInState(r, "\"optimizer_steps\": 2,", "\"optimizer_steps\": 7,")), "state.json: \"optimizer_steps\" is 7, expected 2");
        resumeRefused(broken(r -> replaceInState(r, "\"rng2\"", "\"rng_two\"")), "state.json: no \"rng2\"");
        resumeRefused(broken(r -> Files.writeString(r.resolve(STATE), "{\"step\": 2")), "state.json: malformed JSON");
        resumeRefused(broken(r -> Files.write(r.resolve(STATE), new byte[2 << 20])), "state.json: 2097152 bytes, more than a run file holds");
        resumeRefused(broken(r -> Files.delete(r.resolve(STATE))), "state.json: no such file, expected a JSON file");
    }

    @Test void a_latest_that_names_anything_but_a_checkpoint_of_the_run_is_refused() throws Exception {
        Path latest = Path.of("checkpoints/latest");
        resumeRefused(broken(r -> Files.writeString(r.resolve(latest), "../../../../etc\n")), "checkpoints/latest: names \"../../../../etc\", not a checkpoint folder of this run");
        resumeRefused(broken(r -> Files.writeString(r.resolve(latest), "/tmp\n")), "latest: names \"/tmp\"");
        resumeRefused(broken(r -> Files.writeString(r.resolve(latest), "step-0000002/../../x\n")), "not a checkpoint folder of this run");
        resumeRefused(broken(r -> Files.writeString(r.resolve(latest), "x".repeat(100_000))), "latest: 100000 bytes, not a checkpoint name");
        resumeRefused(broken(r -> { Files.delete(r.resolve(latest)); Files.createDirectory(r.resolve(latest)); }), "latest: not a plain file");
        resumeRefused(broken(r -> Files.writeString(r.resolve(latest), "step-0000004\n")), "latest names step-0000004, which is missing");
    }

    @Test void a_garbage_line_in_metrics_jsonl_names_the_file_and_line_and_truncates_nothing() throws Exception {
        resumeRefused(broken(r -> {
            List<String> l = Files.readAllLines(r.resolve("metrics.jsonl"));
            Files.write(r.resolve("metrics.jsonl"), List.of(l.get(0), "garbage {", l.get(1)));
        }), "metrics.jsonl: line 2 is not a metrics record");
        resumeRefused(broken(r -> Files.writeString(r.resolve("metrics.jsonl"), "{\"step\": \"one\"}\n{\"step\": 2}\n")),
                "metrics.jsonl: line 1: \"step\" is one, expected a positive integer");
        resumeRefused(broken(r -> Files.writeString(r.resolve("metrics.jsonl"), "{\"step\": 2}\n{\"step\": 1}\n")), "metrics.jsonl: line 2: step 1 does not follow step 2");
        // A torn last line (killed while appending) is no error: it is dropped.
        Path torn = broken(r -> Files.writeString(r.resolve("metrics.jsonl"), Files.readString(r.resolve("metrics.jsonl")) + "{\"step\": 3, \"lo"));
        Object[] r = run(List.of("pretrain", "--resume", torn.toString(), "--no-progress"));
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(2, Files.readAllLines(torn.resolve("metrics.jsonl")).size());
    }

    @Test void a_run_json_with_values_outside_their_range_names_the_file() throws Exception {
        resumeRefused(broken(r -> Files.writeString(r.resolve("run.json"), Files.readString(r.resolve("run.json")).replace("\"batch\": 16,", "\"batch\": 0,"))),
                "run.json: --batch must be an integer from 1 to 65536, got 0");
        resumeRefused(broken(r -> Files.writeString(r.resolve("run.json"), Files.readString(r.resolve("run.json")).replace("\"max_steps\": 2,", "\"max_steps\": 0,")
                .replace("\"epochs\": 536870911,", "\"epochs\": 536870911,"))), "run.json: neither --epochs nor --max-steps bounds the run");
        resumeRefused(broken(r -> Files.writeString(r.resolve("run.json"), Files.readString(r.resolve("run.json")).replace("\"blr\": 0.0015,", "\"blr\": \"NaN\","))),
                "run.json: --blr must be a finite number above 0, got NaN");
    }

    /** The checkpoint's weights (or moments) with one value replaced. */
    static void poison(Path run, String file, String tensor, float value) throws Exception {
        Path f = run.resolve("checkpoints/step-0000002").resolve(file);
        Safetensors.Contents c = Safetensors.read(f);
        Map<String, Entry> t = new LinkedHashMap<>(c.tensors());
        float[] x = t.get(tensor).floats().clone();
        x[3] = value;
        t.put(tensor, Entry.f32(t.get(tensor).shape(), x));
        Safetensors.write(f, c.metadata(), t);
    }

    @Test void non_finite_weights_or_moments_are_no_good_checkpoint() throws Exception {
        resumeRefused(broken(r -> poison(r, "weights.safetensors", "blocks.0.attn.qkv.weight", Float.NaN)),
                "weights.safetensors: tensor 'blocks.0.attn.qkv.weight' holds NaN at index 3 (weights must be finite numbers)");
        resumeRefused(broken(r -> poison(r, "optimizer.safetensors", "exp_avg_sq.norm.weight", Float.POSITIVE_INFINITY)),
                "optimizer.safetensors: optimizer tensor 'exp_avg_sq.norm.weight' holds Infinity at index 3");
        resumeRefused(broken(r -> poison(r, "optimizer.safetensors", "exp_avg_sq.norm.weight", -1f)), "holds -1.0 at index 3 (expected finite, non-negative values)");
        Path nan = broken(r -> poison(r, "weights.safetensors", "norm.bias", Float.NEGATIVE_INFINITY));
        Object[] r = run(List.of("probe", "--checkpoint", nan.toString(), "--method", "knn", "--data", PretrainTest.DATA, "--train-limit", "300"));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("tensor 'norm.bias' holds -Infinity at index 3"), (String) r[1]);
        assertFalse(Files.exists(nan.resolve("probe-knn.json")), "no chance-level result written");
    }

    @Test void a_writer_killed_while_it_replaces_latest_leaves_no_temp_file_for_good() throws Exception {
        Path c = broken(r -> { });
        Path latest = c.resolve("checkpoints/latest"), ready = tmp.resolve("ready");
        Process p = Child.start(home, tmp.resolve("writer.log"), "mae.tests.KilledWriter", List.of(latest.toString(), ready.toString()));
        assertTrue(Child.killWhen(p, () -> Files.exists(ready)), Files.readString(tmp.resolve("writer.log")));
        assertEquals("step-0000002", Files.readString(latest).trim(), "latest itself is intact");
        assertEquals(1, temps(c.resolve("checkpoints")).size(), "the killed writer left its temp file");

        Object[] r = run(List.of("pretrain", "--resume", c.toString(), "--no-progress"));   // a finished run: evaluates again
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(List.of(), temps(c.resolve("checkpoints")), "removed by the next run");
        assertEquals(List.of(), temps(c));

        // The same when the next writer of latest is a longer run.
        Process q = Child.start(home, tmp.resolve("writer2.log"), "mae.tests.KilledWriter", List.of(latest.toString(), tmp.resolve("ready2").toString()));
        assertTrue(Child.killWhen(q, () -> Files.exists(tmp.resolve("ready2"))));
        assertEquals(1, temps(c.resolve("checkpoints")).size());
        r = run(List.of("pretrain", "--resume", c.toString(), "--no-progress", "--max-steps", "3"));
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(List.of(), temps(c.resolve("checkpoints")));
        assertEquals("step-0000003", Files.readString(latest).trim());
    }

    static List<Path> temps(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }
}
