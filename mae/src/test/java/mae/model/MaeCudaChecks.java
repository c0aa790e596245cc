package mae.model;

import mae.autograd.Var;
import mae.optim.AdamW;
import mae.tensor.Device;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.kernels.Workspace;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The MAE on CUDA against the same MAE on the CPU: the loss and every parameter's gradient of one step (tiny and
 * fmnist), and the per-step losses of 20 training steps. Run on a GPU by {@link MaeCudaTest} (tag cuda) and on the
 * CPU stand-in of the kernels by {@link EmulatedMaeCudaTest}.
 *
 * <p>Tolerances are those of TF32 matmuls (the default on the GPU): every linear layer rounds its inputs to 10
 * mantissa bits (relative 2^-11 each), so each product is off by ~1e-3 relative and a handful of layers in
 * sequence by a few 1e-3; gradients are compared as whole tensors, |g_cuda - g_cpu| <= 2e-2 |g_cpu| (2-norms), as
 * single elements near zero carry no meaningful relative error. Losses: 1e-2 relative.
 */
abstract class MaeCudaChecks {
    static final double GRAD_TOL = 2e-2, LOSS_TOL = 1e-2;

    /** A model on CUDA with the same initial weights as a fresh CPU model of the same seed. */
    static MaeModel onCuda(MaeConfig cfg, long seed) { return new MaeModel(cfg, seed).to(Device.CUDA); }

    static double norm(float[] v) {
        double s = 0;
        for (float x : v) s += (double) x * x;
        return Math.sqrt(s);
    }

    static void closeNorm(String what, Tensor want, Tensor got, double tol) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        float[] w = want.toArray(), g = got.toArray();
        float[] d = new float[w.length];
        for (int i = 0; i < w.length; i++) d[i] = g[i] - w[i];
        double err = norm(d), ref = norm(w);
        assertTrue(err <= tol * ref + 1e-7, what + ": |cuda - cpu| = " + err + " vs |cpu| = " + ref + " (tolerance " + tol + " relative)");
    }

    /** One forward and backward of cfg at batch n on both devices: loss, prediction, mask and every gradient. */
    static void sameStep(MaeConfig cfg, int n) {
        MaeModel cpu = new MaeModel(cfg, 7), gpu = onCuda(cfg, 7);
        Rng r = new Rng(8);
        Tensor imgs = Tensor.randn(r, n, cfg.inChans(), cfg.imgSize(), cfg.imgSize()), noise = Tensor.rand(r, n, cfg.numPatches());
        MaeModel.Output want = cpu.forward(imgs, noise, 0.75), got = gpu.forward(imgs.to(Device.CUDA), noise, 0.75);
        assertEquals(Device.CUDA, got.loss().value().device());
        assertEquals(want.loss().value().item(), got.loss().value().item(), LOSS_TOL * Math.abs(want.loss().value().item()), cfg.name() + " loss");
        assertArrayEquals(want.mask().toArray(), got.mask().toArray(), cfg.name() + " mask");
        closeNorm(cfg.name() + " pred", want.pred().value(), got.pred().value(), GRAD_TOL);
        want.loss().backward();
        got.loss().backward();
        Map<String, Var> gp = gpu.params.trainable();
        for (Map.Entry<String, Var> e : cpu.params.trainable().entrySet()) {
            Tensor g = gp.get(e.getKey()).grad();
            assertNotNull(g, e.getKey() + " has a gradient on cuda");
            assertEquals(Device.CUDA, g.device(), e.getKey() + " gradient stays on cuda");
            closeNorm(cfg.name() + " grad " + e.getKey(), e.getValue().grad(), g, GRAD_TOL);
        }
    }

    @Test void tiny_loss_and_every_gradient_match_the_cpu() { sameStep(MaeConfig.named("tiny"), 4); }

    @Test void fmnist_loss_and_every_gradient_match_the_cpu() { sameStep(MaeConfig.named("fmnist"), 8); }

    /** 20 AdamW steps of tiny at batch 16 in a Workspace, as pretraining runs them; the losses of both devices. */
    static List<Float> train(Device device, int steps) {
        MaeConfig cfg = MaeConfig.named("tiny");
        MaeModel model = new MaeModel(cfg, 3).to(device);
        AdamW opt = new AdamW(model.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
        Rng data = new Rng(4);
        Workspace ws = new Workspace();
        List<Float> losses = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            try (Workspace.Scope scope = ws.open()) {
                Tensor imgs = Tensor.randn(data, 16, 1, 28, 28).add(Tensor.rand(data, 16, 1, 1, 1)).to(device);
                Tensor noise = Tensor.rand(data, 16, cfg.numPatches());
                Var loss = model.forward(imgs, noise, 0.75).loss();
                losses.add(loss.value().item());
                loss.backward();
            }
            opt.step(1e-3f);
            model.params.zeroGrad();
        }
        return losses;
    }

    @Test void twenty_training_steps_follow_the_cpu_losses() {
        List<Float> want = train(Device.CPU, 20), got = train(Device.CUDA, 20);
        for (int s = 0; s < want.size(); s++)
            assertEquals(want.get(s), got.get(s), 2e-2 * Math.abs(want.get(s)), "loss of step " + (s + 1) + ": cpu " + want + " vs cuda " + got);
        assertTrue(got.get(19) < got.get(0), "it learns on cuda: " + got);
    }
}
