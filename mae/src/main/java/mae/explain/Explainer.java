package mae.explain;

import mae.autograd.Grad;
import mae.autograd.Trace;
import mae.autograd.Var;
import mae.data.Dataset;
import mae.data.ImageFolder;
import mae.data.Normalization;
import mae.data.Preprocess;
import mae.eval.Encoders;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.model.MaskNoise;
import mae.model.Reconstruction;
import mae.model.WeightFiles;
import mae.model.Weights;
import mae.tensor.Rng;
import mae.tensor.Tensor;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Walks one image through a loaded MAE with the engine's own forward pass under a {@link Trace}: one pass per
 * masking strategy, one per mask ratio of a sweep, the encoder alone at mask ratio 0 (what encoding every
 * patch would cost), and the attention probabilities of every encoder block.
 */
public final class Explainer {
    private Explainer() {}

    /** The ratios shown side by side (the asked ratio is added). */
    public static final double[] SWEEP = {0.25, 0.5, 0.75, 0.9};

    /** What to explain: the mask ratio, the strategies (the first drives the walk-through), seed, block and head. */
    public record Request(double maskRatio, List<MaskNoise> strategies, long seed, int block, int head) {}

    /**
     * A checkpoint's model; without a decoder, the decoder part of the model is unused and missing says why.
     * preprocess: how pictures are prepared for it; notes: what was inferred about a released file.
     */
    public record Checkpoint(Path weights, MaeModel model, boolean hasDecoder, Normalization normalization, String missing,
                             Preprocess preprocess, List<String> notes) {
        public Checkpoint(Path weights, MaeModel model, boolean hasDecoder, Normalization normalization, String missing) {
            this(weights, model, hasDecoder, normalization, missing, Preprocess.plain(model.cfg.imgSize()), List.of());
        }

        public MaeConfig cfg() { return model.cfg; }
    }

    /** The image: the model input (1, C, S, S) normalized, its pixels [C, S, S] in [0, 1], where it came from. */
    public record Subject(Tensor input, float[] pixels, String source, List<String> notes) {}

    /** One traced pass; pictures and patchLoss are null without a decoder. */
    public record Pass(MaskNoise strategy, double ratio, Tensor noise, MaeModel.Masking masking, Trace trace,
                       Reconstruction.Pictures pictures, float[] patchLoss) {
        public long macs(String part) {
            long n = 0;
            for (Trace.Stage s : trace.stages()) if (part(s.name()).equals(part)) n += s.macs();
            return n;
        }

        public int[] idsKeep() { return masking.idsKeep().data(); }
        public float[] mask() { return masking.mask().toArray(); }
    }

    /** Everything the report shows. */
    public record Explanation(Checkpoint checkpoint, Subject subject, Normalization normalization, Request request,
                              List<Pass> strategies, Trace allPatches, List<Pass> sweep, List<AttentionMaps.Maps> attention,
                              List<String> notes) {
        public Pass main() { return strategies.get(0); }
        public MaeConfig cfg() { return checkpoint.cfg(); }

        /** Encoder multiply-adds had every patch been encoded (the mask-ratio-0 trace). */
        public long encoderMacsAllPatches() {
            long n = 0;
            for (Trace.Stage s : allPatches.stages()) if (part(s.name()).equals("encoder")) n += s.macs();
            return n;
        }
    }

    /** encoder, decoder or loss: the part of the model a traced stage belongs to. */
    public static String part(String stage) {
        if (stage.startsWith("decoder") || stage.startsWith("+ decoder") || stage.equals("mask tokens")
                || stage.equals("unshuffle") || stage.equals("prediction")) return "decoder";
        if (stage.endsWith("loss")) return "loss";
        return "encoder";
    }

    // ---------------------------------------------------------------- loading

    /** A full checkpoint loads whole; one without decoder tensors loads its encoder (via Encoders) and says why. */
    public static Checkpoint load(Path weights, MaeConfig override) throws IOException {
        return load(WeightFiles.read(weights, WeightFiles.Options.of(override)));
    }

