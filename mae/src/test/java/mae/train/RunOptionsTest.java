package mae.train;

import mae.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RunOptionsTest {
    /** run.json as the code before typed JSON values wrote it: every value a string ("" for no --data). */
    static String oldRunJson(RunOptions o, boolean withDevice) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("config", o.config()); m.put("data", o.data() == null ? "" : o.data()); m.put("epochs", "" + o.epochs());
        m.put("max_steps", "" + o.maxSteps()); m.put("batch", "" + o.batch()); m.put("accum", "" + o.accum());
        m.put("blr", "" + o.blr()); m.put("warmup_epochs", "" + o.warmupEpochs()); m.put("mask_ratio", "" + o.maskRatio());
        m.put("masking", o.masking()); m.put("norm_pix", "" + o.normPix()); m.put("seed", "" + o.seed());
        m.put("checkpoint_every", "" + o.checkpointEvery()); m.put("knn_bank", "" + o.knnBank());
        if (withDevice) m.put("device", o.device());
        StringBuilder sb = new StringBuilder("{\n");
        int i = 0;
        for (Map.Entry<String, String> e : m.entrySet())
            sb.append("  ").append(Json.quote(e.getKey())).append(": ").append(Json.quote(e.getValue())).append(++i < m.size() ? ",\n" : "\n");
        return sb.append("}\n").toString();
    }

    @Test void the_device_round_trips_through_run_json_and_an_old_run_json_reads_as_cpu(@TempDir Path dir) throws Exception {
        RunOptions o = new RunOptions("tiny", null, 1, 8, 16, 1, 1.5e-3, -1, 0.75, "random", true, 3, 2, 200);
        assertEquals("cpu", o.device(), "the constructor without a device means the CPU");
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        o.withDevice("cuda").write(run.resolve("run.json"));
        assertEquals(o.withDevice("cuda"), RunOptions.read(run));

        Files.writeString(run.resolve("run.json"), oldRunJson(o, false));   // a run.json written before the key existed
        assertEquals(o, RunOptions.read(run));
    }

    @Test void run_json_holds_numbers_and_booleans_and_an_old_string_valued_one_reads_the_same(@TempDir Path dir) throws Exception {
        RunOptions o = new RunOptions("tiny", null, 1, 8, 16, 2, 1.5e-3, -1, 0.75, "grid", false, -3, 2, 200, "cuda");
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        o.write(run.resolve("run.json"));
        assertEquals("{\n  \"config\": \"tiny\",\n  \"data\": null,\n  \"epochs\": 1,\n  \"max_steps\": 8,\n  \"batch\": 16,\n  \"accum\": 2,\n"
                + "  \"blr\": 0.0015,\n  \"warmup_epochs\": -1.0,\n  \"mask_ratio\": 0.75,\n  \"masking\": \"grid\",\n  \"norm_pix\": false,\n"
                + "  \"seed\": -3,\n  \"checkpoint_every\": 2,\n  \"knn_bank\": 200,\n  \"device\": \"cuda\"\n}\n", Files.readString(run.resolve("run.json")));
        assertEquals(o, RunOptions.read(run));

        RunOptions withData = new RunOptions("fmnist", "/data/x \"y\"", Integer.MAX_VALUE / 4, 0, 64, 1, 1e-4, 0.5, 0.9, "block", true, Long.MIN_VALUE, 0, 5000);
        withData.write(run.resolve("run.json"));
        assertEquals(withData, RunOptions.read(run));
        Files.writeString(run.resolve("run.json"), oldRunJson(withData, true));
        assertEquals(withData, RunOptions.read(run));
        Files.writeString(run.resolve("run.json"), oldRunJson(o, true));
        assertEquals(o, RunOptions.read(run));
    }

    @Test void a_broken_run_json_is_an_error_naming_the_file(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        Path f = run.resolve("run.json");
        Files.writeString(f, "{\"config\": \"tiny\", \"data\": null, \"epochs\": 1, \"max_steps\": 8, \"batch\": \"sixteen\"}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunOptions.read(run));
        assertEquals(f + ": cannot read the run options (\"batch\" is \"sixteen\", expected an integer)", e.getMessage());
        Files.writeString(f, "{\"config\": ");
        e = assertThrows(IllegalArgumentException.class, () -> RunOptions.read(run));
        assertTrue(e.getMessage().startsWith(f + ": malformed JSON"), e.getMessage());
        Files.delete(f);
        e = assertThrows(IllegalArgumentException.class, () -> RunOptions.read(run));
        assertEquals("--resume " + run + ": no run.json there (not a pretraining run)", e.getMessage());
    }
}
