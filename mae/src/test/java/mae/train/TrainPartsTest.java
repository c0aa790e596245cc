package mae.train;

import mae.eval.LinearProbe;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.tensor.Workspace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

    @Test void grid_masking_keeps_one_patch_per_cell_and_block_masking_removes_blobs() {
        Tensor n = MaskNoise.GRID.noise(new Rng(1), 3, 8, 0.75);
        float[] v = n.toArray();
        for (int i = 0; i < 3; i++) {
            int low = 0;
            for (int j = 0; j < 64; j++) if (v[i * 64 + j] < 1) low++;
            assertEquals(16, low, "one kept patch per 2x2 cell");
        }
        Tensor b = MaskNoise.BLOCK.noise(new Rng(2), 1, 14, 0.75);
        int high = 0;
        for (float f : b.toArray()) if (f >= 1) high++;
        assertTrue(high >= 0.6 * 147 && high <= 147, "block masking covers most of the removed count: " + high);
        assertThrows(IllegalArgumentException.class, () -> MaskNoise.parse("spiral"));
    }

    @Test void knn_classifies_separated_clusters() {
        float[] bank = {1, 0, 0.9f, 0.1f, 0, 1, 0.1f, 0.9f};
        float[] query = {0.95f, 0.05f, 0.05f, 0.95f};
        assertEquals(1.0, Knn.accuracy(bank, new int[]{0, 0, 1, 1}, query, new int[]{0, 1}, 2, 2, 0.07, 2));
        assertEquals(0.0, Knn.accuracy(bank, new int[]{0, 0, 1, 1}, query, new int[]{1, 0}, 2, 2, 0.07, 2));
    }

    @Test void linear_probe_learns_a_separable_problem_and_not_a_random_one() {
        Rng r = new Rng(5);
        int n = 600, D = 8;
        float[] x = new float[n * D];
        int[] y = new int[n], noise = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            noise[i] = r.nextInt(3);
            for (int d = 0; d < D; d++) x[i * D + d] = (float) r.nextGaussian() + (d == y[i] ? 3 : 0);
        }
        LinearProbe.Settings s = new LinearProbe.Settings(10, 50, 0.1, 1, 0);
        double acc = LinearProbe.run(x, y, x, y, D, 3, s);
        assertTrue(acc > 0.9, "separable: " + acc);
        double chance = LinearProbe.run(x, noise, x, noise, D, 3, s);
        assertTrue(chance < 0.6, "labels unrelated to the features: " + chance);
    }

    @Test void json_and_metrics_round_trip(@TempDir Path tmp) throws Exception {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("a", "1");
        m.put("quote\"d", "line\nbreak\\");
        assertEquals(m, Json.parseFlat(Json.flat(m), tmp.resolve("x.json")));
        assertThrows(IllegalArgumentException.class, () -> Json.parseFlat("{\"a\": ", tmp.resolve("bad.json")));

        Path f = tmp.resolve("metrics.jsonl");
        for (int s = 1; s <= 5; s++) Metrics.append(f, s, s / 10.0, 1.0 / s, 1e-3, 100);
        Files.writeString(f, Files.readString(f) + "{\"step\": 6, \"lo", java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        List<double[]> kept = Metrics.truncate(f, 3);
        assertEquals(3, kept.size());
        assertEquals(3, Files.readAllLines(f).size(), "lines after the checkpoint and the torn line are dropped");
    }

    /** Steps of the tiny model with gradient accumulation (2 micro-batches); returns the losses, then the weights. */
    private static float[] train(boolean workspace, Workspace ws) {
        mae.model.MaeModel m = new mae.model.MaeModel(mae.model.MaeConfig.named("tiny"), 0);
        AdamWOptimizer opt = new AdamWOptimizer(m.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
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
