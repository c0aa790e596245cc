package mae.tests;

import mae.tensor.io.Json;
import mae.tensor.io.Safetensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A run started with the official main_pretrain.py flag names does what they mean there: the absolute --lr is the
 * peak learning rate (over --blr), --min_lr is where the cosine ends, --weight_decay and --input_size apply, and
 * --resume takes the run's latest checkpoint as well as its folder.
 */
class OfficialFlagsTest {
    static String savedHome;
    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    @Test void a_run_with_the_official_names(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        Object[] r = PretrainTest.run(List.of("pretrain", "--model", "tiny", "--data_path", PretrainTest.DATA, "--max-steps", "2", "--batch_size", "16",
                "--accum_iter", "1", "--input_size", "14", "--mask_ratio", "0.5", "--norm_pix_loss", "--weight_decay", "0.1", "--blr", "1", "--lr", "0.002",
                "--min_lr", "0.0001", "--warmup_epochs", "0", "--seed", "5", "--output_dir", out.toString(), "--checkpoint-every", "1",
                "--knn-bank", "50", "--no-progress"));
        assertEquals(0, r[0], (String) r[1]);
        Map<String, Object> run = Json.readObject(out.resolve("run.json"));
        assertEquals(16L, run.get("batch"));
        assertEquals(0.5, run.get("mask_ratio"));
        assertEquals(0.1, run.get("weight_decay"));
        assertEquals(0.002, run.get("lr"));
        assertEquals(1.0E-4, run.get("min_lr"));
        assertEquals(14L, run.get("input_size"));
        List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(0.002, (Double) Json.readObject(writeTmp(tmp, metrics.get(0))).get("lr"), 1e-9, "step 1 at the peak: --lr, not --blr x 16 / 256");
        assertEquals(0.0001 + (0.002 - 0.0001) * 0.5, (Double) Json.readObject(writeTmp(tmp, metrics.get(1))).get("lr"), 1e-8, "halfway down the cosine to --min_lr");
        assertEquals("14", Safetensors.read(out.resolve("checkpoints/step-0000002/weights.safetensors")).metadata().get("img_size"), "--input_size 14");

        // --resume with the latest checkpoint (as the official --resume takes a checkpoint file), and --max-steps further
        r = PretrainTest.run(List.of("pretrain", "--resume", out.resolve("checkpoints/step-0000002").toString(), "--max-steps", "3", "--no-progress"));
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(3, Files.readAllLines(out.resolve("metrics.jsonl")).size());
        r = PretrainTest.run(List.of("pretrain", "--resume", out.resolve("checkpoints/step-0000001/weights.safetensors").toString(), "--no-progress"));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("a run continues from its latest checkpoint, which is step-0000003, not step-0000001"), (String) r[1]);
        r = PretrainTest.run(List.of("pretrain", "--resume", out.toString(), "--weight_decay", "0.2", "--no-progress"));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("continues the run with its own --weight-decay 0.1; --weight-decay 0.2 cannot change on resume"), (String) r[1]);
    }

    @Test void an_input_size_that_is_not_a_multiple_of_the_patch_is_refused_before_any_work(@TempDir Path tmp) {
        Object[] r = PretrainTest.run(List.of("pretrain", "--config", "tiny", "--input-size", "30", "--out", tmp.resolve("run").toString(), "--no-progress"));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).startsWith("error: --input-size 30 must be a multiple of the tiny config's patch size 7"), (String) r[1]);
        assertFalse(Files.exists(tmp.resolve("run")));
        r = PretrainTest.run(List.of("pretrain", "--config", "tiny", "--lr", "1e-4", "--min-lr", "1e-3", "--out", tmp.resolve("run").toString(), "--no-progress"));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).startsWith("error: --min-lr 0.001 is above the peak learning rate 1.0E-4"), (String) r[1]);
    }

    static Path writeTmp(Path dir, String json) throws Exception {
        Path f = Files.createTempFile(dir, "line", ".json");
        Files.writeString(f, json);
        return f;
    }
}
