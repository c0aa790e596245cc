package mae.eval;

import mae.autograd.F;
import mae.autograd.Grad;
import mae.autograd.Trace;
import mae.autograd.Var;
import mae.data.Augment;
import mae.data.Dataset;
import mae.kernels.Workspace;
import mae.optim.AdamW;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.vit.Layers.Block;
import mae.vit.Layers.LayerNorm;
import mae.vit.Layers.Linear;
import mae.vit.Params;
import mae.vit.VisionTransformer;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * End-to-end fine-tuning as in the paper (scaled down): the whole encoder plus a head on mean-pooled patch
 * tokens (fc_norm LayerNorm, then a linear layer with the paper's std 2e-5 init), AdamW (0.9, 0.999), weight
 * decay except on biases and 1-D parameters, layer-wise lr decay, per-step warmup then cosine, label smoothing,
 * and, as knobs of {@link Settings}: RandomResizedCrop (minimum scale) + flip, stochastic depth (drop path,
 * rising linearly over the blocks as in timm) and mixup. Each step runs in a {@link Workspace}, as pretraining does.
 */
public final class Finetune {
    private Finetune() {}

    /**
     * A fine-tuning recipe. epochs may be fractional (the step count is epochs x steps per epoch, rounded); lr =
     * blr x batch / 256; layerDecay 1 = none (the right choice for a random-init encoder, which has no pretrained
     * layers to protect); minScale is RandomResizedCrop's lower area bound (1 = no crop); dropPath the last
     * block's drop probability; mixup the Beta(a, a) parameter (0 = off).
     */
    public record Settings(double epochs, int batch, double blr, double layerDecay, float smoothing, double warmupEpochs, long seed,
                           double minScale, boolean flip, double dropPath, double mixup, double weightDecay, double minLr, int accum, int translate) {
        public Settings {
            if (!(epochs > 0)) throw new IllegalArgumentException("fine-tune epochs must be positive, got " + epochs);
            if (batch < 1) throw new IllegalArgumentException("fine-tune batch must be at least 1, got " + batch);
            if (!(blr > 0)) throw new IllegalArgumentException("fine-tune blr must be positive, got " + blr);
            if (!(layerDecay > 0 && layerDecay <= 1)) throw new IllegalArgumentException("layer decay must lie in (0, 1], got " + layerDecay);
            if (!(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("label smoothing must lie in [0, 1), got " + smoothing);
            if (!(warmupEpochs >= 0)) throw new IllegalArgumentException("warmup epochs must not be negative, got " + warmupEpochs);
            if (!(minScale > 0 && minScale <= 1)) throw new IllegalArgumentException("crop minimum scale must lie in (0, 1], got " + minScale);
            if (!(dropPath >= 0 && dropPath < 1)) throw new IllegalArgumentException("drop path must lie in [0, 1), got " + dropPath);
            if (!(mixup >= 0)) throw new IllegalArgumentException("mixup must not be negative, got " + mixup);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must not be negative, got " + weightDecay);
            if (!(minLr >= 0)) throw new IllegalArgumentException("fine-tune min lr must not be negative, got " + minLr);
            if (accum < 1) throw new IllegalArgumentException("fine-tune accum must be at least 1, got " + accum);
            if (translate < 0 || translate > MAX_TRANSLATE) throw new IllegalArgumentException("fine-tune translate must be 0.." + MAX_TRANSLATE + " pixels, got " + translate);
        }

        /** Without a floor on the cosine and without gradient accumulation (min lr 0, accum 1). */
        public Settings(double epochs, int batch, double blr, double layerDecay, float smoothing, double warmupEpochs, long seed,
                        double minScale, boolean flip, double dropPath, double mixup, double weightDecay) {
            this(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, seed, minScale, flip, dropPath, mixup, weightDecay, 0, 1, 0);
        }

        /** The recipe before issue 16 (crops 0.2-1 + flip, no drop path, no mixup, weight decay 0.05). */
        public Settings(int epochs, int batch, double blr, double layerDecay, float smoothing, double warmupEpochs, long seed) {
            this(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, seed, 0.2, true, 0, 0, 0.05);
        }

        /** This project's default recipe for a pretrained encoder (see the RECIPE_ constants). */
        public static Settings pretrained() {
            return new Settings(RECIPE_EPOCHS, RECIPE_BATCH, RECIPE_BLR, RECIPE_LAYER_DECAY, RECIPE_SMOOTHING, RECIPE_WARMUP_EPOCHS, 0,
                    RECIPE_MIN_SCALE, RECIPE_FLIP, RECIPE_DROP_PATH, RECIPE_MIXUP, RECIPE_WEIGHT_DECAY, 0, 1, RECIPE_TRANSLATE);
        }

        /**
         * This recipe for a random-init encoder (the from-scratch baseline): the same schedule and augmentation, no
         * layer decay (nothing pretrained to protect) and its own base lr (measured: from scratch wants a lower one).
         */
        public Settings forScratch(double scratchBlr) { return withLayerDecay(1.0).withBlr(scratchBlr); }

        public Settings withEpochs(double e) { return new Settings(e, batch, blr, layerDecay, smoothing, warmupEpochs, seed, minScale, flip, dropPath, mixup, weightDecay, minLr, accum, translate); }
        public Settings withBatch(int b) { return new Settings(epochs, b, blr, layerDecay, smoothing, warmupEpochs, seed, minScale, flip, dropPath, mixup, weightDecay, minLr, accum, translate); }
        public Settings withBlr(double v) { return new Settings(epochs, batch, v, layerDecay, smoothing, warmupEpochs, seed, minScale, flip, dropPath, mixup, weightDecay, minLr, accum, translate); }
        public Settings withLayerDecay(double v) { return new Settings(epochs, batch, blr, v, smoothing, warmupEpochs, seed, minScale, flip, dropPath, mixup, weightDecay, minLr, accum, translate); }
        public Settings withSmoothing(float v) { return new Settings(epochs, batch, blr, layerDecay, v, warmupEpochs, seed, minScale, flip, dropPath, mixup, weightDecay, minLr, accum, translate); }
        public Settings withWarmupEpochs(double v) { return new Settings(epochs, batch, blr, layerDecay, smoothing, v, seed, minScale, flip, dropPath, mixup, weightDecay, minLr, accum, translate); }
        public Settings withSeed(long v) { return new Settings(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, v, minScale, flip, dropPath, mixup, weightDecay, minLr, accum, translate); }
        public Settings withMinScale(double v) { return new Settings(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, seed, v, flip, dropPath, mixup, weightDecay, minLr, accum, translate); }
        public Settings withFlip(boolean v) { return new Settings(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, seed, minScale, v, dropPath, mixup, weightDecay, minLr, accum, translate); }
        public Settings withDropPath(double v) { return new Settings(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, seed, minScale, flip, v, mixup, weightDecay, minLr, accum, translate); }
        public Settings withMixup(double v) { return new Settings(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, seed, minScale, flip, dropPath, v, weightDecay, minLr, accum, translate); }
        public Settings withMinLr(double v) { return new Settings(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, seed, minScale, flip, dropPath, mixup, weightDecay, v, accum, translate); }
        public Settings withAccum(int v) { return new Settings(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, seed, minScale, flip, dropPath, mixup, weightDecay, minLr, v, translate); }
        public Settings withWeightDecay(double v) { return new Settings(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, seed, minScale, flip, dropPath, mixup, v, minLr, accum, translate); }
        public Settings withTranslate(int v) { return new Settings(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, seed, minScale, flip, dropPath, mixup, weightDecay, minLr, accum, v); }

        /** Optimizer steps on n training images; each takes accum micro-batches of batch images. */
        public int steps(int n) { return Math.max(1, (int) Math.round(epochs * stepsPerEpoch(n))); }
        public int stepsPerEpoch(int n) { return Math.max(1, n / (batch * accum)); }
        /** The peak lr: blr x effective batch / 256, the effective batch being batch x accum (as main_finetune.py). */
        public double lr() { return blr * batch * accum / 256; }

        /** One line for logs and result files. */
        public String describe() {
            String aug = (minScale < 1 ? "crops of scale " + num(minScale) + "-1" : "no crops") + (flip ? " + flips" : ", no flips")
                    + (translate > 0 ? ", shifts of up to " + translate + " px" : "");
            return String.format(Locale.ROOT, "%s epochs of batch %d%s, blr %s (lr %.3g, cosine to %s), layer decay %s, warmup %s epochs, label smoothing %s, %s, drop path %s, mixup %s, weight decay %s",
                    num(epochs), batch, accum > 1 ? " x " + accum + " accumulated" : "", num(blr), lr(), num(minLr), num(layerDecay), num(warmupEpochs), num(smoothing), aug,
                    num(dropPath), mixup > 0 ? num(mixup) : "off", num(weightDecay));
        }

        /** The settings as a JSON object's entries. */
        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epochs", epochs); m.put("batch", batch); m.put("blr", blr); m.put("layer_decay", layerDecay);
            m.put("smoothing", (double) smoothing); m.put("warmup_epochs", warmupEpochs); m.put("seed", seed);
            m.put("min_scale", minScale); m.put("flip", flip); m.put("drop_path", dropPath); m.put("mixup", mixup);
            m.put("weight_decay", weightDecay); m.put("min_lr", minLr); m.put("accum", accum); m.put("translate", translate);
            return m;
        }
    }

    /**
     * The default recipe ({@link Settings#pretrained()}), measured on the embedded data after the default pretraining
     * (README, "Fine-tuning recipe"): at this scale the paper's ImageNet augmentation hurts (RandomResizedCrop even at
     * scale 0.8-1 distorts 28-pixel garments that are centred and size-normalized, and flips make shoes that all face
     * one way face both), so neither is on; drop path and mixup regularize long schedules and cost accuracy in short
     * ones; the steps are what matters: 5 epochs of batch 64 at lr 1e-3. Constants so the command line can show them.
     */
    public static final double RECIPE_EPOCHS = 5, RECIPE_BLR = 4e-3, RECIPE_LAYER_DECAY = 0.75, RECIPE_WARMUP_EPOCHS = 0.5,
            RECIPE_MIN_SCALE = 1, RECIPE_DROP_PATH = 0, RECIPE_MIXUP = 0, RECIPE_WEIGHT_DECAY = 0.05;
    public static final int RECIPE_BATCH = 64;
    public static final boolean RECIPE_FLIP = false;
    /** The from-scratch baseline's base lr (lr 5e-4 at batch 64): it trains best at half the pretrained encoder's lr. */
    public static final double RECIPE_SCRATCH_BLR = 2e-3;
    public static final float RECIPE_SMOOTHING = 0.1f;
    /** Random shifts off by default: the 5-epoch recipe is too short for augmentation to pay (see above). */
    public static final int RECIPE_TRANSLATE = 0;
    /** The largest shift accepted, in pixels (a shift of the whole image leaves nothing). */
    public static final int MAX_TRANSLATE = 64;

    /**
     * What a fine-tuning run reports: top-1 on the test images after the last step, the steps, the last training
     * loss, its time, and (when asked for) the top-1 after each whole epoch before the last, in order.
     */
    public record Result(double accuracy, int steps, long images, double finalLoss, double seconds, double[] epochAccuracy) {}

    public static double run(VisionTransformer enc, Dataset train, Dataset test, Augment aug, int classes, Settings s, PrintStream log) {
        return runDetailed(enc, train, test, aug, classes, s, log).accuracy();
    }

    public static Result runDetailed(VisionTransformer enc, Dataset train, Dataset test, Augment aug, int classes, Settings s, PrintStream log) {
        return runDetailed(enc, train, test, aug, classes, s, log, false);
    }

    /**
     * Fine-tunes enc (its weights change) with a new head on train and returns the top-1 accuracy on test. aug
     * gives the normalization and the evaluation transform; the training crops come from the settings. With
     * eachEpoch the test images are also scored after every whole epoch before the last (as main_finetune.py does),
     * for the curve only: the training never sees those scores.
     */
    public static Result runDetailed(VisionTransformer enc, Dataset train, Dataset test, Augment aug, int classes, Settings s, PrintStream log,
                                     boolean eachEpoch) {
        try {
            return runDetailed(enc, train, test, aug, classes, s, log, eachEpoch, null, null, null);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);                // no state folder: nothing is read or written
        }
    }

    /**
     * As above; with a state (not null) the loop saves itself there after every whole epoch as phase, and with
     * from (that phase's saved state, not null) it continues from it instead of starting.
     */
    public static Result runDetailed(VisionTransformer enc, Dataset train, Dataset test, Augment aug, int classes, Settings s, PrintStream log,
                                     boolean eachEpoch, FinetuneState state, String phase, FinetuneState.Saved from) throws IOException {
        if (train.n() < s.batch() * s.accum())
            throw new IllegalArgumentException("fine-tune batch " + s.batch() + " x accum " + s.accum() + " exceeds the " + train.n() + " training images");
        long t0 = System.nanoTime();
        Head head = new Head(enc, classes, new Rng(s.seed()));
        double[] curve = new double[eachEpoch ? (s.steps(train.n()) - 1) / s.stepsPerEpoch(train.n()) : 0];  // whole epochs before the last step
        if (from != null) System.arraycopy(from.curve(), 0, curve, 0, Math.min(curve.length, from.curve().length));
        double lastLoss = train(head, train, aug, s, log, eachEpoch ? (epoch -> {
            curve[epoch - 1] = head.accuracy(test, aug);
            return String.format(Locale.ROOT, "epoch %d: test top-1 %.4f", epoch, curve[epoch - 1]);
        }) : null, curve, state, phase, from);                 // its buffers are released before the evaluation
        double acc = head.accuracy(test, aug);
        return new Result(acc, s.steps(train.n()), (long) s.steps(train.n()) * s.batch() * s.accum(), lastLoss, (System.nanoTime() - t0) / 1e9, curve);
    }

    /**
     * The training loop; after each whole epoch before the last step, endOfEpoch (when not null) is given the
     * epoch's number and its line goes to the log. Returns the last step's loss.
     */
    private static double train(Head head, Dataset train, Augment aug, Settings s, PrintStream log, IntFunction<String> endOfEpoch,
                                double[] curve, FinetuneState state, String phase, FinetuneState.Saved from) throws IOException {
        VisionTransformer enc = head.enc;
        Rng rng = new Rng(s.seed() * 31 + 1), drop = new Rng(s.seed() * 31 + 2);
        Augment crops = new Augment(train.h(), train.w(), s.minScale(), 1.0, 3.0 / 4.0, 4.0 / 3.0, s.flip() ? 0.5 : 0.0, s.translate(), aug.normalization());
        LinkedHashMap<String, Var> all = new LinkedHashMap<>(enc.params.trainable());
        all.putAll(head.params.trainable());
        AdamW opt = new AdamW(all, 0.9f, 0.999f, 1e-8f, (float) s.weightDecay());
        Map<String, Float> scale = layerScales(all, enc.depth, s.layerDecay());
        int B = s.batch(), A = s.accum(), spe = s.stepsPerEpoch(train.n()), total = s.steps(train.n());
        int[] perm = new int[train.n()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        float[] buf = new float[B * train.imageSize()];
        int[] labels = new int[B], mixed = new int[B];
        Workspace ws = new Workspace();
        double lastLoss = Double.NaN, avg = 0;
        int start = 0;
        if (from != null && from.step() > 0) {                  // a resumed run: the state of the end of epoch from.epoch()
            if (from.step() != from.epoch() * spe || from.step() >= total)
                throw new IllegalArgumentException(state.dir() + ": saved at step " + from.step() + " (epoch " + from.epoch() + "), not the end of an epoch of this run ("
                        + spe + " steps each, " + total + " in all)");
            state.restore(enc.params, head.params, opt, rng, drop, perm);
            start = from.step();
            avg = from.runningLoss();
            lastLoss = from.lastLoss();
        }
        mae.io.Progress progress = mae.io.Progress.start("finetune (" + s.epochs() + " epochs)", total, start, "steps", log);
        for (int step = start; step < total; step++) {
            if (step % spe == 0) LinearProbe.shuffle(perm, rng);
            double stepLoss = 0;
            for (int a = 0; a < A; a++) {                                                // accum micro-batches, one optimizer step
                int first = ((step % spe) * A + a) * B;
                int[] idx = Arrays.copyOfRange(perm, first, first + B);
                stepLoss += microStep(head, train, idx, crops, rng, drop, s, buf, labels, mixed, ws, step) / A;
            }
            lastLoss = stepLoss;
            avg = step == 0 ? lastLoss : 0.98 * avg + 0.02 * lastLoss;
            opt.step((float) lrAt(s, (double) step / spe), scale);
            enc.params.zeroGrad();
            head.params.zeroGrad();
            progress.step(step + 1, String.format(Locale.ROOT, "loss %.4f (running mean %.4f)", lastLoss, avg));
            if ((step + 1) % spe == 0 && step + 1 < total) {
                int epoch = (step + 1) / spe;
                if (endOfEpoch != null) progress.note(endOfEpoch.apply(epoch));
                if (state != null)
                    state.save(new FinetuneState.Snapshot(phase, epoch, step + 1, enc.params, head.params, opt, rng, drop, perm, avg, lastLoss,
                            Arrays.copyOf(curve, Math.min(curve.length, epoch))));
            }
        }
        progress.close();
        return lastLoss;
    }

    /** Forward and backward of one micro-batch (its loss scaled by 1 / accum, so the gradients add up to the mean); returns its loss. */
    private static double microStep(Head head, Dataset train, int[] idx, Augment crops, Rng rng, Rng drop, Settings s,
                                    float[] buf, int[] labels, int[] mixed, Workspace ws, int step) {
        int B = idx.length;
        crops.batch(train, idx, buf, rng);
        for (int i = 0; i < B; i++) labels[i] = train.labels()[idx[i]];
        double lam = s.mixup() > 0 ? beta(rng, s.mixup()) : 1;
        if (lam < 1) mixup(buf, B, train.imageSize(), lam, labels, mixed);
        try (Workspace.Scope scope = ws.open()) {
            Var logits = head.logits(Tensor.of(buf, B, train.c(), train.h(), train.w()), s.dropPath(), drop);
            Var loss = F.crossEntropy(logits, labels, s.smoothing());
            if (lam < 1) loss = F.add(F.mul(loss, (float) lam), F.mul(F.crossEntropy(logits, mixed, s.smoothing()), (float) (1 - lam)));
            double value = loss.value().item();
            if (!Double.isFinite(value))
                throw new IllegalStateException("fine-tuning loss is " + value + " at step " + step + "; try a lower blr");
            (s.accum() > 1 ? F.mul(loss, 1f / s.accum()) : loss).backward();
            return value;
        }
    }

    /**
     * Multiply-adds of one image through the fine-tuning forward pass (the encoder on every patch, then the head),
     * counted by a {@link Trace}; the backward pass costs about twice as much.
     */
    public static long macsPerImage(VisionTransformer enc, int classes) {
        Head h = new Head(enc, classes, new Rng(0));
        Trace t = Trace.start();
        try (Grad.Scope g = Grad.off()) {
            h.logits(Tensor.zeros(1, enc.inChans, enc.imgSize, enc.imgSize), 0, null);
        } finally {
            t.stop();
        }
        return t.macs();
    }

    /** Warmup (linear from 0) then a half cosine down to min lr at the last step, on the fractional epoch e (lr_sched.py). */
    static double lrAt(Settings s, double e) {
        double lr = s.lr();
        if (e < s.warmupEpochs()) return lr * e / s.warmupEpochs();
        double t = Math.min(1, (e - s.warmupEpochs()) / Math.max(1e-9, s.epochs() - s.warmupEpochs()));
        return s.minLr() + (lr - s.minLr()) * 0.5 * (1 + Math.cos(Math.PI * t));
    }

    /** The classification head on an encoder: mean of the patch tokens (cls excluded), fc_norm, linear. */
    static final class Head {
        final VisionTransformer enc;
        final Params params = new Params();
        final LayerNorm fcNorm;
        final Linear fc;

        Head(VisionTransformer enc, int classes, Rng rng) {
            this.enc = enc;
            fcNorm = new LayerNorm(params, "fc_norm", enc.dim);
            fc = new Linear(params, "head", enc.dim, classes, rng);
            fc.weight.setValue(Tensor.randn(rng, classes, enc.dim).mul(2e-5f)); // MAE: trunc_normal std 2e-5 on the head
        }

        /** (N, C, H, W) -> (N, classes); with dropPath > 0 (training) each block's branches are dropped per sample. */
        Var logits(Tensor imgs, double dropPath, Rng rng) {
            Var x = enc.prependCls(enc.embed(Var.constant(imgs)));                      // (N, 1 + L, D)
            int depth = enc.blocks.size();
            for (int i = 0; i < depth; i++) {
                Block b = enc.blocks.get(i);
                double p = depth > 1 ? dropPath * i / (depth - 1) : dropPath;           // timm: linspace(0, rate, depth)
                x = F.add(x, dropPath(b.attn.forward(b.norm1.forward(x)), p, rng));
                x = F.add(x, dropPath(b.mlp.forward(b.norm2.forward(x)), p, rng));
            }
            Var tokens = enc.norm.forward(x);
            Var pooled = F.mean(F.narrow(tokens, 1, 1, enc.numPatches()), new int[]{1}, false); // (N, D)
            return fc.forward(fcNorm.forward(pooled));
        }

        double accuracy(Dataset test, Augment aug) {
            int correct = 0, B = 128;
            Workspace ws = new Workspace();
            float[] x = new float[B * test.imageSize()];
            try (Grad.Scope g = Grad.off()) {
                for (int i = 0; i < test.n(); i += B) {
                    int b = Math.min(B, test.n() - i);
                    int[] idx = new int[b];
                    for (int j = 0; j < b; j++) idx[j] = i + j;
                    aug.evalBatch(test, idx, x);
                    try (Workspace.Scope scope = ws.open()) {
                        Tensor imgs = Tensor.of(b == B ? x : Arrays.copyOf(x, b * test.imageSize()), b, test.c(), test.h(), test.w());
                        int[] pred = logits(imgs, 0, null).value().max(1, false).indices().data();
                        for (int j = 0; j < b; j++) if (pred[j] == test.labels()[i + j]) correct++;
                    }
                }
            }
            return (double) correct / test.n();
        }
    }

    /** Stochastic depth: each sample's branch y (N, ...) kept with probability 1 - p and then scaled by 1 / (1 - p). */
    static Var dropPath(Var y, double p, Rng rng) {
        if (p <= 0) return y;
        int N = y.size(0);
        int[] shape = new int[y.dim()];
        Arrays.fill(shape, 1);
        shape[0] = N;
        float[] m = new float[N];
        for (int i = 0; i < N; i++) m[i] = rng.nextDouble() < p ? 0f : (float) (1 / (1 - p));
        return F.mul(y, Var.constant(Tensor.of(m, shape)));
    }

    /**
     * Mixup within the batch (timm's "batch" mode, pairing image i with image B-1-i): x = lam x + (1 - lam)
     * x_pair in place; partner[i] is the pair's label.
     */
    static void mixup(float[] x, int B, int size, double lam, int[] labels, int[] partner) {
        float[] orig = Arrays.copyOf(x, B * size);
        for (int i = 0; i < B; i++) {
            int j = B - 1 - i;
            partner[i] = labels[j];
            for (int k = 0; k < size; k++) x[i * size + k] = (float) (lam * orig[i * size + k] + (1 - lam) * orig[j * size + k]);
        }
    }

    /** A draw from Beta(a, a), as Ga / (Ga + Gb) with Gamma(a) draws (Marsaglia-Tsang). */
    static double beta(Rng rng, double a) {
        double x = gamma(rng, a), y = gamma(rng, a);
        return x + y > 0 ? x / (x + y) : 0.5;
    }

    static double gamma(Rng rng, double a) {
        if (a < 1) return gamma(rng, a + 1) * Math.pow(Math.max(rng.nextDouble(), 1e-300), 1 / a);
        double d = a - 1.0 / 3, c = 1 / Math.sqrt(9 * d);
        while (true) {
            double z = rng.nextGaussian(), v = 1 + c * z;
            if (v <= 0) continue;
            v = v * v * v;
            double u = rng.nextDouble();
            if (Math.log(Math.max(u, 1e-300)) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
        }
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

    private static String num(double x) {
        String s = String.format(Locale.ROOT, "%.4g", x);
        if (s.contains(".") && !s.contains("e")) s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        return s;
    }
}
