package mae.train;

import mae.tensor.Rng;
import mae.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A short pretraining run in-process on a small IDX dataset: what it logs, its metrics lines (step, epoch, the
 * scheduled lr), its pictures at each epoch's end, its result, and an exploding loss stopping at once.
 */
class PretrainerRunTest {
    @TempDir Path tmp;

    /** An IDX folder: train (n images) and t10k (m images), 28 x 28 random bytes, labels i % 4. */
    static Path data(Path dir, int n, int m) throws IOException {
        Files.createDirectories(dir);
        Rng r = new Rng(5);
        for (Object[] s : new Object[][]{{"train", n}, {"t10k", m}}) {
            int k = (Integer) s[1];
            ByteBuffer img = ByteBuffer.allocate(16 + k * 784).putInt(0x803).putInt(k).putInt(28).putInt(28);
            for (int i = 0; i < k * 784; i++) img.put((byte) r.nextInt(256));
            ByteBuffer lab = ByteBuffer.allocate(8 + k).putInt(0x801).putInt(k);
            for (int i = 0; i < k; i++) lab.put((byte) (i % 4));
            Files.write(dir.resolve(s[0] + "-images-idx3-ubyte"), img.array());
            Files.write(dir.resolve(s[0] + "-labels-idx1-ubyte"), lab.array());
        }
        return dir;
    }

    static RunOptions opts(Path data, int epochs, int maxSteps, int batch, int accum, double blr, double warmup, int ckEvery, int knnBank) {
        return new RunOptions("tiny", data.toString(), epochs, maxSteps, batch, accum, blr, warmup, 0.75, "random", true, 3, ckEvery, knnBank,
                "cpu", 0.05, RunOptions.LR_FROM_BLR, 1e-5, 0);
    }

    @Test void a_short_run_logs_meters_draws_and_evaluates_as_it_says() throws Exception {
        Path d = data(tmp.resolve("data"), 40, 12), run = tmp.resolve("run");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        RunOptions o = opts(d, 2, 0, 8, 2, 2e-3, 0.5, 0, 30);       // 40 / (8 x 2) = 2 steps per epoch, 4 steps
        Pretrainer p = new Pretrainer(o, run, tmp, new PrintStream(buf, true, StandardCharsets.UTF_8), false);
        assertEquals("(not loaded)", p.dataDescription());
        long w0 = System.nanoTime();
        Pretrainer.Result r = p.run(false);
        double wall = (System.nanoTime() - w0) / 1e9;
        String log = buf.toString(StandardCharsets.UTF_8);
        assertTrue(p.dataDescription().startsWith("IDX " + d), p.dataDescription());
        assertTrue(log.contains("data: " + p.dataDescription() + "\n"), log);
        assertTrue(log.contains("device: cpu\n"), log);
        assertTrue(log.contains(String.format(java.util.Locale.ROOT, "model: tiny, %,d trainable parameters; 4 steps (2.00 epochs of 2 steps), batch 8 x accum 2, lr %.3g, mask random 0.75",
                new mae.model.MaeModel(mae.model.MaeConfig.named("tiny"), 0).params.count(), 2e-3 * 16 / 256)), log);
        assertTrue(log.contains("evaluating: kNN (k=20, cosine) on frozen mean-pooled patch features..."), log);

        Schedule sched = new Schedule(2e-3 * 16 / 256, 1e-5, 0.5, 2);
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(4, lines.size());
        double last = 0, secsBefore = 0;
        for (int i = 0; i < 4; i++) {
            Map<String, Object> m = Json.asObject(Json.parse(lines.get(i)), "metrics");
            assertEquals((long) (i + 1), m.get("step"));
            assertEquals((i + 1) / 2.0, ((Number) m.get("epoch")).doubleValue(), 1e-9, "epoch after the step");
            assertEquals(sched.at(i / 2.0), ((Number) m.get("lr")).doubleValue(), 1e-6 * sched.lr(), "the lr of step " + (i + 1) + " at epoch " + i / 2.0);
            double loss = ((Number) m.get("loss")).doubleValue();
            assertTrue(loss > 0.5 && loss < 1.6, "the mean of the micro-batches' norm-pix losses, near 1 at the start: " + loss);
            double ips = ((Number) m.get("images_per_s")).doubleValue();
            assertTrue(ips > 0 && ips < 1e7, "images per second " + ips);
            // the images of the steps so far over the seconds since the first: those seconds lie within the run's
            // wall clock and grow from step to step (ips is rounded to 0.1: a relative slack of 1e-3)
            double secs = (i + 1) * 16 / ips;
            assertTrue(secs <= wall * (1 + 1e-3), "step " + (i + 1) + ": " + secs + " s within the run's " + wall + " s");
            assertTrue(secs >= secsBefore * (1 - 1e-3), "step " + (i + 1) + ": " + secs + " s after " + secsBefore + " s");
            secsBefore = secs;
            last = loss;
        }
        for (String pic : List.of("recon/epoch-001.png", "recon/epoch-002.png", "reconstruction.png", "loss.png"))
            assertTrue(Files.size(run.resolve(pic)) > 0, pic);
        assertFalse(Files.exists(run.resolve("recon/epoch-000.png")) || Files.exists(run.resolve("recon/epoch-003.png")));

        assertEquals(4, r.steps());
        assertEquals(last, r.finalLoss(), 1e-6);
        assertEquals(12, r.knnQueries(), "all 12 held-out images (fewer than 2000)");
        assertTrue(r.seconds() > 0 && r.imagesPerSecond() > 0 && r.imagesPerSecond() < 1e7);
        assertTrue(r.seconds() <= wall && r.seconds() >= secsBefore * (1 - 1e-3), r.seconds() + " s: after the last step, within the run's " + wall + " s");
        assertEquals(4 * 16 / r.seconds(), r.imagesPerSecond(), 1e-6 * r.imagesPerSecond(), "4 steps of 16 images over the run's seconds");
        assertEquals(run.resolve("checkpoints/step-0000004"), r.checkpoint());
        Map<String, Object> res = Json.readObject(run.resolve("result.json"));
        assertEquals(4L, res.get("steps"));
        assertEquals(30L, res.get("knn_bank"), "the first 30 of 40 training images");
        assertEquals(12L, res.get("knn_queries"));
        assertEquals(r.knnAccuracy(), ((Number) res.get("knn_accuracy")).doubleValue(), 1e-12);
        assertEquals(r.knnRandomInit(), ((Number) res.get("knn_random_init")).doubleValue(), 1e-12);
        assertEquals(run.resolve("checkpoints/step-0000004").toString(), res.get("checkpoint"));
        assertEquals(r.finalLoss(), ((Number) res.get("final_loss")).doubleValue(), 1e-9);
    }

