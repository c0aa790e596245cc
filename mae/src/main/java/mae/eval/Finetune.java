package mae.eval;

import mae.autograd.F;
import mae.autograd.Grad;
import mae.autograd.Var;
import mae.data.Augment;
import mae.data.Dataset;
import mae.optim.AdamW;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.vit.Layers.LayerNorm;
import mae.vit.Layers.Linear;
import mae.vit.Params;
import mae.vit.VisionTransformer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * End-to-end fine-tuning as in the paper (scaled down): the whole encoder plus a head on mean-pooled patch
 * tokens (fc_norm LayerNorm, then a linear layer), AdamW (0.9, 0.999), weight decay 0.05, layer-wise lr
 * decay, label smoothing, RandomResizedCrop + flip. No mixup/cutmix or drop path (the paper uses them at
 * ImageNet scale only).
 */
public final class Finetune {
    private Finetune() {}

    public record Settings(int epochs, int batch, double blr, double layerDecay, float smoothing, double warmupEpochs, long seed) {}

    public static double run(VisionTransformer enc, Dataset train, Dataset test, Augment aug, int classes, Settings s, java.io.PrintStream log) {
        Params head = new Params();
        Rng rng = new Rng(s.seed());
        LayerNorm fcNorm = new LayerNorm(head, "fc_norm", enc.dim);
        Linear fc = new Linear(head, "head", enc.dim, classes, rng);
        fc.weight.setValue(Tensor.randn(rng, classes, enc.dim).mul(2e-5f)); // MAE: trunc_normal std 2e-5 on the head
        LinkedHashMap<String, Var> all = new LinkedHashMap<>(enc.params.trainable());
        all.putAll(head.trainable());
        AdamW opt = new AdamW(all, 0.9f, 0.999f, 1e-8f, 0.05f);
        Map<String, Float> scale = layerScales(all, enc.depth, s.layerDecay());
        int B = s.batch(), spe = Math.max(1, train.n() / B), total = spe * s.epochs();
        double lr = s.blr() * B / 256;
        int[] perm = new int[train.n()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        float[] buf = new float[B * train.imageSize()];
        mae.io.Progress progress = mae.io.Progress.start("finetune (" + s.epochs() + " epochs)", total, "steps", log);
        for (int step = 0; step < total; step++) {
            if (step % spe == 0) LinearProbe.shuffle(perm, rng);
            int[] idx = java.util.Arrays.copyOfRange(perm, (step % spe) * B, (step % spe + 1) * B);
            aug.batch(train, idx, buf, rng);
            int[] labels = new int[B];
            for (int i = 0; i < B; i++) labels[i] = train.labels()[idx[i]];
            Var logits = logits(enc, fcNorm, fc, Tensor.of(buf, B, train.c(), train.h(), train.w()));
            Var loss = F.crossEntropy(logits, labels, s.smoothing());
            loss.backward();
            double e = (double) step / spe;
            double l = e < s.warmupEpochs() ? lr * e / s.warmupEpochs()
                    : lr * 0.5 * (1 + Math.cos(Math.PI * (e - s.warmupEpochs()) / Math.max(1e-9, s.epochs() - s.warmupEpochs())));
            opt.step((float) l, scale);
            enc.params.zeroGrad();
            head.zeroGrad();
            progress.step(step + 1, String.format(java.util.Locale.ROOT, "loss %.4f", loss.value().item()));
        }
        progress.close();
        return accuracy(enc, fcNorm, fc, test, aug);
    }

    /** Mean of the patch tokens (cls excluded), fc_norm, head: (N, C, H, W) -> (N, classes). */
    static Var logits(VisionTransformer enc, LayerNorm fcNorm, Linear fc, Tensor imgs) {
        Var tokens = enc.forwardFeatures(Var.constant(imgs));                          // (N, 1 + L, D)
        Var pooled = F.mean(F.narrow(tokens, 1, 1, enc.numPatches()), new int[]{1}, false); // (N, D)
        return fc.forward(fcNorm.forward(pooled));
    }

    static double accuracy(VisionTransformer enc, LayerNorm fcNorm, Linear fc, Dataset test, Augment aug) {
        int correct = 0, B = 256;
        try (Grad.Scope g = Grad.off()) {
            for (int i = 0; i < test.n(); i += B) {
                int b = Math.min(B, test.n() - i);
                int[] idx = new int[b];
                for (int j = 0; j < b; j++) idx[j] = i + j;
                float[] x = new float[b * test.imageSize()];
                aug.evalBatch(test, idx, x);
                Tensor.MaxResult m = logits(enc, fcNorm, fc, Tensor.of(x, b, test.c(), test.h(), test.w())).value().max(1, false);
                for (int j = 0; j < b; j++) if (m.indices().data()[j] == test.labels()[i + j]) correct++;
            }
        }
        return (double) correct / test.n();
    }

    /**
     * Layer-wise lr decay (BEiT/MAE): layer 0 = patch embedding and cls token, i + 1 = blocks.i, depth + 1 =
     * the rest (norm, fc_norm, head); scale = decay^(depth + 1 - layer).
     */
    static Map<String, Float> layerScales(Map<String, Var> params, int depth, double decay) {
        Map<String, Float> m = new LinkedHashMap<>();
        for (String name : params.keySet()) {
            int layer = depth + 1;
            if (name.startsWith("cls_token") || name.startsWith("pos_embed") || name.startsWith("patch_embed")) layer = 0;
            else if (name.startsWith("blocks.")) layer = Integer.parseInt(name.split("\\.")[1]) + 1;
            m.put(name, (float) Math.pow(decay, depth + 1 - layer));
        }
        return m;
    }
}
