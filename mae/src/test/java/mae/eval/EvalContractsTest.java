package mae.eval;

import mae.autograd.Var;
import mae.data.Augment;
import mae.data.Dataset;
import mae.data.Normalization;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.vit.Layers;
import mae.vit.Params;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Frozen features and fine-tuning: what each computes, checked against the encoder run by hand. */
class EvalContractsTest {
    static final Normalization ID = new Normalization(new float[]{0.5f}, new float[]{0.25f});

    /** n 28 x 28 images: class k is a bright square in quadrant k, on noise. */
    static Dataset quadrants(int n, long seed) {
        Rng r = new Rng(seed);
        float[] px = new float[n * 28 * 28];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 4;
            int oy = y[i] / 2 * 14, ox = y[i] % 2 * 14;
            for (int p = 0; p < 784; p++) px[i * 784 + p] = 0.2f * r.nextFloat();
            for (int a = 2; a < 12; a++) for (int b = 2; b < 12; b++) px[i * 784 + (oy + a) * 28 + ox + b] = 0.9f;
        }
        return new Dataset(px, y, n, 1, 28, 28, List.of("a", "b", "c", "d"), "quadrants");
    }

    @Test void features_are_the_cls_token_or_the_mean_patch_token_in_any_batching() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 3);
        Dataset d = quadrants(7, 1);
        Augment aug = new Augment(28, ID);
        float[] x = new float[7 * 784];
        aug.evalBatch(d, new int[]{0, 1, 2, 3, 4, 5, 6}, x);
        Var tokens = m.encoder.forwardFeatures(Var.constant(Tensor.of(x, 7, 1, 28, 28)));        // (7, 17, 32)
        float[] t = tokens.value().toArray();
        int D = 32, T = 17;
        float[] cls = new float[7 * D], mean = new float[7 * D];
        for (int i = 0; i < 7; i++)
            for (int dd = 0; dd < D; dd++) {
                cls[i * D + dd] = t[(i * T) * D + dd];
                double s = 0;
                for (int k = 1; k < T; k++) s += t[(i * T + k) * D + dd];
                mean[i * D + dd] = (float) (s / 16);
            }
        for (int batch : new int[]{7, 3, 256}) {
            assertArrayEquals(cls, Features.of(Features.Kind.CLS, m.encoder, d, aug, batch), 1e-5f, "cls, batch " + batch);
            assertArrayEquals(mean, Features.of(Features.Kind.MEAN, m.encoder, d, aug, batch), 1e-5f, "mean, batch " + batch);
        }
        assertArrayEquals(cls, Features.cls(m.encoder, d, aug, 2), 1e-5f);
        assertEquals(Features.Kind.CLS, Features.Kind.parse("CLS"));
        assertEquals(Features.Kind.MEAN, Features.Kind.parse("mean"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Features.Kind.parse("max"));
        assertEquals("--feature must be cls or mean, got 'max'", e.getMessage());
    }

    /** BEiT/MAE layer decay: decay^(depth + 1 - layer), embeddings layer 0, block i layer i + 1, the rest depth + 1. */
    @Test void layer_decay_scales_each_parameter_by_its_depth() {
        Map<String, Var> ps = new LinkedHashMap<>();
        for (String n : List.of("cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "blocks.1.norm1.bias",
                "blocks.11.mlp.fc1.weight", "norm.weight", "fc_norm.bias", "head.weight"))
            ps.put(n, Var.param(Tensor.zeros(1)));
        Map<String, Float> s = Finetune.layerScales(ps, 12, 0.5);
        assertEquals((float) Math.pow(0.5, 13), s.get("cls_token"));
        assertEquals((float) Math.pow(0.5, 13), s.get("pos_embed"));
        assertEquals((float) Math.pow(0.5, 13), s.get("patch_embed.proj.weight"));
        assertEquals((float) Math.pow(0.5, 12), s.get("blocks.0.attn.qkv.weight"));
        assertEquals((float) Math.pow(0.5, 11), s.get("blocks.1.norm1.bias"));
        assertEquals(0.5f, s.get("blocks.11.mlp.fc1.weight"));
        assertEquals(1f, s.get("norm.weight"));
        assertEquals(1f, s.get("fc_norm.bias"));
        assertEquals(1f, s.get("head.weight"));
        assertEquals(ps.keySet(), s.keySet());
    }

    /** The head reads the mean patch token (cls excluded) through fc_norm; accuracy is the argmax's. */
    @Test void the_finetune_head_pools_the_patch_tokens_and_accuracy_counts_argmax_hits() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 4);
        Finetune.Head head = new Finetune.Head(m.encoder, 4, new Rng(1));
        Dataset d = quadrants(300, 2);
        Augment aug = new Augment(28, ID);
        float[] x = new float[5 * 784];
        aug.evalBatch(d, new int[]{0, 1, 2, 3, 4}, x);
        Tensor imgs = Tensor.of(x, 5, 1, 28, 28);
        Var tokens = m.encoder.forwardFeatures(Var.constant(imgs));
        Var pooled = mae.autograd.F.mean(mae.autograd.F.narrow(tokens, 1, 1, 16), new int[]{1}, false);
        assertArrayEquals(head.fc.forward(head.fcNorm.forward(pooled)).value().toArray(), head.logits(imgs, 0, null).value().toArray(), 1e-5f);

        // a head that predicts class 0 for everything: right on a quarter of the images (the test spans 256-image batches)
        head.fc.weight.setValue(Tensor.zeros(4, 32));
        head.fc.bias.setValue(Tensor.of(new float[]{1, 0, 0, 0}, 4));
        assertEquals(75 / 300.0, head.accuracy(d, aug), 1e-12);
        head.fc.bias.setValue(Tensor.of(new float[]{0, 0, 0, 1}, 4));
        assertEquals(75 / 300.0, head.accuracy(d, aug), 1e-12);
    }

    /**
     * A short fine-tuning of the tiny encoder learns the quadrants well above chance (no flips: a flip moves the
     * square to the other quadrant, i.e. changes the label), and its result counts the steps and images; its
     * progress lines (with the quiet time off) fall at each quarter of the steps, with the step's loss and a
     * running mean that starts from the first loss, ln 4 for a head initialized near zero.
     */
    @Test void fine_tuning_learns_an_easy_problem_and_reports_progress() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 5);
        Dataset train = quadrants(160, 3), test = quadrants(80, 4);
        Augment aug = new Augment(28, ID);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Finetune.Settings s = new Finetune.Settings(5, 16, 4e-2, 0.75, 0.1f, 1, 7).withMinScale(0.9).withFlip(false);
        Finetune.Result r;
        mae.io.Progress.setTaskQuietSeconds(0);
        try {
            r = Finetune.runDetailed(m.encoder, train, test, aug, 4, s, new PrintStream(out, true, StandardCharsets.UTF_8));
        } finally {
            mae.io.Progress.setTaskQuietSeconds(2);
        }
        assertTrue(r.accuracy() > 0.6, "fine-tuned accuracy " + r.accuracy() + " (chance 0.25)");
        assertEquals(50, r.steps(), "5 epochs of 160 / 16");
        assertEquals(800, r.images());
        assertTrue(r.finalLoss() < Math.log(4), "the last loss " + r.finalLoss() + " is below chance's ln 4");
        assertTrue(r.seconds() > 0 && r.seconds() < 3600, "seconds " + r.seconds());
        String[] lines = out.toString(StandardCharsets.UTF_8).trim().split("\n");
        assertEquals(4, lines.length, out.toString(StandardCharsets.UTF_8));
        int[] marks = {12, 25, 37, 50};
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(
                "finetune \\(5\\.0 epochs\\): (\\d+)/50 steps  loss (\\d\\.\\d{4}) \\(running mean (\\d\\.\\d{4})\\)  (ETA .*|done in .*)");
        for (int i = 0; i < 4; i++) {
            java.util.regex.Matcher mm = p.matcher(lines[i]);
            assertTrue(mm.matches(), lines[i]);
            assertEquals(marks[i], Integer.parseInt(mm.group(1)), lines[i]);
            assertEquals(i == 3, mm.group(4).startsWith("done in"), lines[i]);
            double mean = Double.parseDouble(mm.group(3));
            if (i == 0) assertEquals(Math.log(4), mean, 0.1, "after 12 steps the running mean (0.98 / 0.02) is still near the first loss: " + lines[i]);
            else assertTrue(mean > 0.3 && mean < 1.45, lines[i]);
        }
        assertTrue(lines[3].contains(String.format(java.util.Locale.ROOT, "loss %.4f ", r.finalLoss())), "the last line shows the last loss: " + lines[3]);
        assertThrows(IllegalArgumentException.class, () -> Finetune.run(m.encoder, quadrants(8, 1), test, aug, 4, s, null),
                "a batch of 16 from 8 training images");
        Finetune.Result one = Finetune.runDetailed(new MaeModel(MaeConfig.named("tiny"), 6).encoder, quadrants(16, 1), test, aug, 4, s.withEpochs(1), null);
        assertEquals(1, one.steps(), "16 images, batch 16: one step");
        assertEquals(one.accuracy(), Finetune.run(new MaeModel(MaeConfig.named("tiny"), 6).encoder, quadrants(16, 1), test, aug, 4, s.withEpochs(1), null));
        assertTrue(one.accuracy() > 0, "accuracy " + one.accuracy());
        IllegalStateException nan = assertThrows(IllegalStateException.class,
                () -> Finetune.run(new MaeModel(MaeConfig.named("tiny"), 6).encoder, train, test, aug, 4, s.withBlr(1e30).withWarmupEpochs(0), null));
        assertTrue(nan.getMessage().matches("fine-tuning loss is (NaN|Infinity) at step \\d+; try a lower blr"), nan.getMessage());
    }

    /** Feature extraction in batches reports the images done after each batch (quiet time off), under the task's name. */
    @Test void features_report_the_images_done_after_each_batch() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 3);
        Dataset d = quadrants(5, 1);
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        float[] f;
        mae.io.Progress.setTaskQuietSeconds(0);
        System.setOut(new java.io.PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            f = Features.of(Features.Kind.MEAN, m.encoder, d, new Augment(28, ID), 2, "features, test");
        } finally {
            System.setOut(old);
            mae.io.Progress.setTaskQuietSeconds(2);
        }
        assertEquals(5 * 32, f.length);
        String[] lines = buf.toString(StandardCharsets.UTF_8).trim().split("\n");
        assertEquals(3, lines.length, buf.toString(StandardCharsets.UTF_8));
        assertTrue(lines[0].startsWith("features, test: 2/5 images  ETA "), lines[0]);
        assertTrue(lines[1].startsWith("features, test: 4/5 images  ETA "), lines[1]);
        assertTrue(lines[2].startsWith("features, test: 5/5 images  done in "), lines[2]);
    }
}