    /** The same for a file already read (any format {@link WeightFiles} reads). */
    public static Checkpoint load(WeightFiles.Loaded f) {
        Path weights = f.file();
        Normalization norm = f.normalization();
        if (f.hasDecoder())
            return new Checkpoint(weights, Weights.load(f), true, norm, null, f.preprocess(), f.notes());
        Encoders.Loaded enc = Encoders.load(f);
        MaeModel model = MaeModel.forLoading(enc.config(), enc.encoder().globalPool());
        enc.encoder().params.all().forEach((name, v) -> model.params.set(name, v.value()));
        String missing = weights.getFileName() + " holds the encoder only: it has no decoder_embed.*, "
                + "mask_token, decoder_blocks.* or decoder_pred.* tensors (released encoder-only MAE checkpoints drop the decoder, "
                + "which only pretraining needs). The decoder stages, the reconstruction and the per-patch loss need those weights, "
                + "so this report stops after the encoder. Pass a full checkpoint (mae_visualize_vit_*.pth, a *_full one, facebook/vit-mae-*, "
                + "or one written by bin/mae pretrain) to see them.";
        if (enc.encoder().globalPool())
            missing += " It is a fine-tuned classifier: its encoder has no final norm (fc_norm follows the mean pool), so the latent is the last block's output.";
        return new Checkpoint(weights, model, false, norm, missing, f.preprocess(), f.notes());
    }

    /** An image file, converted to the model's channels and resized (with a note) to its input size. */
    public static Subject image(Path file, MaeConfig cfg, Normalization norm) throws IOException {
        return image(file, cfg, norm, Preprocess.plain(cfg.imgSize()));
    }

