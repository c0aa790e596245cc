package mae.study;

import mae.autograd.Grad;
import mae.autograd.Trace;
import mae.kernels.Workspace;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.model.MaskNoise;
import mae.optim.AdamW;
import mae.tensor.Rng;
import mae.tensor.Tensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The speed claim, measured: one pretraining step (forward, backward, AdamW) with the encoder on the visible
 * patches only (mask 0.75) against the same step with the encoder on every patch (mask 0: what an encoder that
 * also takes the mask tokens costs, the paper's "w/ [M]" row; the decoder's work is the same in both). Steps of the
 * two settings alternate, so a machine whose speed drifts slows both alike; the median of each is reported, beside
 * the multiply-adds of the forward pass counted by a {@link Trace}.
 */
final class SpeedCheck {
    private SpeedCheck() {}

    record Result(double ratio, double msVisible, double msAll, long encoderMacsVisible, long encoderMacsAll,
                  long macsVisible, long macsAll, int batch, int steps) {
        double wallSpeedup() { return msAll / msVisible; }
        double encoderMacsRatio() { return (double) encoderMacsAll / encoderMacsVisible; }
        double macsRatio() { return (double) macsAll / macsVisible; }

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mask_ratio", ratio); m.put("batch", batch); m.put("timed_steps", steps);
            m.put("ms_per_step_visible_only", msVisible); m.put("ms_per_step_all_patches", msAll);
            m.put("wall_speedup", wallSpeedup());
            m.put("encoder_macs_per_image_visible_only", encoderMacsVisible); m.put("encoder_macs_per_image_all_patches", encoderMacsAll);
            m.put("encoder_macs_ratio", encoderMacsRatio());
            m.put("macs_per_image_visible_only", macsVisible); m.put("macs_per_image_all_patches", macsAll);
            m.put("macs_ratio", macsRatio());
            return m;
        }
    }

    static Result measure(MaeConfig cfg, int batch, double ratio, int steps, long seed) {
        long[] visible = macs(cfg, ratio), all = macs(cfg, 0);
        MaeModel model = new MaeModel(cfg, seed);
        AdamW opt = new AdamW(model.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
        Rng rng = new Rng(seed);
        Tensor imgs = Tensor.randn(rng, batch, cfg.inChans(), cfg.imgSize(), cfg.imgSize());
        Workspace ws = new Workspace();
        for (int i = 0; i < 2; i++) { step(model, opt, ws, imgs, rng, ratio); step(model, opt, ws, imgs, rng, 0); } // warm up both
        double[] v = new double[steps], a = new double[steps];
        for (int i = 0; i < steps; i++) {
            v[i] = step(model, opt, ws, imgs, rng, ratio);
            a[i] = step(model, opt, ws, imgs, rng, 0);
        }
        return new Result(ratio, median(v), median(a), visible[0], all[0], visible[1], all[1], batch, steps);
    }

    /** One timed step in milliseconds. */
    private static double step(MaeModel model, AdamW opt, Workspace ws, Tensor imgs, Rng rng, double ratio) {
        long t0 = System.nanoTime();
        try (Workspace.Scope s = ws.open()) {
            Tensor noise = MaskNoise.RANDOM.noise(rng, imgs.size(0), model.cfg.grid(), ratio);
            model.forward(imgs, noise, ratio).loss().backward();
        }
        opt.step(1e-4f);
        model.params.zeroGrad();
        return (System.nanoTime() - t0) / 1e6;
    }

    /** {encoder multiply-adds, whole forward multiply-adds} of one image at a mask ratio. */
    static long[] macs(MaeConfig cfg, double ratio) {
        MaeModel m = new MaeModel(cfg, 0);
        Tensor img = Tensor.zeros(1, cfg.inChans(), cfg.imgSize(), cfg.imgSize());
        Tensor noise = MaskNoise.RANDOM.noise(new Rng(0), 1, cfg.grid(), ratio);
        Trace t = Trace.start();
        try (Grad.Scope g = Grad.off()) {
            m.forward(img, noise, ratio);
        } finally {
            t.stop();
        }
        long enc = 0;
        for (Trace.Stage s : t.stages()) if (mae.explain.Explainer.part(s.name()).equals("encoder")) enc += s.macs();
        return new long[]{enc, t.macs()};
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
