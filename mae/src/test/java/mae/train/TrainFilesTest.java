package mae.train;

import mae.data.Normalization;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.optim.AdamW;
import mae.tensor.Rng;
import mae.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** metrics.jsonl read back at its edges, checkpoints/latest and state.json refused at theirs, --checkpoint resolved. */
class TrainFilesTest {
    @TempDir Path tmp;

    static String line(long step, double loss, double lr) {
        return "{\"step\": " + step + ", \"epoch\": 0.5, \"loss\": " + loss + ", \"lr\": " + lr + ", \"images_per_s\": 10.0}";
    }

    static String refused(org.junit.jupiter.api.function.Executable e) { return assertThrows(IllegalArgumentException.class, e).getMessage(); }

    @Test void metrics_keep_the_lines_up_to_a_step_and_drop_a_torn_last_line() throws IOException {
        Path f = tmp.resolve("metrics.jsonl");
        assertEquals(List.of(), Metrics.truncate(f, 5));
        assertFalse(Files.exists(f), "no file made");
        Files.writeString(f, line(1, 0.9, 1e-4) + "\n\n" + line(2, 0.8, 2e-4) + "\n" + line(3, 0.7, 3e-4) + "\n{\"step\": 4, \"lo");
        List<double[]> c = Metrics.truncate(f, 5);
        assertEquals(3, c.size());
        assertArrayEquals(new double[]{2, 0.8, 2e-4}, c.get(1));
        assertEquals(line(1, 0.9, 1e-4) + "\n" + line(2, 0.8, 2e-4) + "\n" + line(3, 0.7, 3e-4) + "\n", Files.readString(f), "blank and torn lines gone");
        c = Metrics.truncate(f, 2);
        assertEquals(2, c.size());
        assertEquals(line(1, 0.9, 1e-4) + "\n" + line(2, 0.8, 2e-4) + "\n", Files.readString(f));
        Files.writeString(f, "{\"step\": 1, \"loss\": \"x\"}\n");
        assertTrue(Double.isNaN(Metrics.truncate(f, 3).get(0)[1]), "a loss that is not a number reads as NaN");
        assertEquals(1, Metrics.truncate(f, 1).size(), "the step itself is kept");
    }

    @Test void metrics_lines_that_are_not_records_are_named() throws IOException {
        Path f = tmp.resolve("metrics.jsonl");
        String bad = "x".repeat(100);
        Files.writeString(f, line(1, 1, 1) + "\n" + bad + "\n" + line(2, 1, 1) + "\n");
        assertEquals(f + ": line 2 is not a metrics record (", refused(() -> Metrics.truncate(f, 9)).substring(0, (f + ": line 2 is not a metrics record (").length()));
        assertTrue(refused(() -> Metrics.truncate(f, 9)).endsWith(": \"" + "x".repeat(80) + "...\""));
        Files.writeString(f, line(0, 1, 1) + "\n");
        assertEquals(f + ": line 1: \"step\" is 0, expected a positive integer", refused(() -> Metrics.truncate(f, 9)));
        Files.writeString(f, "{\"loss\": 1}\n");
        assertEquals(f + ": line 1: \"step\" is missing, expected a positive integer", refused(() -> Metrics.truncate(f, 9)));
        Files.writeString(f, line(2, 1, 1) + "\n" + line(2, 1, 1) + "\n");
        assertEquals(f + ": line 2: step 2 does not follow step 2", refused(() -> Metrics.truncate(f, 9)));
        String longest = "{" + " ".repeat(4096 - line(2, 1, 1).length()) + line(2, 1, 1).substring(1);
        assertEquals(4096, longest.length());
        Files.writeString(f, line(1, 1, 1) + "\n" + longest + "\n");
        assertEquals(2, Metrics.truncate(f, 9).size(), "a record of exactly 4096 characters is read");
        Files.writeString(f, line(1, 1, 1) + "\n" + "z".repeat(4097) + "\n");
        assertEquals(f + ": line 2 is 4097 characters long, not a metrics record", refused(() -> Metrics.truncate(f, 9)));
        Files.createDirectories(tmp.resolve("dir.jsonl"));
        assertEquals(tmp.resolve("dir.jsonl") + ": not a plain file", refused(() -> Metrics.truncate(tmp.resolve("dir.jsonl"), 9)));
    }

