package mae.eval;

import mae.autograd.Grad;
import mae.autograd.Var;
import mae.data.Augment;
import mae.data.Dataset;
import mae.io.Progress;
import mae.tensor.Tensor;
import mae.vit.VisionTransformer;

/**
 * Frozen-encoder features of a dataset, (n, D), from all patches (no masking): the normalized cls token (the
 * paper's linear-probe feature) or the mean of the normalized patch tokens (the fine-tuning pool, and this
 * project's kNN feature: the cls token gets no direct signal from MAE's loss, the patch tokens do).
 */
public final class Features {
    private Features() {}

    public enum Kind {
        CLS, MEAN;

        public static Kind parse(String s) {
            switch (s.toLowerCase()) {
                case "cls": return CLS;
                case "mean": return MEAN;
                default: throw new IllegalArgumentException("--feature must be cls or mean, got '" + s + "'");
            }
        }
    }

    public static float[] cls(VisionTransformer enc, Dataset d, Augment eval, int batch) { return of(Kind.CLS, enc, d, eval, batch); }

    /** Largest activation of one batch, in floats (64 MB): caps the batch of large models (ViT-L at 224 px: 20 images). */
    static final long MAX_ACTIVATION_FLOATS = 16L << 20;

    /** The batch actually used: {@code batch}, or fewer images when one batch's largest activation would pass the cap. */
    public static int batchFor(VisionTransformer enc, int batch) {
        long tokens = 1 + enc.numPatches();
        long perImage = tokens * Math.max((long) (enc.dim * enc.mlpRatio), (long) enc.heads * tokens); // MLP hidden or attention scores
        return (int) Math.max(1, Math.min(batch, MAX_ACTIVATION_FLOATS / perImage));
    }

    public static float[] of(Kind kind, VisionTransformer enc, Dataset d, Augment eval, int batch) {
        return of(kind, enc, d, eval, batch, "features");
    }

    /** As above, with progress (a bar on a terminal, a few lines otherwise) under the name {@code task}. */
    public static float[] of(Kind kind, VisionTransformer enc, Dataset d, Augment eval, int batch, String task) {
        batch = batchFor(enc, batch);
        int D = enc.dim, n = d.n(), size = d.imageSize();
        float[] out = new float[n * D];
        float[] buf = new float[batch * size];
        try (Grad.Scope s = Grad.off(); Progress progress = Progress.start(task, n, "images")) {
            for (int i = 0; i < n; i += batch) {
                int b = Math.min(batch, n - i);
                int[] idx = new int[b];
                for (int j = 0; j < b; j++) idx[j] = i + j;
                float[] x = b == batch ? buf : new float[b * size];
                eval.evalBatch(d, idx, x);
                Var imgs = Var.constant(Tensor.of(x, b, d.c(), d.h(), d.w()));
                Var f = kind == Kind.CLS ? enc.clsFeature(imgs) : enc.meanFeature(imgs);
                System.arraycopy(f.value().toArray(), 0, out, i * D, b * D);
                progress.step(i + b);
            }
        }
        return out;
    }
}
