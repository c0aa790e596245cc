package mae.model;

import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;

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
}
