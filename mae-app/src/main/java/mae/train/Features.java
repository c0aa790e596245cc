package mae.train;

import mae.autograd.Grad;
import mae.autograd.Var;
import mae.data.Augment;
import mae.data.Dataset;
import mae.tensor.Tensor;
import mae.vit.VisionTransformer;

/** Frozen-encoder features of a dataset: the normalized cls token of all patches, (n, D). */
public final class Features {
    private Features() {}

    public static float[] cls(VisionTransformer enc, Dataset d, Augment eval, int batch) {
        int D = enc.dim, n = d.n(), size = d.imageSize();
        float[] out = new float[n * D];
        float[] buf = new float[batch * size];
        try (Grad.Scope s = Grad.off()) {
            for (int i = 0; i < n; i += batch) {
                int b = Math.min(batch, n - i);
                int[] idx = new int[b];
                for (int j = 0; j < b; j++) idx[j] = i + j;
                float[] x = b == batch ? buf : new float[b * size];
                eval.evalBatch(d, idx, x);
                Var f = enc.clsFeature(Var.constant(Tensor.of(x, b, d.c(), d.h(), d.w())));
                System.arraycopy(f.value().toArray(), 0, out, i * D, b * D);
            }
        }
        return out;
    }
}
