package mae.eval;

import mae.autograd.Var;
import mae.data.Augment;
import mae.data.Dataset;
import mae.data.Normalization;
import mae.model.MaeConfig;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class FinetuneTest {
    /** Two classes a ViT tells apart at once: the top half bright, or the bottom half; a little noise. */
    static Dataset halves(int n, long seed) {
        Rng r = new Rng(seed);
        int s = 28;
        float[] img = new float[n * s * s];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 2;
            for (int y = 0; y < s; y++)
                for (int x = 0; x < s; x++)
                    img[i * s * s + y * s + x] = (float) Math.min(1, Math.max(0, ((y < s / 2) == (labels[i] == 0) ? 0.8 : 0.1) + 0.1 * r.nextGaussian()));
        }
        return new Dataset(img, labels, n, 1, s, s, List.of("top", "bottom"), "halves");
    }

    @Test void a_tiny_vit_learns_a_separable_problem_with_every_knob_on() {
        Dataset train = halves(128, 1), test = halves(64, 2);
        Augment aug = new Augment(28, Normalization.of(train));
        Finetune.Settings s = Finetune.Settings.pretrained().withEpochs(4).withBatch(16).withBlr(4e-3).withDropPath(0.1).withMixup(0.8).withMinScale(0.6).withTranslate(2);
        Finetune.Result r = Finetune.runDetailed(Encoders.create(MaeConfig.named("tiny"), 3), train, test, aug, 2, s, null);
        assertEquals(32, r.steps());
        assertTrue(r.accuracy() > 0.9, "accuracy " + r.accuracy());
        assertTrue(Double.isFinite(r.finalLoss()));
        Finetune.Result unshifted = Finetune.runDetailed(Encoders.create(MaeConfig.named("tiny"), 3), train, test, aug, 2, s.withTranslate(0), null);
        assertNotEquals(r.finalLoss(), unshifted.finalLoss(), "the shifts reach the training images");
    }

    @Test void scoring_each_epoch_gives_the_curve_and_leaves_the_training_as_it_was() {
        Dataset train = halves(64, 1), test = halves(32, 2);
        Augment aug = new Augment(28, Normalization.of(train));
        Finetune.Settings s = Finetune.Settings.pretrained().withEpochs(3.5).withBatch(16).withBlr(4e-3).withDropPath(0.1).withMixup(0.8);
        StringBuilder lines = new StringBuilder();
        java.io.PrintStream log = new java.io.PrintStream(new java.io.OutputStream() {
            @Override public void write(int b) { lines.append((char) b); }
        }, true);
        Finetune.Result plain = Finetune.runDetailed(Encoders.create(MaeConfig.named("tiny"), 3), train, test, aug, 2, s, null);
        Finetune.Result curve = Finetune.runDetailed(Encoders.create(MaeConfig.named("tiny"), 3), train, test, aug, 2, s, log, true);
        assertEquals(0, plain.epochAccuracy().length);
        assertEquals(3, curve.epochAccuracy().length, "epochs 1, 2, 3 of 3.5 (the end is scored as the accuracy)");
        assertEquals(plain.accuracy(), curve.accuracy(), "the scores in between must not change the training");
        assertEquals(plain.finalLoss(), curve.finalLoss());
        for (int e = 1; e <= 3; e++)
            assertTrue(lines.toString().contains(String.format(java.util.Locale.ROOT, "epoch %d: test top-1 %.4f", e, curve.epochAccuracy()[e - 1])), lines.toString());
        assertFalse(lines.toString().contains("epoch 4:"), lines.toString());
        // 4 epochs exactly: epochs 1-3 in between, the 4th is the final accuracy itself
        assertEquals(3, Finetune.runDetailed(Encoders.create(MaeConfig.named("tiny"), 3), train, test, aug, 2, s.withEpochs(4), null, true).epochAccuracy().length);
    }

    @Test void layer_decay_scales_the_patch_embedding_most_and_the_head_not_at_all() {
        Map<String, Var> p = new LinkedHashMap<>();
        for (String n : List.of("cls_token", "patch_embed.proj.weight", "blocks.0.norm1.weight", "blocks.1.mlp.fc1.bias", "norm.weight", "head.weight"))
            p.put(n, Var.constant(Tensor.zeros(1)));
        Map<String, Float> s = Finetune.layerScales(p, 2, 0.5);
        assertEquals(0.125f, s.get("cls_token"));
        assertEquals(0.125f, s.get("patch_embed.proj.weight"));
        assertEquals(0.25f, s.get("blocks.0.norm1.weight"));
        assertEquals(0.5f, s.get("blocks.1.mlp.fc1.bias"));
        assertEquals(1f, s.get("norm.weight"));
        assertEquals(1f, s.get("head.weight"));
        assertEquals(1f, Finetune.layerScales(p, 2, 1.0).get("cls_token"));
    }

    @Test void drop_path_keeps_the_expectation_and_is_the_identity_at_zero() {
        Var y = Var.constant(Tensor.ones(4000, 2, 3));
        assertSame(y, Finetune.dropPath(y, 0, new Rng(1)));
        float[] out = Finetune.dropPath(y, 0.25, new Rng(1)).value().toArray();
        double mean = 0;
        int zeros = 0;
        for (int i = 0; i < 4000; i++) {
            float v = out[i * 6];
            for (int k = 1; k < 6; k++) assertEquals(v, out[i * 6 + k], "one decision per sample");
            assertTrue(v == 0f || Math.abs(v - 4f / 3) < 1e-6, "kept values scaled by 1 / (1 - p): " + v);
            if (v == 0) zeros++;
            mean += v / 4000;
        }
        assertEquals(1.0, mean, 0.05);
        assertEquals(1000, zeros, 100);
    }

    @Test void beta_draws_lie_in_the_unit_interval_with_mean_one_half() {
        Rng r = new Rng(7);
        for (double a : new double[]{0.2, 0.8, 1, 3}) {
            double m = 0;
            for (int i = 0; i < 4000; i++) {
                double b = Finetune.beta(r, a);
                assertTrue(b >= 0 && b <= 1, "Beta(" + a + ") draw " + b);
                m += b / 4000;
            }
            assertEquals(0.5, m, 0.03, "mean of Beta(" + a + ", " + a + ")");
        }
    }

    @Test void mixup_pairs_image_i_with_image_b_minus_1_minus_i() {
        float[] x = {0, 0, 1, 1, 2, 2};
        int[] labels = {5, 6, 7}, partner = new int[3];
        Finetune.mixup(x, 3, 2, 0.75, labels, partner);
        assertArrayEquals(new float[]{0.5f, 0.5f, 1, 1, 1.5f, 1.5f}, x);
        assertArrayEquals(new int[]{7, 6, 5}, partner);
    }

    @Test void bad_settings_are_one_clear_line() {
        Finetune.Settings s = Finetune.Settings.pretrained();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.withEpochs(0)).getMessage().contains("epochs"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.withLayerDecay(1.5)).getMessage().contains("layer decay"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.withMinScale(0)).getMessage().contains("crop"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.withDropPath(1)).getMessage().contains("drop path"));
        assertEquals(Math.round(2.5 * 125), s.withEpochs(2.5).withBatch(64).steps(8000));
    }

    @Test void the_schedule_warms_up_linearly_then_decays_by_a_half_cosine_to_min_lr() {
        Finetune.Settings s = Finetune.Settings.pretrained().withEpochs(10).withBatch(64).withBlr(4e-3).withWarmupEpochs(2).withMinLr(1e-5);
        assertEquals(1e-3, s.lr(), 1e-15);
        assertEquals(0, Finetune.lrAt(s, 0), 1e-15);
        assertEquals(0.25e-3, Finetune.lrAt(s, 0.5), 1e-15);                       // warmup: lr x e / warmup
        assertEquals(1e-3, Finetune.lrAt(s, 2), 1e-15);
        assertEquals(1e-5 + (1e-3 - 1e-5) * 0.5, Finetune.lrAt(s, 6), 1e-15);      // half way down the cosine
        assertEquals(1e-5, Finetune.lrAt(s, 10), 1e-15);                           // ends at min lr, not 0
        assertEquals(0, Finetune.lrAt(s.withMinLr(0), 10), 1e-15);
        assertEquals(2e-3, s.withAccum(2).lr(), 1e-15);                            // the effective batch sets the lr
    }

    @Test void accumulation_counts_steps_per_effective_batch_and_refuses_nonsense() {
        Finetune.Settings s = Finetune.Settings.pretrained().withEpochs(2).withBatch(16);
        assertEquals(2 * 500, s.steps(8000));
        assertEquals(2 * 125, s.withAccum(4).steps(8000));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.withAccum(0)).getMessage().contains("accum"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.withMinLr(-1e-6)).getMessage().contains("min lr"));
    }

    /** Two micro-batches of 8 accumulated are one step on the same 16 images: the same weights after it, to rounding. */
    @Test void two_micro_batches_of_8_update_the_weights_as_one_batch_of_16() {
        Dataset train = halves(32, 1), test = halves(16, 2);
        Augment aug = new Augment(28, Normalization.of(train));
        Finetune.Settings one = Finetune.Settings.pretrained().withEpochs(2).withBatch(16).withBlr(1e-2).withWarmupEpochs(0).withMinLr(1e-3);
        Finetune.Settings two = one.withBatch(8).withAccum(2).withBlr(1e-2);
        assertEquals(one.lr(), two.lr(), 1e-15);
        var a = Encoders.create(MaeConfig.named("tiny"), 3);
        var b = Encoders.create(MaeConfig.named("tiny"), 3);
        var untrained = Encoders.create(MaeConfig.named("tiny"), 3);
        assertEquals(4, Finetune.runDetailed(a, train, test, aug, 2, one, null).steps());
        assertEquals(4, Finetune.runDetailed(b, train, test, aug, 2, two, null).steps());
        for (var e : a.params.trainable().entrySet()) {
            float[] x = e.getValue().value().toArray(), y = b.params.trainable().get(e.getKey()).value().toArray();
            float[] x0 = untrained.params.trainable().get(e.getKey()).value().toArray();
            double moved = 0, diff = 0;
            for (int i = 0; i < x.length; i++) { moved = Math.max(moved, Math.abs(x[i] - x0[i])); diff = Math.max(diff, Math.abs(x[i] - y[i])); }
            assertTrue(moved > 1e-4, e.getKey() + " did not move");
            assertTrue(diff < 1e-3 * moved + 1e-6, e.getKey() + ": accumulated differs by " + diff + " (moved " + moved + ")");
        }
        var c = Encoders.create(MaeConfig.named("tiny"), 3);                       // and a different batch split is not the same step
        Finetune.runDetailed(c, train, test, aug, 2, one.withBatch(8).withBlr(2e-2), null);
        assertNotEquals(a.params.trainable().get("blocks.0.attn.qkv.weight").value().toArray()[0],
                c.params.trainable().get("blocks.0.attn.qkv.weight").value().toArray()[0]);
    }

    /** Gamma(a) draws have mean a and variance a, below 1 (the boosted branch) and above; Beta(a, a) variance 1 / (4 (2a + 1)). */
    @Test void gamma_and_beta_draws_have_the_right_mean_and_variance() {
        Rng r = new Rng(11);
        int n = 40000;
        for (double a : new double[]{0.3, 0.7, 2.5, 6}) {
            double m = 0, sq = 0;
            for (int i = 0; i < n; i++) { double g = Finetune.gamma(r, a); assertTrue(g >= 0); m += g; sq += g * g; }
            m /= n;
            double var = sq / n - m * m;
            assertEquals(a, m, 0.04 * Math.max(1, a), "mean of Gamma(" + a + ")");
            assertEquals(a, var, 0.1 * Math.max(1, a), "variance of Gamma(" + a + ")");
        }
        for (double a : new double[]{0.4, 2}) {
            double m = 0, sq = 0;
            for (int i = 0; i < n; i++) { double b = Finetune.beta(r, a); m += b; sq += b * b; }
            m /= n;
            assertEquals(1 / (4 * (2 * a + 1)), sq / n - m * m, 0.005, "variance of Beta(" + a + ", " + a + ")");
        }
        // a tiny a: both gamma draws often underflow to 0; the draw is then 1/2, never 0/0
        for (int i = 0; i < 2000; i++) {
            double b = Finetune.beta(r, 0.001);
            assertTrue(b >= 0 && b <= 1, "Beta(0.001) draw " + b);
        }
    }

    /** Linear warmup from 0 to lr over warmupEpochs, then a half cosine to 0 at the last epoch. */
    @Test void the_learning_rate_warms_up_then_follows_a_cosine() {
        Finetune.Settings s = new Finetune.Settings(10, 64, 4e-3, 0.75, 0.1f, 2, 0);     // lr 1e-3
        assertEquals(1e-3, s.lr(), 1e-15);
        assertEquals(0, Finetune.lrAt(s, 0), 1e-15);
        assertEquals(0.25e-3, Finetune.lrAt(s, 0.5), 1e-15);
        assertEquals(0.5e-3, Finetune.lrAt(s, 1), 1e-15);
        assertEquals(1e-3, Finetune.lrAt(s, 2), 1e-15);
        assertEquals(0.5e-3, Finetune.lrAt(s, 6), 1e-15, "halfway down the cosine");
        assertEquals(1e-3 * 0.5 * (1 + Math.cos(Math.PI * 0.25)), Finetune.lrAt(s, 4), 1e-15);
        assertEquals(0, Finetune.lrAt(s, 10), 1e-15);
        assertEquals(0, Finetune.lrAt(s, 12), 1e-15, "stays at 0 past the end");
        Finetune.Settings none = s.withWarmupEpochs(0);
        assertEquals(1e-3, Finetune.lrAt(none, 0), 1e-15, "no warmup: the peak at once");
    }

    @Test void settings_describe_themselves_in_one_line() {
        Finetune.Settings s = new Finetune.Settings(5, 64, 4e-3, 0.75, 0.1f, 0.5, 0, 1.0, false, 0, 0, 0.05);
        assertEquals("5 epochs of batch 64, blr 0.004 (lr 0.00100, cosine to 0), layer decay 0.75, warmup 0.5 epochs, label smoothing 0.1, no crops, no flips, "
                + "drop path 0, mixup off, weight decay 0.05", s.describe());
        Finetune.Settings t = s.withMinScale(0.2).withFlip(true).withMixup(0.8).withDropPath(0.1).withEpochs(2.5).withBlr(1.25e-5);
        assertEquals("2.5 epochs of batch 64, blr 1.250e-05 (lr 3.13e-06, cosine to 0), layer decay 0.75, warmup 0.5 epochs, label smoothing 0.1, crops of scale 0.2-1 + flips, "
                + "drop path 0.1, mixup 0.8, weight decay 0.05", t.describe());
        assertEquals("5 epochs of batch 64 x 4 accumulated, blr 0.004 (lr 0.00400, cosine to 1.000e-05), layer decay 0.75, warmup 0.5 epochs, label smoothing 0.1, no crops, no flips, "
                + "drop path 0, mixup off, weight decay 0.05", s.withAccum(4).withMinLr(1e-5).describe());
        assertEquals("5 epochs of batch 64, blr 0.004 (lr 0.00100, cosine to 0), layer decay 0.75, warmup 0.5 epochs, label smoothing 0.1, no crops, no flips, shifts of up to 2 px, "
                + "drop path 0, mixup off, weight decay 0.05", s.withTranslate(2).describe());
        assertEquals(15, s.toJson().size());
        assertEquals(2, s.withTranslate(2).toJson().get("translate"));
        assertEquals(4, s.withAccum(4).toJson().get("accum"));
        assertEquals(0.75, s.toJson().get("layer_decay"));
    }

    /** Each setting refused just outside its range and accepted at its edge. */
    @Test void settings_at_the_edges_of_their_ranges() {
        Finetune.Settings s = new Finetune.Settings(1, 8, 1e-3, 0.75, 0.1f, 0, 0, 1.0, false, 0, 0, 0);   // every edge that is allowed
        java.util.function.BiConsumer<java.util.function.Supplier<Finetune.Settings>, String> bad = (f, msg) ->
                assertEquals(msg, assertThrows(IllegalArgumentException.class, f::get).getMessage());
        bad.accept(() -> s.withEpochs(0), "fine-tune epochs must be positive, got 0.0");
        bad.accept(() -> s.withEpochs(Double.NaN), "fine-tune epochs must be positive, got NaN");
        assertEquals(1e-9, s.withEpochs(1e-9).epochs());
        bad.accept(() -> s.withBatch(0), "fine-tune batch must be at least 1, got 0");
        assertEquals(1, s.withBatch(1).batch());
        bad.accept(() -> s.withBlr(0), "fine-tune blr must be positive, got 0.0");
        bad.accept(() -> s.withLayerDecay(0), "layer decay must lie in (0, 1], got 0.0");
        bad.accept(() -> s.withLayerDecay(1.0001), "layer decay must lie in (0, 1], got 1.0001");
        assertEquals(1.0, s.withLayerDecay(1).layerDecay());
        bad.accept(() -> s.withSmoothing(-0.01f), "label smoothing must lie in [0, 1), got -0.01");
        bad.accept(() -> s.withSmoothing(1f), "label smoothing must lie in [0, 1), got 1.0");
        assertEquals(0f, s.withSmoothing(0f).smoothing());
        bad.accept(() -> s.withWarmupEpochs(-0.01), "warmup epochs must not be negative, got -0.01");
        bad.accept(() -> s.withMinScale(0), "crop minimum scale must lie in (0, 1], got 0.0");
        bad.accept(() -> s.withMinScale(1.01), "crop minimum scale must lie in (0, 1], got 1.01");
        bad.accept(() -> s.withDropPath(-0.1), "drop path must lie in [0, 1), got -0.1");
        bad.accept(() -> s.withDropPath(1), "drop path must lie in [0, 1), got 1.0");
        assertEquals(0.0, s.withDropPath(0).dropPath());
        bad.accept(() -> s.withMixup(-0.5), "mixup must not be negative, got -0.5");
        assertEquals(0.0, s.withMixup(0).mixup());
        bad.accept(() -> s.withWeightDecay(-1e-9), "weight decay must not be negative, got -1.0E-9");
        assertEquals(0.0, s.withWeightDecay(0).weightDecay());
        bad.accept(() -> s.withTranslate(-1), "fine-tune translate must be 0..64 pixels, got -1");
        bad.accept(() -> s.withTranslate(65), "fine-tune translate must be 0..64 pixels, got 65");
        assertEquals(64, s.withTranslate(64).translate());
        Finetune.Settings scratch = Finetune.Settings.pretrained().forScratch(2e-3);
        assertEquals(1.0, scratch.layerDecay(), "from scratch: no layer decay");
        assertEquals(2e-3, scratch.blr());
        assertEquals(Finetune.Settings.pretrained().withLayerDecay(1).withBlr(2e-3), scratch);
        Finetune.Settings w = s.withSeed(9).withSmoothing(0.2f).withWarmupEpochs(0.5).withWeightDecay(0.1).withLayerDecay(0.5);
        assertEquals(java.util.List.of(9L, 0.2f, 0.5, 0.1, 0.5), java.util.List.of(w.seed(), w.smoothing(), w.warmupEpochs(), w.weightDecay(), w.layerDecay()));
        assertEquals(3, s.withBatch(8).steps(24), "24 images in batches of 8");
        assertEquals(1, s.withEpochs(0.01).steps(24), "at least one step");
        assertEquals(1, s.withBatch(8).stepsPerEpoch(5), "at least one step per epoch");
    }

    /** The fine-tuning forward pass's multiply-adds per image: more for a deeper encoder, and more than its blocks alone. */
    @Test void macs_per_image_grow_with_depth() {
        long one = Finetune.macsPerImage(new mae.model.MaeModel(new mae.model.MaeConfig("a", 28, 7, 1, 32, 1, 2, 16, 1, 2, 4f, false), 1).encoder, 10);
        long two = Finetune.macsPerImage(new mae.model.MaeModel(new mae.model.MaeConfig("b", 28, 7, 1, 32, 2, 2, 16, 1, 2, 4f, false), 1).encoder, 10);
        assertTrue(one > 17L * 32 * 32 * 12, "one block of 17 tokens at width 32 (qkv, proj, MLP: 12 D^2 per token) and more: " + one);
        assertEquals(17L * 32 * 32 * 12, two - one, 17L * 32 * 32 * 2, "a second block adds about one block's linear layers (plus attention)");
    }
}
