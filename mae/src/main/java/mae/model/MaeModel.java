package mae.model;

import mae.autograd.F;
import mae.autograd.Profile;
import mae.autograd.Trace;
import mae.autograd.Var;
import mae.tensor.Device;
import mae.tensor.Index;
import mae.tensor.Rng;
import mae.tensor.Shapes;
import mae.tensor.Tensor;
import mae.kernels.Workspace;
import mae.vit.Layers.Block;
import mae.vit.Layers.LayerNorm;
import mae.vit.Layers.Linear;
import mae.vit.Params;
import mae.vit.PosEmbed;
import mae.vit.VisionTransformer;

import java.util.ArrayList;
import java.util.List;

/**
 * The Masked Autoencoder (He et al. 2021): an asymmetric encoder that sees only the visible patches and a
 * light decoder that reconstructs the removed ones. Shapes: N images, C channels, L patches, D encoder
 * width, Dd decoder width, P = p*p*C values per patch.
 */
public final class MaeModel {
    public final MaeConfig cfg;
    public final Params params = new Params();

    // ---------------------------------------------------------------- encoder
    public final VisionTransformer encoder;

    // ---------------------------------------------------------------- decoder
    public final Linear decoderEmbed;
    public final Var maskToken, decoderPosEmbed;
    public final List<Block> decoderBlocks = new ArrayList<>();
    public final LayerNorm decoderNorm;
    public final Linear decoderPred;

    /** A model with the paper's initialization, drawn from a seeded generator. */
    public MaeModel(MaeConfig cfg, long seed) {
        this(cfg, new Rng(seed), false);
    }

    /**
     * A model whose weights a checkpoint is about to set: nothing is drawn, and the large weights are placeholders
     * (see {@link Params#placeholder}) until {@link Weights#assign} replaces every one. globalPoolEncoder: the
     * encoder of an official fine-tuned classifier (fc_norm after the mean pool, no final norm).
     */
    public static MaeModel forLoading(MaeConfig cfg, boolean globalPoolEncoder) {
        return new MaeModel(cfg, null, globalPoolEncoder);
    }

    private MaeModel(MaeConfig cfg, Rng rng, boolean globalPoolEncoder) {
        cfg.requireHeap(true, 1, "model");                    // one line instead of an OutOfMemoryError
        this.cfg = cfg;
        encoder = new VisionTransformer(params, cfg.imgSize(), cfg.patchSize(), cfg.inChans(), cfg.embedDim(), cfg.depth(), cfg.numHeads(),
                cfg.mlpRatio(), rng, globalPoolEncoder);
        int Dd = cfg.decoderEmbedDim();
        decoderEmbed = new Linear(params, "decoder_embed", cfg.embedDim(), Dd, rng);
        maskToken = params.add("mask_token", Params.normal(rng, 0.02f, 1, 1, Dd));
        decoderPosEmbed = params.addFrozen("decoder_pos_embed", PosEmbed.sincos2d(Dd, cfg.grid(), true));
        for (int i = 0; i < cfg.decoderDepth(); i++)
            decoderBlocks.add(new Block(params, "decoder_blocks." + i, Dd, cfg.decoderNumHeads(), cfg.mlpRatio(), rng));
        decoderNorm = new LayerNorm(params, "decoder_norm", Dd);
        decoderPred = new Linear(params, "decoder_pred", Dd, cfg.patchDim(), rng);
    }

    /** Moves the parameters to a device (the optimizer's moments follow them when it is made). */
    public MaeModel to(Device device) {
        params.to(device);
        return this;
    }

    /** Where the parameters are. */
    public Device device() { return maskToken.value().device(); }

    /** What one forward pass produces. */
    public record Output(Var loss, Var pred, Tensor mask, Var latent, Index idsRestore, int lenKeep) {}

    /**
     * loss, pred, mask, latent for images (N, C, H, W), noise (N, L) and a mask ratio in [0, 1). The images are on
     * the model's device; the noise may be on the CPU (the masking is computed there and the mask uploaded).
     */
    public Output forward(Tensor imgs, Tensor noise, double maskRatio) {
        if (imgs.dim() > 0 && imgs.size(0) == 0) throw new IllegalArgumentException("imgs: no images (N = 0): the loss of none is undefined");
        Masking m = randomMasking(noise, maskRatio).to(imgs.device());
        Var latent = forwardEncoder(Var.constant(imgs), m);   // (N, 1 + keep, D)
        Var pred = forwardDecoder(latent, m.idsRestore);      // (N, L, P)
        Var loss = forwardLoss(imgs, pred, m.mask, m.removed()); // ()
        return new Output(loss, pred, m.mask, latent, m.idsRestore, m.lenKeep);
    }