    /** The size bound: 64 MiB plus two longest lines per step; one byte more is refused before reading. */
    @Test void a_metrics_file_far_larger_than_its_steps_is_refused() throws IOException {
        Path f = tmp.resolve("metrics.jsonl");
        long max = 64L * 1024 * 1024 + 2L * 4096 * 2;
        byte[] b = new byte[(int) max];
        java.util.Arrays.fill(b, (byte) ' ');
        Files.write(f, b);
        assertEquals(List.of(), Metrics.truncate(f, 2), "exactly the bound: read (blank)");
        Files.write(f, java.util.Arrays.copyOf(b, (int) max + 1));
        assertEquals(f + ": " + (max + 1) + " bytes, more than the metrics of 2 steps can hold", refused(() -> Metrics.truncate(f, 2)));
    }

    static Path checkpoint(Path run, long step, int epoch) throws IOException {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 1);
        AdamW opt = new AdamW(m.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
        for (int i = 0; i < step; i++) opt.step(0f);
        return new Checkpoints(run).save(step, epoch, m, opt, new Rng(4), new Normalization(new float[]{0.5f}, new float[]{0.25f}));
    }

    static void editState(Path ck, String key, Object value) throws Exception {
        Map<String, Object> st = new LinkedHashMap<>(Json.readObject(ck.resolve("state.json")));
        st.put(key, value);
        Files.writeString(ck.resolve("state.json"), Json.line(st), StandardCharsets.UTF_8);
    }

