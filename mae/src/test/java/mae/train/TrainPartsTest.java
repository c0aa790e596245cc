package mae.train;

import mae.optim.AdamW;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.kernels.Workspace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TrainPartsTest {
    @Test void schedule_warms_up_linearly_then_follows_a_half_cosine() {
        Schedule s = new Schedule(1e-3, 0, 2, 10);
        assertEquals(0, s.at(0), 1e-15);
        assertEquals(0.5e-3, s.at(1), 1e-15);
        assertEquals(1e-3, s.at(2), 1e-15);
        assertEquals(0.5e-3, s.at(6), 1e-12, "halfway through the cosine");
        assertEquals(0, s.at(10), 1e-15);
        assertEquals(1.5e-4 * 4096 / 256, Schedule.scaled(1.5e-4, 4096), 1e-12);
    }

    @Test void metrics_drop_the_lines_after_a_checkpoint_and_a_torn_last_line(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("metrics.jsonl");
        for (int s = 1; s <= 5; s++) Metrics.append(f, s, s / 10.0, 1.0 / s, 1e-3, 100);
        Files.writeString(f, Files.readString(f) + "{\"step\": 6, \"lo", java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        List<double[]> kept = Metrics.truncate(f, 3);
        assertEquals(3, kept.size());
        assertEquals(3, Files.readAllLines(f).size(), "lines after the checkpoint and the torn line are dropped");
    }

    @Test void a_metrics_line_is_a_json_object_of_rounded_numbers(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("metrics.jsonl");
        Metrics.append(f, 12, 0.00123456, 0.912345678, 1.5e-5, 231.04);
        Metrics.append(f, 13, 1, 0.5, 1e-3, 99.96);
        assertEquals(List.of("{\"step\": 12, \"epoch\": 0.0012, \"loss\": 0.912346, \"lr\": 1.50000e-05, \"images_per_s\": 231.0}",
                "{\"step\": 13, \"epoch\": 1.0000, \"loss\": 0.500000, \"lr\": 0.00100000, \"images_per_s\": 100.0}"), Files.readAllLines(f));
        for (String line : Files.readAllLines(f)) assertInstanceOf(java.util.Map.class, mae.tensor.io.Json.parse(line), line);
    }

    /** Steps of the tiny model with gradient accumulation (2 micro-batches); returns the losses, then the weights. */
    private static float[] train(boolean workspace, Workspace ws) {
        mae.model.MaeModel m = new mae.model.MaeModel(mae.model.MaeConfig.named("tiny"), 0);
        AdamW opt = new AdamW(m.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
        Rng r = new Rng(5);
        float[] losses = new float[4];
        for (int step = 0; step < 2; step++) {
            for (int micro = 0; micro < 2; micro++) {
                try (Workspace.Scope s = workspace ? ws.open() : null) {
                    mae.autograd.Var l = m.forward(Tensor.randn(r, 3, 1, 28, 28), Tensor.rand(r, 3, 16), 0.75).loss();
                    losses[step * 2 + micro] = l.value().item();
                    mae.autograd.F.mul(l, 0.5f).backward();
                }
            }
            opt.step(1e-3f);
            m.params.zeroGrad();
            if (workspace && step == 0) assertTrue(ws.stats().created() > 0);
        }
        float[] w = m.params.get("decoder_pred.weight").value().toArray();
        float[] out = java.util.Arrays.copyOf(losses, losses.length + w.length);
        System.arraycopy(w, 0, out, losses.length, w.length);
        return out;
    }

    @Test void training_in_a_workspace_makes_no_new_buffers_after_the_first_micro_batch_and_changes_nothing() {
        Workspace ws = new Workspace();
        float[] pooled = train(true, ws), plain = train(false, null);
        assertArrayEquals(plain, pooled, "bit-identical losses and weights with and without the workspace");
        Workspace.Stats st = ws.stats();
        assertTrue(st.reused() >= 3 * st.created(), "micro-batches 2..4 ran on micro-batch 1's buffers: " + st);
        Workspace again = new Workspace();
        train(true, again);
        assertEquals(st.created(), again.stats().created(), "the same buffers are made each run");
    }
}
