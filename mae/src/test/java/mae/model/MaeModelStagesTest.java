package mae.model;

import mae.autograd.Trace;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The MAE forward pass under a Trace: its stages in order with the shapes they produce, and the model's input checks. */
class MaeModelStagesTest {
    @Test void the_forward_pass_names_its_stages_in_order_with_their_shapes() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny-dec2"), 3);
        Tensor imgs = Tensor.randn(new Rng(1), 2, 1, 28, 28), noise = Tensor.rand(new Rng(2), 2, 16);
        Trace t = Trace.start();
        MaeModel.Output o;
        try {
            o = m.forward(imgs, noise, 0.75);
        } finally {
            t.stop();
        }
        List<String> names = new ArrayList<>();
        for (Trace.Stage s : t.stages()) names.add(s.name());
        List<String> want = List.of("masking", "+ cls", "encoder block 0", "encoder block 1", "encoder norm", "decoder embedding", "mask tokens", "unshuffle", "+ decoder position embedding",
                "decoder block 0", "decoder block 1", "prediction", "per-patch loss", "loss");
        int at = names.indexOf("masking");
        assertTrue(at >= 0, names.toString());
        assertEquals(want, names.subList(at, names.size()), "the stages after the embedding, in order");
        assertArrayEquals(new int[]{2, 4, 32}, t.stage("masking").shape(), "4 visible patches of 16");
        assertArrayEquals(new int[]{2, 5, 16}, t.stage("decoder embedding").shape(), "cls + 4 visible, decoder width");
        assertArrayEquals(new int[]{2, 16, 16}, t.stage("mask tokens").shape(), "4 visible + 12 mask tokens");
        assertArrayEquals(new int[]{2, 17, 16}, t.stage("+ decoder position embedding").shape());
        assertArrayEquals(new int[]{2, 16, 49}, t.stage("prediction").shape());
        assertArrayEquals(new int[]{2, 16}, t.stage("per-patch loss").shape());
        assertArrayEquals(new int[0], t.stage("loss").shape());
        assertEquals(o.loss().value().item(), t.stage("loss").output().item());
        assertEquals(2L * 17 * 16 * 49, t.stage("prediction").macs(), "the prediction's linear layer: N (1 + L) Dd P");
    }

    @Test void bad_inputs_are_refused_before_any_work() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 3);
        Tensor noise = Tensor.rand(new Rng(2), 2, 16);
        assertEquals("imgs: expected shape [N,1,28,28], got [2,3,28,28]",
                assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.zeros(2, 3, 28, 28), noise, 0.75)).getMessage(), "3 channels into a 1-channel model");
        assertEquals("maskedMean: mask [2,16] selects nothing",
                assertThrows(IllegalArgumentException.class, () -> MaeModel.maskedMean(mae.autograd.Var.constant(Tensor.zeros(2, 16)), Tensor.zeros(2, 16), 0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MaeModel.maskedMean(mae.autograd.Var.constant(Tensor.zeros(2, 16)), Tensor.zeros(2, 15), 3))
                .getMessage().startsWith("maskedMean: values [2,16] and mask [2,15] differ"));
        assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.zeros(2, 1, 32, 32), noise, 0.75), "the wrong image size");
        assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.zeros(), noise, 0.75), "a rank-0 tensor is not a batch of images");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.zeros(0, 1, 28, 28), Tensor.zeros(0, 16), 0.75))
                .getMessage().contains("no images (N = 0)"));
        assertEquals("mask ratio 1.0 is outside [0, 1)", assertThrows(IllegalArgumentException.class, () -> m.randomMasking(noise, 1.0)).getMessage());
        assertEquals("mask ratio -0.1 is outside [0, 1)", assertThrows(IllegalArgumentException.class, () -> m.randomMasking(noise, -0.1)).getMessage());
        assertEquals("mask ratio 0.95 keeps no patch of 16", assertThrows(IllegalArgumentException.class, () -> m.randomMasking(noise, 0.95)).getMessage());
        assertEquals("noise: expected shape [N,16], got [2,15]", assertThrows(IllegalArgumentException.class, () -> m.randomMasking(Tensor.zeros(2, 15), 0.5)).getMessage());
        assertEquals("noise: expected shape [N,16], got [32]", assertThrows(IllegalArgumentException.class, () -> m.randomMasking(Tensor.zeros(32), 0.5)).getMessage());
        assertEquals(16, m.randomMasking(noise, 0).lenKeep(), "ratio 0 keeps all");
        assertEquals(1, m.randomMasking(noise, 0.9375).lenKeep(), "15/16 keeps one");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MaeModel.patchify(Tensor.zeros(1, 1, 28, 27), 7)).getMessage().contains("is not square"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MaeModel.patchify(Tensor.zeros(1, 1, 30, 30), 7)).getMessage().contains("divisible by 7"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MaeModel.unpatchify(Tensor.zeros(1, 15, 49), 7, 1)).getMessage().startsWith("unpatchify: [1,15,49]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MaeModel.unpatchify(Tensor.zeros(1, 16, 48), 7, 1)).getMessage().startsWith("unpatchify: [1,16,48]"));
        // a mask ratio of 0: nothing removed, the loss covers every patch (not 0 / 0)
        MaeModel.Output all = m.forward(Tensor.randn(new Rng(4), 2, 1, 28, 28), noise, 0);
        assertTrue(Float.isFinite(all.loss().value().item()) && all.loss().value().item() > 0, "loss " + all.loss().value().item());
        assertEquals(all.loss().value().item(), mae.autograd.F.mean(mae.autograd.F.mseRows(all.pred(),
                mae.autograd.Var.constant(m.target(Tensor.randn(new Rng(4), 2, 1, 28, 28))))).value().item(), 1e-6f);
    }
}
