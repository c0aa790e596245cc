package mae.model;

import mae.autograd.Grad;
import mae.data.Normalization;
import mae.tensor.Tensor;
import mae.viz.ImageGrid;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The paper's Figure 2 for a batch of images: original | masked | reconstruction | reconstruction with the
 * visible patches pasted back. Norm-pix predictions are de-normalized with each patch's own mean and
 * variance; everything is mapped back to [0, 1] pixels with the dataset normalization. Removed patches are NaN
 * in the masked picture, which {@link ImageGrid} draws as a hatch. The reconstruction column is the decoder's
 * output for every patch; the loss covers only the removed ones, so its visible patches are untrained (its
 * title says so), and the last column pastes the visible patches back, as the paper's figures do.
 */
public final class Reconstruction {
    private Reconstruction() {}

    /** Pixels (N, C, H, W) in [0, 1] for the four columns. */
    public record Pictures(Tensor original, Tensor masked, Tensor reconstruction, Tensor pasted, float loss) {}

    /** imgs are normalized model inputs (N, C, H, W); noise (N, L). */
    public static Pictures of(MaeModel model, Tensor imgs, Tensor noise, double maskRatio, Normalization norm) {
        MaeModel.Output o;
        try (Grad.Scope s = Grad.off()) { o = model.forward(imgs, noise, maskRatio); }
        int p = model.cfg.patchSize(), C = model.cfg.inChans();
        Tensor target = MaeModel.patchify(imgs, p);                           // (N, L, P)
        Tensor pred = o.pred().value();
        if (model.cfg.normPixLoss()) {                                        // undo the per-patch normalization
            Tensor mean = target.mean(new int[]{-1}, true), var = target.var(new int[]{-1}, true, true);
            pred = pred.mul(var.add(1e-6f).sqrt()).add(mean);
        }
        Tensor removed = o.mask().unsqueeze(-1);                              // (N, L, 1), 1 = removed
        Tensor kept = removed.neg().add(1f);
        Tensor masked = target.mul(kept);                                     // removed patches: NaN below
        Tensor pasted = target.mul(kept).add(pred.mul(removed));
        return new Pictures(pixels(imgs, norm), removedAsNaN(pixels(MaeModel.unpatchify(masked, p, C), norm), o.mask(), p),
                pixels(MaeModel.unpatchify(pred, p, C), norm), pixels(MaeModel.unpatchify(pasted, p, C), norm),
                o.loss().value().item());
    }

    /** Pixels (N, C, H, W) with the patches the mask (N, L) removes set to NaN. */
    static Tensor removedAsNaN(Tensor px, Tensor mask, int p) {
        int N = px.size(0), C = px.size(1), H = px.size(2), W = px.size(3), g = W / p;
        float[] v = px.toArray(), m = mask.toArray();
        int L = m.length / N;
        for (int n = 0; n < N; n++)
            for (int l = 0; l < L; l++) {
                if (m[n * L + l] < 0.5f) continue;
                int r0 = (l / g) * p, c0 = (l % g) * p;
                for (int c = 0; c < C; c++)
                    for (int y = r0; y < r0 + p; y++)
                        java.util.Arrays.fill(v, ((n * C + c) * H + y) * W + c0, ((n * C + c) * H + y) * W + c0 + p, Float.NaN);
            }
        return Tensor.of(v, px.shape());
    }

    /**
     * The caption under a grid: what made it, the masking and the loss, e.g. "fmnist after step 1,400 of 1,400
     * (batch 64); mask ratio 0.75, random masking; loss 0.6123 on the removed patches (norm-pix targets)".
     */
    public static String caption(String what, double maskRatio, String masking, float loss, boolean normPix) {
        return String.format(java.util.Locale.ROOT, "%s; mask ratio %s, %s masking; loss %.4f on the removed patches%s.", what,
                new java.math.BigDecimal(Double.toString(maskRatio)).stripTrailingZeros().toPlainString(), masking, loss,
                normPix ? " (norm-pix targets: each patch normalized by its own mean and variance)" : " (raw pixel targets)");
    }

    /** The column titles of {@link #write}. */
    public static final String[] TITLES = {"original", "masked\n(hatched:\nremoved)", "reconstruction\n(visible patches\nuntrained)", "reconstruction\n+ visible\npasted back"};

    /** Normalized (N, C, H, W) back to [0, 1] pixels. */
    public static Tensor pixels(Tensor x, Normalization norm) {
        int C = x.size(1);
        Tensor mean = Tensor.of(norm.mean().clone(), 1, C, 1, 1), std = Tensor.of(norm.std().clone(), 1, C, 1, 1);
        float[] v = x.mul(std).add(mean).toArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.max(0, Math.min(1, v[i]));
        return Tensor.of(v, x.shape());
    }

    /** One row per image, the four columns, scaled up for small images; no caption. */
    public static void write(Path png, Pictures p) throws IOException { write(png, p, null); }

    /**
     * As {@link #write(Path, Pictures)} with a caption below the grid, e.g. "step 1400, mask ratio 0.75 (random), loss 0.6123".
     */
    public static void write(Path png, Pictures p, String caption) throws IOException {
        int N = p.original().size(0), C = p.original().size(1), H = p.original().size(2), W = p.original().size(3);
        int scale = Math.max(1, 112 / Math.max(H, W));
        ImageGrid g = new ImageGrid(N, 4, C, H, W, scale).border(2).titles(TITLES).caption(caption);
        Tensor[] cols = {p.original(), p.masked(), p.reconstruction(), p.pasted()};
        for (int c = 0; c < 4; c++) {
            float[] v = cols[c].toArray();
            for (int i = 0; i < N; i++) g.set(i, c, v, i * C * H * W);
        }
        g.write(png);
    }
}
