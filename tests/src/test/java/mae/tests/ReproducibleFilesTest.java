package mae.tests;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Two runs with the same seed write byte-identical checkpoints and run files (times aside). */
class ReproducibleFilesTest {
    static String savedHome;

    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    @Test void two_runs_with_the_same_seed_write_the_same_bytes(@TempDir Path tmp) throws Exception {
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        for (Path out : List.of(a, b)) {
            Object[] r = PretrainTest.run(PretrainTest.args(out, "--max-steps", "2"));
            assertEquals(0, r[0], (String) r[1]);
        }
        for (String f : List.of("checkpoints/latest", "checkpoints/step-0000002/weights.safetensors", "checkpoints/step-0000002/optimizer.safetensors",
                "checkpoints/step-0000002/state.json"))
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        // run.json names its own --out; metrics.jsonl and result.json hold times.
        assertEquals(Files.readString(a.resolve("run.json")).replace(a.toString(), "OUT"), Files.readString(b.resolve("run.json")).replace(b.toString(), "OUT"));
        assertEquals(withoutTimes(a.resolve("metrics.jsonl"), a), withoutTimes(b.resolve("metrics.jsonl"), b));
        assertEquals(withoutTimes(a.resolve("result.json"), a), withoutTimes(b.resolve("result.json"), b));
        String header = new String(Files.readAllBytes(a.resolve("checkpoints/step-0000002/weights.safetensors")), StandardCharsets.UTF_8);
        assertTrue(header.indexOf("\"norm_mean\"") < header.indexOf("\"norm_std\"") && header.indexOf("\"norm_std\"") < header.indexOf("\"step\""),
                "metadata keys in their fixed (sorted) order");
    }

    static List<String> withoutTimes(Path file, Path run) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file))
            out.add(line.replace(run.toString(), "OUT").replaceAll("\"(images_per_s|train_seconds)\": [0-9.eE+-]+", "\"$1\": T"));
        return out;
    }
}
