package mae.train;

import mae.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class RunOptionsTest {
    @Test void the_device_round_trips_through_run_json_and_an_old_run_json_reads_as_cpu(@TempDir Path dir) throws Exception {
        RunOptions o = new RunOptions("tiny", null, 1, 8, 16, 1, 1.5e-3, -1, 0.75, "random", true, 3, 2, 200);
        assertEquals("cpu", o.device(), "the constructor without a device means the CPU");
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        Files.writeString(run.resolve("run.json"), Json.flat(o.withDevice("cuda").toMap()));
        assertEquals(o.withDevice("cuda"), RunOptions.read(run));

        java.util.Map<String, String> old = o.toMap();
        old.remove("device");                                  // a run.json written before the key existed
        Files.writeString(run.resolve("run.json"), Json.flat(old));
        assertEquals(o, RunOptions.read(run));
    }
}
