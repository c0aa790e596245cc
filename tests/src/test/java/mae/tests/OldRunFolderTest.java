package mae.tests;

import mae.tensor.io.Json;
import mae.train.Pretrainer;
import mae.train.RunOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A run folder written before the run files held JSON numbers and booleans (run.json and state.json of string
 * values, {"batch": "16"}) still loads and resumes, bit-identically to an uninterrupted run.
 */
class OldRunFolderTest {
    static String savedHome;

    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    /** Stands for the process dying mid-run. */
    static final class Crash extends RuntimeException {}

    /** A log that dies when the run reports the given step: after that step's metrics line, before its checkpoint. */
    static PrintStream crashingAt(int step) {
        return new PrintStream(OutputStream.nullOutputStream()) {
            @Override public PrintStream printf(Locale l, String format, Object... args) {
                if (String.format(l, format, args).startsWith("step " + step + "/")) throw new Crash();
                return this;
            }
        };
    }

    /** A JSON object file rewritten the way the code before typed values wrote it: every value a string, "" for null. */
    static void rewriteAsStrings(Path file) throws Exception {
        StringBuilder sb = new StringBuilder("{\n");
        Map<String, Object> m = Json.readObject(file);
        int i = 0;
        for (Map.Entry<String, Object> e : m.entrySet()) {
            Object v = e.getValue();
            assertFalse(v instanceof Map || v instanceof List, file + ": a flat object");
            String s = v == Json.NULL ? "" : String.valueOf(v);
            sb.append("  ").append(Json.quote(e.getKey())).append(": ").append(Json.quote(s)).append(++i < m.size() ? ",\n" : "\n");
        }
        Files.writeString(file, sb.append("}\n").toString());
    }

    @Test void a_run_interrupted_with_string_valued_run_and_state_json_resumes_to_bit_identical_weights(@TempDir Path tmp) throws Exception {
        Path straight = tmp.resolve("straight"), old = tmp.resolve("old");
        Object[] r = PretrainTest.run(PretrainTest.args(straight));            // 8 steps, a checkpoint every 2
        assertEquals(0, r[0], (String) r[1]);
        String runJson = Files.readString(straight.resolve("run.json"));
        assertTrue(runJson.contains("\"batch\": 16,") && runJson.contains("\"norm_pix\": true,"), "numbers and booleans as such: " + runJson);
        assertTrue(Files.readString(straight.resolve("checkpoints/step-0000008/state.json")).contains("\"step\": 8,"));
        Map<String, Object> result = Json.readObject(straight.resolve("result.json"));
        assertEquals(8L, result.get("steps"));
        assertInstanceOf(Double.class, result.get("knn_accuracy"));

        // The same run, dead after step 5's metrics line: its last checkpoint is step 4. Then its files go old-style.
        RunOptions o = RunOptions.read(straight);
        assertThrows(Crash.class, () -> new Pretrainer(o, old, home, crashingAt(5), false).run(false));
        assertEquals("step-0000004", Files.readString(old.resolve("checkpoints/latest")).trim());
        assertEquals(5, Files.readAllLines(old.resolve("metrics.jsonl")).size());
        Path state = old.resolve("checkpoints/step-0000004/state.json");
        rewriteAsStrings(old.resolve("run.json"));
        rewriteAsStrings(state);
        assertTrue(Files.readString(old.resolve("run.json")).contains("\"batch\": \"16\",\n"), Files.readString(old.resolve("run.json")));
        assertTrue(Files.readString(state).contains("\"step\": \"4\",\n"), Files.readString(state));
        assertEquals(o, RunOptions.read(old), "the string-valued run.json reads as the same options");

        r = PretrainTest.run(List.of("pretrain", "--resume", old.toString(), "--no-progress"));
        assertEquals(0, r[0], (String) r[1]);
        PretrainTest.assertBitIdentical(PretrainTest.weights(straight, 8), PretrainTest.weights(old, 8));
        assertEquals(PretrainTest.losses(straight), PretrainTest.losses(old), "the resumed metrics repeat the straight run's losses");
        assertTrue(Files.readString(old.resolve("checkpoints/step-0000008/state.json")).contains("\"step\": 8,"), "new checkpoints hold numbers");
    }
}