    static long restore(Path ck) throws IOException {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 2);
        return Checkpoints.restore(ck, m, new AdamW(m.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f), new Rng(9));
    }

    @Test void state_json_is_checked_against_its_folder_and_itself() throws Exception {
        Path run = tmp.resolve("run"), ck = checkpoint(run, 3, 3);
        assertEquals(3, restore(ck), "epoch = step is allowed");
        Path st = ck.resolve("state.json");
        editState(ck, "step", 4);
        assertEquals(st + ": \"step\" is 4, but the checkpoint folder is step-0000003 (expected 3)", refused(() -> restore(ck)));
        editState(ck, "step", 3);
        editState(ck, "optimizer_steps", 2);
        assertEquals(st + ": \"optimizer_steps\" is 2, expected 3 (one per step)", refused(() -> restore(ck)));
        editState(ck, "optimizer_steps", 3);
        editState(ck, "epoch", -1);
        assertEquals(st + ": \"epoch\" is -1, expected 0..3", refused(() -> restore(ck)));
        editState(ck, "epoch", 4);
        assertEquals(st + ": \"epoch\" is 4, expected 0..3", refused(() -> restore(ck)));
        editState(ck, "epoch", 0);
        for (int i = 0; i < 4; i++) editState(ck, "rng" + i, 0);
        assertEquals(st + ": \"rng0\"..\"rng3\" are all 0, not a generator state", refused(() -> restore(ck)));
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < 4; i++) editState(ck, "rng" + i, i == k ? 5 : 0);
            assertEquals(3, restore(ck), "rng" + k + " alone non-zero is a state");
        }
        assertTrue(refused(() -> Checkpoints.stepOf(tmp.resolve("step-12"))).endsWith(": not a checkpoint folder name (expected step-NNNNNNN)"));
        assertEquals(12, Checkpoints.stepOf(tmp.resolve("step-0000012")));
    }

    @Test void latest_names_a_folder_of_this_run_or_nothing() throws Exception {
        Path run = tmp.resolve("run");
        Checkpoints c = new Checkpoints(run);
        assertNull(c.latest());
        assertNull(c.lastGood());
        Path ck = checkpoint(run, 2, 0);
        assertEquals(ck, c.latest());
        assertEquals(ck, c.lastGood(), "no checkpoint written by this object: the latest");
        Path latest = run.resolve("checkpoints/latest");
        Files.writeString(latest, "step-0000002" + " ".repeat(64 - 13) + "\n");
        assertEquals(ck, c.latest(), "64 bytes with spaces: still a name");
        Files.writeString(latest, "step-0000002" + " ".repeat(65 - 13) + "\n");
        assertEquals(latest + ": 65 bytes, not a checkpoint name (expected one line like step-0000004)", refused(c::latest));
        Files.writeString(latest, "../x");
        assertEquals(latest + ": names \"../x\", not a checkpoint folder of this run (expected step-NNNNNNN)", refused(c::latest));
        Files.writeString(latest, "step-0000009");
        assertEquals(latest + " names step-0000009, which is missing", assertThrows(IOException.class, c::latest).getMessage());
        Files.delete(latest);
        Files.createDirectories(latest);
        assertTrue(refused(c::latest).startsWith(latest + ": not a plain file"));
    }

    @Test void a_checkpoint_argument_resolves_to_a_weights_file() throws Exception {
        Path run = tmp.resolve("run"), ck = checkpoint(run, 2, 0), w = ck.resolve("weights.safetensors");
        assertEquals(w, Checkpoints.resolveWeights(w));
        assertEquals(w, Checkpoints.resolveWeights(ck));
        assertEquals(w, Checkpoints.resolveWeights(run));
        Path hub = tmp.resolve("hub");
        Files.createDirectories(hub);
        Files.writeString(hub.resolve("pytorch_model.bin"), "x");
        assertEquals(hub.resolve("pytorch_model.bin"), Checkpoints.resolveWeights(hub));
        Files.writeString(hub.resolve("model.safetensors"), "x");
        assertEquals(hub.resolve("model.safetensors"), Checkpoints.resolveWeights(hub), "model.safetensors first");
        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty);
        assertEquals("--checkpoint " + empty + " holds no checkpoint (no weights.safetensors, no checkpoints/latest)", refused(() -> Checkpoints.resolveWeights(empty)));
        assertEquals("--checkpoint " + tmp.resolve("nope") + " does not exist", refused(() -> Checkpoints.resolveWeights(tmp.resolve("nope"))));
    }

    @Test void a_checkpoint_of_another_config_is_refused() throws Exception {
        Path ck = checkpoint(tmp.resolve("run"), 2, 0);
        MaeModel other = new MaeModel(MaeConfig.named("tiny").withNormPix(false), 2);
        String m = refused(() -> Checkpoints.restore(ck, other, new AdamW(other.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f), new Rng(9)));
        assertTrue(m.startsWith(ck.resolve("weights.safetensors") + ": checkpoint of another config ("), m);
    }

    @Test void long_bad_lines_are_cut_at_80_characters() throws IOException {
        Path f = tmp.resolve("metrics.jsonl");
        Files.writeString(f, line(1, 1, 1) + "\n" + "x".repeat(80) + "\n" + line(2, 1, 1) + "\n");
        assertTrue(refused(() -> Metrics.truncate(f, 9)).endsWith(": \"" + "x".repeat(80) + "\""), "80 characters: shown whole");
        Files.writeString(f, line(1, 1, 1) + "\n" + "x".repeat(81) + "\n" + line(2, 1, 1) + "\n");
        assertTrue(refused(() -> Metrics.truncate(f, 9)).endsWith(": \"" + "x".repeat(80) + "...\""));
        Files.writeString(f, line(1, 1, 1) + "\n" + "{\"step\": 2" + " ".repeat(4096 - 12) + "}\n");
        assertEquals(2, Metrics.truncate(f, 9).size(), "a record of exactly 4096 characters is read");
    }
}
