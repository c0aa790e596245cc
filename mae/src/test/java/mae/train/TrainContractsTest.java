package mae.train;

import mae.data.Normalization;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.optim.AdamW;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Run options refused at their edges, checkpoints found, written, replaced and refused, and the schedule's edges. */
class TrainContractsTest {
    static RunOptions opts(int epochs, int maxSteps, int batch, int accum, double blr, double mask, String masking) {
        return new RunOptions("tiny", null, epochs, maxSteps, batch, accum, blr, -1, mask, masking, true, 1, 0, 100);
    }

    static void refused(Executable e, String... words) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        for (String w : words) assertTrue(x.getMessage().contains(w), "'" + x.getMessage() + "' should say " + w);
    }

    @Test void options_are_refused_just_past_their_edges() {
        MaeConfig c = MaeConfig.named("tiny");
        opts(1, 0, 1, 1, 1e-9, 0, "random").validate(c);                  // the edges themselves
        opts(RunOptions.ALL_EPOCHS, 1, 1, 1, 1e-3, 0.9375 - 1e-9, "grid").validate(c);   // one patch of 16 kept; steps alone bound the run
        opts(RunOptions.MAX_EPOCHS, 0, RunOptions.MAX_BATCH, 1, 1e-3, 0.5, "block").validate(c);
        refused(() -> opts(1, 0, 0, 1, 1e-3, 0.75, "random").validate(c), "--batch must be an integer from 1 to 65536, got 0");
        refused(() -> opts(1, 0, RunOptions.MAX_BATCH + 1, 1, 1e-3, 0.75, "random").validate(c), "--batch must be an integer from 1 to 65536, got 65537");
        refused(() -> opts(1, 0, 1, 0, 1e-3, 0.75, "random").validate(c), "--accum must be an integer from 1 to 65536, got 0");
        refused(() -> opts(1, 0, 4096, 4097, 1e-3, 0.75, "random").validate(c), "--batch 4096 x --accum 4097 = 16781312 images per step, more than 16777216");
        opts(1, 0, 4096, 4096, 1e-3, 0.75, "random").validate(c);        // exactly 2^24 images per step
        refused(() -> opts(0, 0, 1, 1, 1e-3, 0.75, "random").validate(c), "--epochs must be an integer from 1 to 1000000, got 0");
        refused(() -> opts(RunOptions.MAX_EPOCHS + 1, 0, 1, 1, 1e-3, 0.75, "random").validate(c), "--epochs must be an integer from 1 to 1000000, got 1000001");
        refused(() -> opts(1, -1, 1, 1, 1e-3, 0.75, "random").validate(c), "--max-steps must be an integer from 1 to 1000000000, got -1");
        refused(() -> opts(RunOptions.ALL_EPOCHS, 0, 1, 1, 1e-3, 0.75, "random").validate(c), "neither --epochs nor --max-steps bounds the run");
        refused(() -> opts(1, 0, 1, 1, 1e-3, -0.01, "random").validate(c), "--mask-ratio must be a number in [0, 1), got -0.01");
        refused(() -> opts(1, 0, 1, 1, 1e-3, 1.0, "random").validate(c), "--mask-ratio must be a number in [0, 1), got 1.0");
        refused(() -> opts(1, 0, 1, 1, 1e-3, 0.95, "random").validate(c), "--mask-ratio 0.95 keeps no patch of 16");
        refused(() -> opts(1, 0, 1, 1, 0, 0.75, "random").validate(c), "--blr must be a finite number above 0, got 0.0");
        refused(() -> opts(1, 0, 1, 1, Double.NaN, 0.75, "random").validate(c), "--blr must be a finite number above 0, got NaN");
        refused(() -> opts(1, 0, 1, 1, Double.POSITIVE_INFINITY, 0.75, "random").validate(c), "--blr must be a finite number above 0, got Infinity");
        refused(() -> opts(1, 0, 1, 1, 1e-3, 0.75, "spiral").validate(c), "--masking");
        if (!mae.tensor.Device.CUDA.available())
            refused(() -> opts(1, 0, 1, 1, 1e-3, 0.75, "random").withDevice("cuda").validate(c), "--device cuda: CUDA is not available here");
    }

    @Test void the_schedule_at_its_edges() {
        Schedule s = new Schedule(1.0, 0.1, 2, 10);
        assertEquals(1.0, s.at(2), 1e-15, "the end of the warmup is the peak");
        assertEquals(0.1, s.at(10), 1e-15, "the last epoch is the minimum");
        assertEquals(0.1, s.at(12), 1e-15, "and it stays there");
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.25)), s.at(4), 1e-12);
        assertEquals(1.0, new Schedule(1.0, 0, 0, 0).at(0), 1e-12, "no warmup and nothing to decay over: the peak");
    }

    static MaeModel tiny() { return new MaeModel(MaeConfig.named("tiny"), 0); }

    @Test void checkpoints_are_written_named_latest_pruned_and_found(@TempDir Path run) throws IOException {
        Checkpoints ck = new Checkpoints(run);
        assertNull(ck.latest());
        assertNull(ck.lastGood());
        MaeModel m = tiny();
        AdamW opt = new AdamW(m.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
        Normalization norm = new Normalization(new float[]{0.5f}, new float[]{0.25f});
        Files.createDirectories(run.resolve("checkpoints/step-0000001.tmp/junk"));          // a leftover of an interrupted write
        Path one = ck.save(1, 0, m, opt, new Rng(1), norm);
        assertEquals(run.resolve("checkpoints/step-0000001"), one);
        assertEquals(one, ck.latest());
        assertEquals(one, ck.lastGood());
        assertTrue(Files.isRegularFile(one.resolve("weights.safetensors")) && Files.isRegularFile(one.resolve("optimizer.safetensors"))
                && Files.isRegularFile(one.resolve("state.json")));
        Path two = ck.save(2, 0, m, opt, new Rng(1), norm);
        assertEquals(List.of("latest", "step-0000002"), list(run.resolve("checkpoints")), "only the latest is kept, leftovers removed");
        Path again = ck.save(2, 0, m, opt, new Rng(2), norm);
        assertEquals(two, again, "a checkpoint of the same step replaces the old one");
        assertEquals(two, new Checkpoints(run).latest(), "another process finds it through latest");
        assertEquals(two, new Checkpoints(run).lastGood());

        assertEquals(two.resolve("weights.safetensors"), Checkpoints.resolveWeights(run));
        assertEquals(two.resolve("weights.safetensors"), Checkpoints.resolveWeights(two));
        assertEquals(two.resolve("weights.safetensors"), Checkpoints.resolveWeights(two.resolve("weights.safetensors")));
        refused(() -> Checkpoints.resolveWeights(run.resolve("nope")), "does not exist");
        Path empty = Files.createDirectories(run.resolve("empty"));
        refused(() -> Checkpoints.resolveWeights(empty), "holds no checkpoint");

        Files.writeString(run.resolve("checkpoints/latest"), "step-0000009\n");
        IOException e = assertThrows(IOException.class, () -> new Checkpoints(run).latest());
        assertTrue(e.getMessage().contains("names step-0000009, which is missing"), e.getMessage());
    }

    @Test void non_finite_weights_are_never_checkpointed(@TempDir Path run) throws IOException {
        Checkpoints ck = new Checkpoints(run);
        MaeModel m = tiny();
        AdamW opt = new AdamW(m.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
        Normalization norm = new Normalization(new float[]{0.5f}, new float[]{0.25f});
        Path good = ck.save(3, 0, m, opt, new Rng(1), norm);
        float[] w = m.params.get("norm.weight").value().toArray();
        w[5] = Float.POSITIVE_INFINITY;
        m.params.set("norm.weight", Tensor.of(w, w.length));
        IllegalStateException x = assertThrows(IllegalStateException.class, () -> ck.save(4, 0, m, opt, new Rng(1), norm));
        assertTrue(x.getMessage().contains("parameter norm.weight became Infinity after step 4"), x.getMessage());
        assertTrue(x.getMessage().contains("The last good checkpoint is " + good), x.getMessage());
        assertEquals(good, ck.latest(), "nothing written");
        Checkpoints fresh = new Checkpoints(run.resolve("other"));
        x = assertThrows(IllegalStateException.class, () -> fresh.save(1, 0, m, opt, new Rng(1), norm));
        assertTrue(x.getMessage().contains("The last good checkpoint is none"), x.getMessage());
    }

    static List<String> list(Path d) throws IOException {
        try (var s = Files.list(d)) { return s.map(p -> p.getFileName().toString()).sorted().toList(); }
    }

    static RunOptions full(double warmup, int ckEvery, int knnBank, double wd, double lr, double minLr, int inputSize) {
        return new RunOptions("tiny", null, 2, 0, 16, 1, 1e-3, warmup, 0.75, "random", true, 1, ckEvery, knnBank, "cpu", wd, lr, minLr, inputSize);
    }

    /** The optimizer and bookkeeping options, each refused just past its edge with the flag and the range named. */
    @Test void optimizer_and_bookkeeping_options_at_their_edges() {
        MaeConfig c = MaeConfig.named("tiny");
        double nan = RunOptions.LR_FROM_BLR;
        full(0, 0, 1, 0, nan, 0, 0).validate(c);                                       // every lower edge
        full(RunOptions.MAX_EPOCHS, RunOptions.MAX_STEPS, RunOptions.MAX_KNN_BANK, 0.05, 1e-3, 1e-3, 28).validate(c);   // every upper edge; min lr = peak
        full(-1, 1, 1, 0.05, nan, 0, 0).validate(c);                                   // -1: the default warmup
        refused(() -> full(-0.5, 1, 1, 0.05, nan, 0, 0).validate(c), "--warmup-epochs must be a number in [0, 1000000], got -0.5");
        refused(() -> full(RunOptions.MAX_EPOCHS + 1, 1, 1, 0.05, nan, 0, 0).validate(c), "--warmup-epochs must be a number in [0, 1000000], got 1000001.0");
        refused(() -> full(0, -1, 1, 0.05, nan, 0, 0).validate(c), "--checkpoint-every must be an integer from 0 to 1000000000, got -1");
        refused(() -> full(0, 1, 0, 0.05, nan, 0, 0).validate(c), "--knn-bank must be an integer from 1 to 10000000, got 0");
        refused(() -> full(0, 1, RunOptions.MAX_KNN_BANK + 1, 0.05, nan, 0, 0).validate(c), "--knn-bank must be an integer from 1 to 10000000, got 10000001");
        refused(() -> full(0, 1, 1, -0.01, nan, 0, 0).validate(c), "--weight-decay must be a finite number of at least 0, got -0.01");
        refused(() -> full(0, 1, 1, Double.POSITIVE_INFINITY, nan, 0, 0).validate(c), "--weight-decay must be a finite number of at least 0, got Infinity");
        refused(() -> full(0, 1, 1, 0.05, 0, 0, 0).validate(c), "--lr must be a finite number above 0, got 0.0");
        refused(() -> full(0, 1, 1, 0.05, Double.POSITIVE_INFINITY, 0, 0).validate(c), "--lr must be a finite number above 0, got Infinity");
        refused(() -> full(0, 1, 1, 0.05, nan, -1e-9, 0).validate(c), "--min-lr must be a finite number of at least 0, got -1.0E-9");
        refused(() -> full(0, 1, 1, 0.05, nan, Double.NaN, 0).validate(c), "--min-lr must be a finite number of at least 0, got NaN");
        refused(() -> full(0, 1, 1, 0.05, 1e-3, 1.1e-3, 0).validate(c), "--min-lr 0.0011 is above the peak learning rate 0.001 (--lr, or --blr x batch x accum / 256)");
        refused(() -> full(0, 1, 1, 0.05, nan, 1e-4, 0).validate(c), "--min-lr 1.0E-4 is above the peak learning rate 6.25E-5");
        assertEquals(1e-3 * 16 / 256, full(0, 1, 1, 0.05, nan, 0, 0).peakLr(), 1e-18, "from blr: blr x batch x accum / 256");
        assertEquals(2e-4, full(0, 1, 1, 0.05, 2e-4, 0, 0).peakLr(), "given: --lr itself");
        assertEquals(56, full(0, 1, 1, 0.05, nan, 0, 56).model().imgSize());
        assertEquals(MaeConfig.named("tiny"), full(0, 1, 1, 0.05, nan, 0, 28).model(), "the config's own size: the config itself");
        refused(() -> full(0, 1, 1, 0.05, nan, 0, 30).model(), "--input-size 30 must be a multiple of the tiny config's patch size 7, from 7 to 4096");
        refused(() -> full(0, 1, 1, 0.05, nan, 0, 4102).model(), "--input-size 4102 must be a multiple");
        refused(() -> full(0, 1, 1, 0.05, nan, 0, -7).model(), "--input-size -7 must be a multiple");
        assertEquals(7, full(0, 1, 1, 0.05, nan, 0, 7).model().imgSize(), "one patch");
        RunOptions big = new RunOptions("mae_vit_base_patch16", null, 1, 0, 1, 1, 1e-3, 0, 0.75, "random", true, 1, 0, 1, "cpu", 0.05, nan, 0, 4096);
        assertEquals(4096, big.model().imgSize(), "the largest input size, a multiple of 16");
        RunOptions past = new RunOptions("mae_vit_base_patch16", null, 1, 0, 1, 1, 1e-3, 0, 0.75, "random", true, 1, 0, 1, "cpu", 0.05, nan, 0, 4112);
        refused(past::model, "--input-size 4112 must be a multiple");
    }

    /** run.json: the later knobs only when set, a round trip through the file, older files with the defaults, changes appended. */
    @Test void run_json_round_trips_and_records_changes(@TempDir Path dir) throws Exception {
        RunOptions plain = full(0.5, 2, 100, RunOptions.DEFAULT_WEIGHT_DECAY, RunOptions.LR_FROM_BLR, RunOptions.DEFAULT_MIN_LR, 0);
        java.util.Map<String, Object> j = plain.toJson();
        for (String later : List.of("weight_decay", "lr", "min_lr", "input_size")) assertFalse(j.containsKey(later), later + " left out at its default");
        assertEquals(mae.tensor.io.Json.NULL, j.get("data"), "no --data: null");
        RunOptions set = full(0.5, 2, 100, 0.1, 2e-4, 1e-6, 56);
        java.util.Map<String, Object> k = set.toJson();
        assertEquals(List.of(0.1, 2e-4, 1e-6, 56), List.of(k.get("weight_decay"), k.get("lr"), k.get("min_lr"), k.get("input_size")));
        Files.createDirectories(dir);
        set.write(dir.resolve("run.json"));
        assertEquals(set, RunOptions.read(dir));
        plain.write(dir.resolve("run.json"));
        assertEquals(plain, RunOptions.read(dir), "an older run.json without the later keys reads with the defaults");
        assertEquals(0, plain.changesFrom(plain).size());
        plain.writeChanges(dir.resolve("run.json"), plain, 3);
        assertFalse(Files.readString(dir.resolve("run.json")).contains("changes"), "nothing changed: nothing written");
        RunOptions more = new RunOptions("tiny", null, 2, 10, 16, 1, 1e-3, 0.5, 0.75, "random", true, 1, 2, 100, "cpu", 0.05, Double.NaN, 0, 0);
        more.writeChanges(dir.resolve("run.json"), plain, 4);
        RunOptions evenMore = new RunOptions("tiny", null, 2, 12, 16, 1, 1e-3, 0.5, 0.75, "random", true, 1, 2, 100, "cpu", 0.05, Double.NaN, 0, 0);
        evenMore.writeChanges(dir.resolve("run.json"), more, 6);
        java.util.Map<String, Object> back = mae.tensor.io.Json.readObject(dir.resolve("run.json"));
        assertEquals(12L, back.get("max_steps"));
        assertEquals(List.of(java.util.Map.of("step", 4L, "changed", java.util.Map.of("max_steps", java.util.Map.of("from", 0L, "to", 10L))),
                java.util.Map.of("step", 6L, "changed", java.util.Map.of("max_steps", java.util.Map.of("from", 10L, "to", 12L)))), back.get("changes"));
        Files.writeString(dir.resolve("run.json"), "{\"config\": \"tiny\"}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RunOptions.read(dir)).getMessage()
                .startsWith(dir.resolve("run.json") + ": cannot read the run options ("));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RunOptions.read(dir.resolve("none"))).getMessage()
                .startsWith("--resume " + dir.resolve("none") + ": no run.json there"));
    }
}
