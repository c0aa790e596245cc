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
        Finetune.Settings s = Finetune.Settings.pretrained().withEpochs(4).withBatch(16).withBlr(4e-3).withDropPath(0.1).withMixup(0.8).withMinScale(0.6);
        Finetune.Result r = Finetune.runDetailed(Encoders.create(MaeConfig.named("tiny"), 3), train, test, aug, 2, s, null);
        assertEquals(32, r.steps());
        assertTrue(r.accuracy() > 0.9, "accuracy " + r.accuracy());
        assertTrue(Double.isFinite(r.finalLoss()));
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
}