    @Test void max_steps_cut_the_run_and_the_bank_is_all_training_images_when_smaller() throws Exception {
        Path d = data(tmp.resolve("data"), 24, 6), run = tmp.resolve("run");
        RunOptions o = opts(d, 5, 3, 8, 1, 1e-3, -1, 2, 1000);    // 3 steps per epoch, 5 epochs, cut at 3 steps
        Pretrainer.Result r = new Pretrainer(o, run, tmp, new PrintStream(new ByteArrayOutputStream()), false).run(false);
        assertEquals(3, r.steps());
        assertEquals(3, Files.readAllLines(run.resolve("metrics.jsonl")).size());
        Map<String, Object> res = Json.readObject(run.resolve("result.json"));
        assertEquals(24L, res.get("knn_bank"));
        assertTrue(Files.exists(run.resolve("recon/epoch-001.png")), "3 steps are one epoch");
        Schedule s = new Schedule(1e-3 * 8 / 256, 1e-5, 0.05 * 1, 1);      // the default warmup: 5% of the run's 1 epoch
        Map<String, Object> first = Json.asObject(Json.parse(Files.readAllLines(run.resolve("metrics.jsonl")).get(1)), "m");
        assertEquals(s.at(1 / 3.0), ((Number) first.get("lr")).doubleValue(), 1e-6 * s.lr());
    }