    // ---------------------------------------------------------------- patches

    /** (N, C, H, W) -> (N, L, p*p*C): patch index row*g + col; inside, pixel row, pixel col, channel fastest. */
    public static Tensor patchify(Tensor imgs, int p) {
        int[] s = imgs.shape();
        int N = s[0], C = s[1], g = s[2] / p;
        if (s[2] != s[3] || s[2] % p != 0)
            throw new IllegalArgumentException("patchify: image " + Shapes.str(s) + " is not square with sides divisible by " + p);
        return imgs.reshape(N, C, g, p, g, p).permute(0, 2, 4, 3, 5, 1).reshape(N, g * g, p * p * C);
    }

    /** The inverse of patchify: (N, L, p*p*C) -> (N, C, H, W). */
    public static Tensor unpatchify(Tensor x, int p, int C) {
        int N = x.size(0), L = x.size(1), g = (int) Math.round(Math.sqrt(L));
        if (g * g != L || x.size(2) != p * p * C)
            throw new IllegalArgumentException("unpatchify: " + Shapes.str(x.shape()) + " is not (N, g*g, " + p + "*" + p + "*" + C + ")");
        return x.reshape(N, g, g, p, p, C).permute(0, 5, 1, 3, 2, 4).reshape(N, C, g * p, g * p);
    }

    // ---------------------------------------------------------------- masking

    /** ids_keep (N, keep), ids_restore (N, L), mask (N, L) with 1 = removed, in original patch order. */
    public record Masking(Index idsKeep, Index idsRestore, Tensor mask, int lenKeep) {
        /** The same masking with its mask on a device (the indices stay on the host: gather uploads them). */
        public Masking to(Device device) { return new Masking(idsKeep, idsRestore, mask.to(device), lenKeep); }

        /**
         * The number of removed patches, the mask's sum: N x (L - keep), since every image keeps exactly lenKeep
         * patches whatever the noise (random, block or grid masking only shape the noise that is sorted). Known on
         * the host, so the loss needs no read of the mask back from the device.
         */
        public long removed() { return (long) mask.size(0) * (mask.size(1) - lenKeep); }
    }

    /**
     * Per sample: small noise is kept. ids_shuffle = argsort(noise); ids_restore = argsort(ids_shuffle). Computed
     * on the host (a CUDA noise is downloaded); the mask is a CPU tensor.
     */
    public Masking randomMasking(Tensor noise, double maskRatio) {
        int L = cfg.numPatches();
        if (noise.dim() != 2 || noise.size(1) != L)
            throw new IllegalArgumentException("noise: expected shape [N," + L + "], got " + Shapes.str(noise.shape()));
        if (!(maskRatio >= 0 && maskRatio < 1))
            throw new IllegalArgumentException("mask ratio " + maskRatio + " is outside [0, 1)");
        int N = noise.size(0), keep = cfg.lenKeep(maskRatio);
        if (keep < 1) throw new IllegalArgumentException("mask ratio " + maskRatio + " keeps no patch of " + L);
        Index idsShuffle = noise.argsort(1);
        Index idsRestore = idsShuffle.argsort();
        float[] mask = Workspace.floats(N * L);
        int[] restore = idsRestore.data();
        for (int i = 0; i < mask.length; i++) mask[i] = restore[i] >= keep ? 1 : 0; // rank >= keep: removed
        return new Masking(idsShuffle.narrowLast(0, keep), idsRestore, Tensor.of(mask, N, L), keep);
    }

    // ---------------------------------------------------------------- encoder

    /** (N, C, H, W) -> latent (N, 1 + keep, D): embed all patches, keep the visible ones, prepend cls, blocks. */
    public Var forwardEncoder(Var imgs, Masking m) {
        encoder.checkImages(imgs.value(), "imgs");
        Var x = encoder.embed(imgs);                                        // (N, L, D)
        int N = x.size(0);
        Trace.stage("masking", "keep the visible patches (gather by ids_keep); the encoder never sees the others");
        Var visible = F.gather(x, 1, rows(m.idsKeep, N, m.lenKeep));        // (N, keep, D)
        return encoder.transform(encoder.prependCls(visible));             // (N, 1 + keep, D)
    }

    /** An (N, J) index as (N, J, 1), broadcast over the feature dim by gather. */
    private static Index rows(Index ids, int N, int J) { return new Index(ids.data(), N, J, 1); }

    // ---------------------------------------------------------------- decoder