    /** An image file, converted to the model's channels and prepared by {@code prep} (with a note when it changes it). */
    public static Subject image(Path file, MaeConfig cfg, Normalization norm, Preprocess prep) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--image " + file + " does not exist or is not a file");
        BufferedImage img;
        try {
            img = ImageFolder.read(file);                     // its declared size checked before it is decoded
        } catch (IOException e) {
            String why = e.getMessage().startsWith(file + ": ") ? e.getMessage().substring(file.toString().length() + 2) : e.getMessage();
            throw new IllegalArgumentException("--image " + file + ": " + why.replace("not a decodable PNG or JPEG image", "not a readable PNG or JPEG image"));
        }
        List<String> notes = new ArrayList<>();
        String note = prep.describe(img.getWidth(), img.getHeight());
        if (note != null) notes.add(note);
        float[] px = ImageFolder.decode(file, cfg.inChans(), prep);
        return new Subject(normalize(px, cfg, norm), px, file.toString(), notes);
    }

    /** Image {@code index} of an evaluation split. */
    public static Subject datasetImage(Dataset eval, int index, MaeConfig cfg, Normalization norm) {
        if (index < 0 || index >= eval.n())
            throw new IllegalArgumentException("--index " + index + " is outside the evaluation split's " + eval.n() + " images");
        float[] px = eval.image(index);
        String label = eval.classes().get(eval.labels()[index]);
        return new Subject(normalize(px, cfg, norm), px, "image " + index + " (" + label + ") of " + eval.source(), List.of());
    }

    /** [C, S, S] pixels in [0, 1] -> (1, C, S, S) model input, (x - mean) / std per channel. */
    static Tensor normalize(float[] px, MaeConfig cfg, Normalization norm) {
        int C = cfg.inChans(), S = cfg.imgSize();
        float[] x = new float[px.length];
        for (int c = 0; c < C; c++)
            for (int i = 0; i < S * S; i++) x[c * S * S + i] = (px[c * S * S + i] - norm.mean()[c]) / norm.std()[c];
        return Tensor.of(x, 1, C, S, S);
    }

    // ---------------------------------------------------------------- the walk-through

    public static Explanation explain(Checkpoint ck, Subject s, Normalization norm, Request r) {
        MaeConfig cfg = ck.cfg();
        int block = r.block() < 0 ? cfg.depth() - 1 : r.block();
        if (cfg.depth() == 0) throw new IllegalArgumentException("the encoder has no blocks to show attention for");
        if (block >= cfg.depth()) throw new IllegalArgumentException("--block " + block + " is outside the encoder's blocks 0.." + (cfg.depth() - 1));
        if (r.head() < 0 || r.head() >= cfg.numHeads())
            throw new IllegalArgumentException("--head " + r.head() + " is outside the encoder's heads 0.." + (cfg.numHeads() - 1));
        Request req = new Request(r.maskRatio(), r.strategies(), r.seed(), block, r.head());
        List<String> notes = new ArrayList<>(s.notes());
        List<Pass> strategies = new ArrayList<>();
        mae.io.Progress progress = mae.io.Progress.start("explain", r.strategies().size() + SWEEP.length + 3L, "passes");
        for (MaskNoise m : r.strategies()) { strategies.add(pass(ck, s, norm, m, r.maskRatio(), r.seed())); progress.step(strategies.size()); }
        List<Pass> sweep = sweep(ck, s, norm, req, notes);
        progress.step(r.strategies().size() + SWEEP.length + 1L);
        Trace all = encoderAlone(ck.model(), s.input(), r.seed());
        progress.step(r.strategies().size() + SWEEP.length + 2L);
        List<AttentionMaps.Maps> attention = attention(ck.model(), strategies.get(0).trace());
        progress.step(r.strategies().size() + SWEEP.length + 3L);
        progress.close();
        return new Explanation(ck, s, norm, req, strategies, all, sweep, attention, notes);
    }

    /** One pass through the engine's forward (Reconstruction.of runs MaeModel.forward), traced. */
    static Pass pass(Checkpoint ck, Subject s, Normalization norm, MaskNoise strategy, double ratio, long seed) {
        MaeModel m = ck.model();
        Tensor noise = strategy.noise(new Rng(seed), 1, m.cfg.grid(), ratio);                 // (1, L)
        MaeModel.Masking masking = m.randomMasking(noise, ratio);
        Reconstruction.Pictures pics = null;
        Trace t = Trace.start();
        try (Grad.Scope g = Grad.off()) {
            if (ck.hasDecoder()) pics = Reconstruction.of(m, s.input(), noise, ratio, norm);
            else m.forwardEncoder(Var.constant(s.input()), masking);
        } finally {
            t.stop();
        }
        float[] loss = ck.hasDecoder() ? t.stage("per-patch loss").output().toArray() : null; // (1, L)
        return new Pass(strategy, ratio, noise, masking, t, pics, loss);
    }

    private static List<Pass> sweep(Checkpoint ck, Subject s, Normalization norm, Request r, List<String> notes) {
        TreeSet<Double> ratios = new TreeSet<>();
        for (double x : SWEEP) ratios.add(x);
        ratios.add(r.maskRatio());
        List<Pass> out = new ArrayList<>();
        for (double x : ratios) {
            if (ck.cfg().lenKeep(x) < 1) notes.add("Mask ratio " + x + " keeps no patch of " + ck.cfg().numPatches() + "; left out of the comparison.");
            else out.add(pass(ck, s, norm, r.strategies().get(0), x, r.seed()));
        }
        return out;
    }

    /** The encoder on all L patches (mask ratio 0): what encoding the mask tokens too would cost. */
    static Trace encoderAlone(MaeModel m, Tensor input, long seed) {
        Tensor noise = MaskNoise.RANDOM.noise(new Rng(seed), 1, m.cfg.grid(), 0.0);
        Trace t = Trace.start();
        try (Grad.Scope g = Grad.off()) {
            m.forwardEncoder(Var.constant(input), m.randomMasking(noise, 0.0));
        } finally {
            t.stop();
        }
        return t;
    }

    /** Each encoder block's attention, on its input as traced: the output of the stage before it. */
    static List<AttentionMaps.Maps> attention(MaeModel m, Trace t) {
        List<AttentionMaps.Maps> maps = new ArrayList<>();
        List<Trace.Stage> stages = t.stages();
        for (int b = 0; b < m.encoder.blocks.size(); b++) {
            int at = stages.indexOf(t.stage("encoder block " + b));
            maps.add(AttentionMaps.of(m.encoder.blocks.get(b), stages.get(at - 1).output()));   // input (1, 1 + keep, D)
        }
        return maps;
    }
}
