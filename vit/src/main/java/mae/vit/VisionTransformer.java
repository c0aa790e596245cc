package mae.vit;

import mae.autograd.F;
import mae.autograd.Trace;
import mae.autograd.Var;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.vit.Layers.Block;
import mae.vit.Layers.LayerNorm;
import mae.vit.Layers.PatchEmbed;

import java.util.ArrayList;
import java.util.List;

/**
 * The ViT encoder on its own (for probing and fine-tuning): patch embedding, + fixed sin-cos position
 * embedding, cls token in front, blocks, final norm. Names match MAE's encoder, so an encoder-only MAE
 * checkpoint loads into it. The global-pool variant is the layout of the official fine-tuned classifiers
 * (models_vit.py with global_pool): no norm after the blocks, and {@code fc_norm} after the mean over the patch tokens.
 */
public class VisionTransformer {
    public final int imgSize, patch, inChans, dim, depth, heads;
    public final float mlpRatio;
    public final Params params;
    public final PatchEmbed patchEmbed;
    public final Var clsToken, posEmbed;
    public final List<Block> blocks = new ArrayList<>();
    /** The final norm; null in the global-pool variant. */
    public final LayerNorm norm;
    /** The norm after the mean pool of the global-pool variant; null otherwise. */
    public final LayerNorm fcNorm;

    /** A ViT with the paper's initialization; with a null rng, one to be loaded (see {@link Params#placeholder}). */
    public VisionTransformer(Params ps, int imgSize, int patch, int inChans, int dim, int depth, int heads, float mlpRatio, Rng rng) {
        this(ps, imgSize, patch, inChans, dim, depth, heads, mlpRatio, rng, false);
    }

    /** globalPool: the fine-tuned classifiers' layout, fc_norm after the mean pool instead of norm after the blocks. */
    public VisionTransformer(Params ps, int imgSize, int patch, int inChans, int dim, int depth, int heads, float mlpRatio, Rng rng, boolean globalPool) {
        if (imgSize % patch != 0) throw new IllegalArgumentException("image size " + imgSize + " is not divisible by patch size " + patch);
        this.imgSize = imgSize; this.patch = patch; this.inChans = inChans; this.dim = dim; this.depth = depth; this.heads = heads;
        this.mlpRatio = mlpRatio;
        this.params = ps;
        int g = imgSize / patch;
        clsToken = ps.add("cls_token", Params.normal(rng, 0.02f, 1, 1, dim));
        posEmbed = ps.addFrozen("pos_embed", PosEmbed.sincos2d(dim, g, true));
        patchEmbed = new PatchEmbed(ps, "patch_embed", inChans, patch, dim, rng);
        for (int i = 0; i < depth; i++) blocks.add(new Block(ps, "blocks." + i, dim, heads, mlpRatio, rng));
        norm = globalPool ? null : new LayerNorm(ps, "norm", dim);
        fcNorm = globalPool ? new LayerNorm(ps, "fc_norm", dim) : null;
    }

    /** Whether this is the global-pool variant (fc_norm after the mean pool, no final norm). */
    public boolean globalPool() { return fcNorm != null; }

    /** Patches in grid order: L = (img/patch)^2. */
    public int numPatches() { return (imgSize / patch) * (imgSize / patch); }

    /** Patch embedding plus position: (N, C, H, W) -> (N, L, D). */
    public Var embed(Var imgs) {
        Trace.stage("patch embedding", "each p x p patch becomes a D-wide token (a conv with kernel = stride = p)");
        Var x = patchEmbed.forward(imgs);                                   // (N, L, D)
        Trace.stage("+ position embedding", "add the fixed 2D sin-cos embedding of each patch's grid cell");
        return F.add(x, F.narrow(posEmbed, 1, 1, numPatches()));           // (N, L, D)
    }

    /** Prepends cls_token + pos_embed[:, :1]: (N, T, D) -> (N, 1 + T, D). */
    public Var prependCls(Var x) {
        int N = x.size(0);
        Trace.stage("+ cls", "prepend the learned cls token (its position row is zeros)");
        Var cls = F.add(clsToken, F.narrow(posEmbed, 1, 0, 1));
        return F.concat(1, F.expand(cls, N, 1, dim), x);
    }

    /** Blocks, then norm (none in the global-pool variant): (N, T, D) -> (N, T, D). */
    public Var transform(Var x) {
        for (int i = 0; i < blocks.size(); i++) {
            Trace.stage("encoder block", i, "attention among the tokens, then the MLP, each with a residual");
            x = blocks.get(i).forward(x);
        }
        if (norm == null) return x;
        Trace.stage("encoder norm", "final LayerNorm: the latent");
        return norm.forward(x);
    }

    /** All tokens: (N, C, H, W) -> (N, 1 + L, D). */
    public Var forwardFeatures(Var imgs) { return transform(prependCls(embed(imgs))); }

    /** The normalized cls token, the linear probe's feature: (N, D). */
    public Var clsFeature(Var imgs) {
        return F.squeeze(F.narrow(forwardFeatures(imgs), 1, 0, 1), 1);
    }

    /** The mean of the patch tokens (cls excluded), then fc_norm in the global-pool variant: (N, D). */
    public Var meanFeature(Var imgs) {
        Var mean = F.mean(F.narrow(forwardFeatures(imgs), 1, 1, numPatches()), new int[]{1}, false);
        return fcNorm == null ? mean : fcNorm.forward(mean);
    }

    /** Input check shared by the model entry points: names the tensor and both shapes. */
    public void checkImages(Tensor imgs, String name) {
        int[] s = imgs.shape();
        if (s.length != 4 || s[1] != inChans || s[2] != imgSize || s[3] != imgSize)
            throw new IllegalArgumentException(name + ": expected shape [N," + inChans + "," + imgSize + "," + imgSize + "], got " + mae.tensor.Shapes.str(s));
    }
}