    /** latent (N, 1 + keep, D) -> pred (N, L, P). */
    public Var forwardDecoder(Var latent, Index idsRestore) {
        Trace.stage("decoder embedding", "linear D -> Dd on every encoded token, cls included");
        Var x = decoderEmbed.forward(latent);                               // (N, 1 + keep, Dd)
        int N = x.size(0), T = x.size(1), L = cfg.numPatches(), Dd = cfg.decoderEmbedDim();
        Trace.stage("mask tokens", "append one shared learned mask token per removed patch");
        Var maskTokens = F.expand(maskToken, N, L + 1 - T, Dd);            // (N, L - keep, Dd)
        Var patches = F.concat(1, F.narrow(x, 1, 1, T - 1), maskTokens);    // (N, L, Dd), shuffled order
        Trace.stage("unshuffle", "put every token back at its patch's place (gather by ids_restore), cls in front");
        patches = F.gather(patches, 1, rows(idsRestore, N, L));             // unshuffle
        x = F.concat(1, F.narrow(x, 1, 0, 1), patches);                     // (N, 1 + L, Dd)
        Trace.stage("+ decoder position embedding", "add the decoder's fixed sin-cos embedding to all 1 + L tokens");
        x = F.add(x, decoderPosEmbed);
        for (int i = 0; i < decoderBlocks.size(); i++) {
            Trace.stage("decoder block", i, "attention over visible and mask tokens together, then the MLP");
            x = decoderBlocks.get(i).forward(x);
        }
        Trace.stage("prediction", "decoder norm, linear Dd -> p*p*C pixel values per patch, drop cls");
        x = decoderPred.forward(decoderNorm.forward(x));                    // (N, 1 + L, P)
        return F.narrow(x, 1, 1, L);                                        // drop cls
    }

    // ---------------------------------------------------------------- loss

    /**
     * Mean squared error on removed patches only; with norm_pix, per-patch normalized targets. removed is the
     * mask's sum (see {@link Masking#removed}), a host number: the mean divides by it instead of reading the
     * mask's sum back from the device.
     */
    public Var forwardLoss(Tensor imgs, Var pred, Tensor mask, long removed) {
        Trace.stage("per-patch loss", "mean squared error of each patch's prediction against its target");
        Tensor target = Profile.section("loss target", () -> target(imgs)); // (N, L, P), made outside the tape
        Var perPatch = F.mseRows(pred, Var.constant(target));               // (N, L)
        Trace.stage("loss", "mean of the per-patch losses over the removed patches only");
        // Mask ratio 0 (nothing removed; used to time the full encoder) would give the reference's 0/0:
        // the loss then covers every patch instead.
        if (removed == 0) return F.mean(perPatch);
        return maskedMean(perPatch, mask, removed);                         // ()
    }

    /** {@link #forwardLoss(Tensor, Var, Tensor, long)} with the removed count summed from the mask (a device read on a GPU). */
    public Var forwardLoss(Tensor imgs, Var pred, Tensor mask) {
        return forwardLoss(imgs, pred, mask, (long) mask.sum().item());
    }

    /**
     * sum(x * mask) / count, the mean of x where mask is 1, with count given (mask is not differentiated). The
     * same float operations as F.maskedMean in both directions (forward: x * mask, sum, / count; backward:
     * (g / count) * mask), so the same bits on the CPU, without F.maskedMean's read of sum(mask) from the device
     * and its backward's read of g.
     */
    static Var maskedMean(Var x, Tensor mask, long count) {
        if (!java.util.Arrays.equals(x.shape(), mask.shape()))
            throw new IllegalArgumentException("maskedMean: values " + Shapes.str(x.shape()) + " and mask " + Shapes.str(mask.shape()) + " differ");
        if (count <= 0) throw new IllegalArgumentException("maskedMean: mask " + Shapes.str(mask.shape()) + " selects nothing");
        Var sum = F.sum(F.mul(x, Var.constant(mask)));                       // ()
        return F.div(sum, Var.constant(Tensor.full(sum.value().device(), (float) count)));
    }

    /** patchify(imgs), normalized per patch when norm_pix: (t - mean) / sqrt(var_unbiased + 1e-6). */
    public Tensor target(Tensor imgs) {
        Tensor t = patchify(imgs, cfg.patchSize());
        if (!cfg.normPixLoss()) return t;
        Tensor mean = t.mean(new int[]{-1}, true), var = t.var(new int[]{-1}, true, true);
        return t.sub(mean).div(var.add(1e-6f).sqrt());
    }
}
