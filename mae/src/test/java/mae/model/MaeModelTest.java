package mae.model;

import mae.autograd.F;
import mae.autograd.Var;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class MaeModelTest {
    @Test void patchify_then_unpatchify_is_the_identity_for_any_channel_count() {
        for (int C : new int[]{1, 2, 3}) {
            Tensor x = Tensor.randn(new Rng(C), 2, C, 8, 8);
            Tensor p = MaeModel.patchify(x, 4);
            assertArrayEquals(new int[]{2, 4, 16 * C}, p.shape());
            assertArrayEquals(x.toArray(), MaeModel.unpatchify(p, 4, C).toArray());
            // Patch 1 (row 0, col 1), pixel (0, 1), channel C-1: value x[0, C-1, 0, 5].
            assertEquals(x.get(0, C - 1, 0, 5), p.get(0, 1, (0 * 4 + 1) * C + C - 1));
        }
    }

    /**
     * The norm-pix target (t - mean) / sqrt(var_unbiased + 1e-6) per patch, computed here in double from the same
     * pixels, on patches from flat to varied: amplitudes 0 to 1 around 0.3, so that the eps decides the target of the
     * near-flat ones (variance ~1e-8 .. 1e-6) and not only the flat ones (target 0) or the varied ones (eps negligible).
     */
    @Test void the_norm_pix_target_of_near_flat_patches_shows_the_eps() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny").withNormPix(true), 0);     // 28 x 28, patches of 7 x 7
        double[] amp = {0, 1e-4, 3e-4, 1e-3, 2e-3, 1e-2, 0.1, 1};
        int N = 2, p = 7, g = 4, P = p * p;
        float[] px = new float[N * 28 * 28];
        for (int n = 0; n < N; n++) for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) {
            int patch = (y / p) * g + x / p;
            double a = amp[(n * 16 + patch) % amp.length];
            px[(n * 28 + y) * 28 + x] = (float) (0.3 + a * Math.sin(1.7 * (y % p) + 0.9 * (x % p) * (x % p) + patch));
        }
        float[] got = m.target(Tensor.of(px, N, 1, 28, 28)).toArray();
        assertEquals(N * 16 * P, got.length);
        for (int n = 0; n < N; n++) for (int patch = 0; patch < 16; patch++) {
            double[] v = new double[P];
            for (int i = 0; i < P; i++) v[i] = px[(n * 28 + (patch / g) * p + i / p) * 28 + (patch % g) * p + i % p];
            double mean = 0, ss = 0;
            for (double e : v) mean += e / P;
            for (double e : v) ss += (e - mean) * (e - mean);
            double denom = Math.sqrt(ss / (P - 1) + 1e-6);
            for (int i = 0; i < P; i++) {
                double want = (v[i] - mean) / denom;
                int at = (n * 16 + patch) * P + i;
                assertEquals(want, got[at], 2e-4 + 2e-4 * Math.abs(want), "image " + n + " patch " + patch + " (amplitude "
                        + amp[(n * 16 + patch) % amp.length] + ") value " + i);
            }
        }
    }

    @Test void masking_keeps_the_smallest_noise_and_marks_the_rest() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 0);                       // 16 patches
        float[] noise = new float[16];
        for (int i = 0; i < 16; i++) noise[i] = (i * 7 % 16) / 16f;
        MaeModel.Masking mk = m.randomMasking(Tensor.of(noise, 1, 16), 0.75);
        assertEquals(4, mk.lenKeep());
        float[] mask = mk.mask().toArray();
        for (int i = 0; i < 16; i++) assertEquals(noise[i] < 4 / 16f ? 0f : 1f, mask[i], "patch " + i);
        assertThrows(IllegalArgumentException.class, () -> m.randomMasking(Tensor.zeros(1, 15), 0.75));
        assertThrows(IllegalArgumentException.class, () -> m.randomMasking(Tensor.zeros(1, 16), 1.0));
    }

    @Test void the_loss_counts_only_removed_patches() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 0);
        Tensor imgs = Tensor.randn(new Rng(1), 2, 1, 28, 28), noise = Tensor.rand(new Rng(2), 2, 16);
        MaeModel.Output o = m.forward(imgs, noise, 0.75);
        // Replace the prediction on the visible patches: the loss must not move.
        Tensor pred = o.pred().value().copy(), keep = o.mask().unsqueeze(-1).neg().add(1f);
        Tensor perturbed = pred.add(keep.mul(5f));
        float a = m.forwardLoss(imgs, mae.autograd.Var.constant(pred), o.mask()).value().item();
        float b = m.forwardLoss(imgs, mae.autograd.Var.constant(perturbed), o.mask()).value().item();
        assertEquals(a, b, 1e-6f);
        assertEquals(a, o.loss().value().item(), 1e-6f);
    }

    @Test void encoding_only_the_visible_patches_gives_1_plus_keep_tokens() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 0);
        MaeModel.Output o = m.forward(Tensor.randn(new Rng(1), 3, 1, 28, 28), Tensor.rand(new Rng(2), 3, 16), 0.5);
        assertArrayEquals(new int[]{3, 1 + 8, 32}, o.latent().shape());
        assertArrayEquals(new int[]{3, 16, 49}, o.pred().shape());
    }

    @Test void the_removed_count_known_on_the_host_is_the_mask_sum_for_every_masking_strategy() {
        for (String name : new String[]{"tiny", "fmnist"}) {
            MaeModel m = new MaeModel(MaeConfig.named(name), 0);
            int g = m.cfg.grid(), L = m.cfg.numPatches();
            for (MaskNoise strategy : MaskNoise.values())
                for (double ratio : new double[]{0, 0.25, 0.5, 0.75, 0.9}) {
                    MaeModel.Masking mk = m.randomMasking(strategy.noise(new Rng(7), 5, g, ratio), ratio);
                    String what = name + " " + strategy + " " + ratio;
                    assertEquals((long) mk.mask().sum().item(), mk.removed(), what);
                    assertEquals(5L * (L - mk.lenKeep()), mk.removed(), what);
                }
        }
    }

    static void assertSameBits(Tensor a, Tensor b, String what) {
        assertArrayEquals(a.shape(), b.shape(), what);
        float[] x = a.toArray(), y = b.toArray();
        for (int i = 0; i < x.length; i++)
            assertEquals(Float.floatToIntBits(x[i]), Float.floatToIntBits(y[i]), what + "[" + i + "]: " + x[i] + " vs " + y[i]);
    }

    @Test void the_masked_mean_with_the_host_count_is_bit_identical_to_f_masked_mean_forward_and_backward() {
        MaeModel m = new MaeModel(MaeConfig.named("fmnist"), 0);
        Tensor mask = m.randomMasking(Tensor.rand(new Rng(3), 6, 49), 0.75).mask();
        Tensor values = Tensor.rand(new Rng(4), 6, 49).mul(3f);
        Var a = Var.param(values.copy()), b = Var.param(values.copy());
        Var ya = F.maskedMean(a, mask), yb = MaeModel.maskedMean(b, mask, (long) mask.sum().item());
        assertSameBits(ya.value(), yb.value(), "loss");
        ya.backward(Tensor.scalar(1f / 3));
        yb.backward(Tensor.scalar(1f / 3));
        assertSameBits(a.grad(), b.grad(), "gradient");
        assertThrows(IllegalArgumentException.class, () -> MaeModel.maskedMean(b, mask, 0));
        assertThrows(IllegalArgumentException.class, () -> MaeModel.maskedMean(b, mask.narrow(1, 0, 48), 6));
    }

    @Test void the_loss_and_every_gradient_match_the_f_masked_mean_path_bit_for_bit() {
        for (boolean normPix : new boolean[]{true, false})
            for (MaskNoise strategy : MaskNoise.values()) {
                MaeModel m = new MaeModel(MaeConfig.named("tiny").withNormPix(normPix), 0);
                Tensor imgs = Tensor.randn(new Rng(1), 3, 1, 28, 28), noise = strategy.noise(new Rng(2), 3, m.cfg.grid(), 0.75);
                String what = strategy + (normPix ? " norm-pix" : " raw pixels");

                // The loss as it was: the mask's sum read back inside F.maskedMean.
                MaeModel.Masking mk = m.randomMasking(noise, 0.75);
                Var pred = m.forwardDecoder(m.forwardEncoder(Var.constant(imgs), mk), mk.idsRestore());
                Var before = F.maskedMean(F.mseRows(pred, Var.constant(m.target(imgs))), mk.mask());
                F.mul(before, 0.5f).backward();
                Map<String, Tensor> grads = new LinkedHashMap<>();
                m.params.trainable().forEach((k, v) -> grads.put(k, v.grad().copy()));
                m.params.zeroGrad();

                Var now = m.forward(imgs, noise, 0.75).loss();
                assertSameBits(before.value(), now.value(), what + " loss");
                F.mul(now, 0.5f).backward();
                m.params.trainable().forEach((k, v) -> assertSameBits(grads.get(k), v.grad(), what + " " + k));
            }
    }
}