    /**
     * A resumed run whose metrics.jsonl is gone (deleted after its checkpoint) goes on from the checkpoint and starts
     * the file again with the steps it runs; its images per second count only those steps.
     */
    @Test void a_resumed_run_without_its_metrics_file_starts_a_new_one() throws Exception {
        Path d = data(tmp.resolve("data"), 24, 6), run = tmp.resolve("run");
        new Pretrainer(opts(d, 2, 2, 8, 1, 1e-3, 0, 0, 10), run, tmp, new PrintStream(new ByteArrayOutputStream()), false).run(false);
        assertTrue(Files.isDirectory(run.resolve("checkpoints/step-0000002")));
        Files.delete(run.resolve("metrics.jsonl"));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        long w0 = System.nanoTime();
        Pretrainer.Result r = new Pretrainer(opts(d, 2, 5, 8, 1, 1e-3, 0, 0, 10), run, tmp, new PrintStream(buf, true, StandardCharsets.UTF_8), false).run(true);
        double wall = (System.nanoTime() - w0) / 1e9;
        String log = buf.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("from step 2: max_steps 2 -> 5 (recorded in " + run.resolve("run.json") + ")\n"), log);
        assertTrue(log.contains("resuming " + run + " from step 2 (step-0000002)\n"), log);
        assertEquals(5, r.steps());
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(3, lines.size(), "steps 3 to 5");
        double secsBefore = 0;
        for (int i = 0; i < 3; i++) {
            Map<String, Object> m = Json.asObject(Json.parse(lines.get(i)), "metrics");
            assertEquals((long) (i + 3), m.get("step"));
            double secs = (i + 1) * 8 / ((Number) m.get("images_per_s")).doubleValue();   // the steps this run ran
            assertTrue(secs > 0 && secs <= wall * (1 + 1e-3) && secs >= secsBefore * (1 - 1e-3), "step " + (i + 3) + ": " + secs + " s, run " + wall + " s");
            secsBefore = secs;
        }
        assertEquals(3 * 8 / r.seconds(), r.imagesPerSecond(), 1e-6 * r.imagesPerSecond(), "3 steps of 8 images over the run's seconds");
        assertTrue(Files.size(run.resolve("loss.png")) > 0);
    }

    @Test void an_exploding_loss_stops_at_its_first_step() throws Exception {
        Path d = data(tmp.resolve("data"), 16, 6), run = tmp.resolve("run");
        RunOptions o = opts(d, 3, 0, 8, 1, 1e12, 0, 0, 100);
        Pretrainer p = new Pretrainer(o, run, tmp, new PrintStream(new ByteArrayOutputStream()), false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.run(false));
        assertTrue(e.getMessage().matches("loss is (NaN|Infinity) at step [1-5] \\(epoch [0-2]\\); stopped\\. The last good checkpoint is .*"), e.getMessage());
        int step = Integer.parseInt(e.getMessage().replaceAll("^loss is \\S+ at step (\\d+).*", "$1"));
        assertTrue(e.getMessage().contains(" at step " + step + " (epoch " + step / 2 + "); "), "2 steps per epoch: " + e.getMessage());
        assertTrue(e.getMessage().contains(step < 2 ? "The last good checkpoint is none (no checkpoint was written yet)." : "checkpoints/step-0000002"), e.getMessage());
        assertEquals(step, Files.readAllLines(run.resolve("metrics.jsonl")).size(), "a metrics line for each step before it");
    }

    @Test void too_few_images_for_one_step_are_refused_before_a_run_is_made() throws Exception {
        Path d = data(tmp.resolve("data"), 10, 6), run = tmp.resolve("run");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Pretrainer(opts(d, 1, 0, 8, 2, 1e-3, 0, 0, 10), run, tmp, new PrintStream(new ByteArrayOutputStream()), false).run(false));
        assertEquals("the training split has 10 images, fewer than one step's --batch x --accum = 16", e.getMessage());
        assertFalse(Files.exists(run), "no run folder left behind");
        new Pretrainer(opts(d, 1, 0, 5, 2, 1e-3, 0, 0, 10), run, tmp, new PrintStream(new ByteArrayOutputStream()), false).run(false);  // exactly one step
        assertEquals(1, Files.readAllLines(run.resolve("metrics.jsonl")).size());
    }

    /** The epoch's order: a permutation, a function of (seed, epoch) only (a resumed run recomputes it), different per epoch and seed. */
    @Test void each_epoch_has_its_own_fixed_order() {
        int[] a = Pretrainer.permutation(50, 3, 0), b = Pretrainer.permutation(50, 3, 1), c = Pretrainer.permutation(50, 4, 0);
        assertArrayEquals(a, Pretrainer.permutation(50, 3, 0));
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 50; i++) assertEquals(i, sorted[i]);
        assertFalse(Arrays.equals(a, b));
        assertFalse(Arrays.equals(a, c));
        assertFalse(Arrays.equals(b, Pretrainer.permutation(50, 3, -1)), "epoch 1 is not epoch -1");
        // the order checkpoints of earlier versions were trained with: Fisher-Yates on Rng(seed * 1000003 + epoch)
        Rng r = new Rng(3 * 1_000_003L + 1);
        int[] p = new int[50];
        for (int i = 0; i < 50; i++) p[i] = i;
        for (int i = 49; i > 0; i--) { int j = r.nextInt(i + 1); int t = p[i]; p[i] = p[j]; p[j] = t; }
        assertArrayEquals(p, b);
        assertArrayEquals(new int[]{0}, Pretrainer.permutation(1, 3, 0));
    }
}
