package mae.train;

import mae.autograd.F;
import mae.autograd.Var;
import mae.data.Augment;
import mae.data.Dataset;
import mae.data.Datasets;
import mae.data.Normalization;
import mae.eval.Features;
import mae.eval.Knn;
import mae.io.AtomicFiles;
import mae.io.Json;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.model.MaskNoise;
import mae.model.Reconstruction;
import mae.model.Weights;
import mae.optim.AdamW;
import mae.tensor.Device;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.tensor.Workspace;
import mae.tensor.io.Safetensors;
import mae.viz.LineChart;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * MAE pretraining: AdamW, warmup + cosine per iteration, gradient accumulation, checkpoints that resume
 * bit-identically on the CPU. All randomness (epoch order, crops, flips, masks) comes from seeded
 * generators whose state is part of the checkpoint.
 */
public final class Pretrainer {
    /**
     * Everything that defines a run; stored in run.json and restored on --resume. device is "cpu" or "cuda"
     * (a run.json from before the key existed reads as cpu).
     */
    public record Options(String config, String data, int epochs, int maxSteps, int batch, int accum, double blr,
                          double warmupEpochs, double maskRatio, String masking, boolean normPix, long seed,
                          int checkpointEvery, int knnBank, String device) {

        /** A run on the CPU. */
        public Options(String config, String data, int epochs, int maxSteps, int batch, int accum, double blr,
                       double warmupEpochs, double maskRatio, String masking, boolean normPix, long seed,
                       int checkpointEvery, int knnBank) {
            this(config, data, epochs, maxSteps, batch, accum, blr, warmupEpochs, maskRatio, masking, normPix, seed,
                    checkpointEvery, knnBank, "cpu");
        }

        /** The same run on another device (e.g. resuming a GPU run on the CPU). */
        public Options withDevice(String d) {
            return new Options(config, data, epochs, maxSteps, batch, accum, blr, warmupEpochs, maskRatio, masking, normPix,
                    seed, checkpointEvery, knnBank, d);
        }

        Map<String, String> toMap() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("config", config); m.put("data", data == null ? "" : data); m.put("epochs", "" + epochs);
            m.put("max_steps", "" + maxSteps); m.put("batch", "" + batch); m.put("accum", "" + accum);
            m.put("blr", "" + blr); m.put("warmup_epochs", "" + warmupEpochs); m.put("mask_ratio", "" + maskRatio);
            m.put("masking", masking); m.put("norm_pix", "" + normPix); m.put("seed", "" + seed);
            m.put("checkpoint_every", "" + checkpointEvery); m.put("knn_bank", "" + knnBank);
            m.put("device", device);
            return m;
        }

        static Options fromMap(Map<String, String> m, Path file) {
            try {
                return new Options(m.get("config"), m.get("data").isEmpty() ? null : m.get("data"), Integer.parseInt(m.get("epochs")),
                        Integer.parseInt(m.get("max_steps")), Integer.parseInt(m.get("batch")), Integer.parseInt(m.get("accum")),
                        Double.parseDouble(m.get("blr")), Double.parseDouble(m.get("warmup_epochs")), Double.parseDouble(m.get("mask_ratio")),
                        m.get("masking"), Boolean.parseBoolean(m.get("norm_pix")), Long.parseLong(m.get("seed")),
                        Integer.parseInt(m.get("checkpoint_every")), Integer.parseInt(m.get("knn_bank")),
                        m.getOrDefault("device", "cpu"));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ": cannot read the run options (" + e + ")");
            }
        }
    }

    /** What a finished run reports. */
    public record Result(Path runDir, Path checkpoint, long steps, double finalLoss, int knnQueries, double knnAccuracy, double knnRandomInit,
                         double seconds, double imagesPerSecond) {}

    /** Held-out images classified by the quick kNN at the end of pretraining (bin/mae probe uses them all). */
    static final int KNN_QUERIES = 2000;

    private final Options o;
    private final RunDir run;
    private final Path home;
    private final PrintStream log;
    private final boolean progressBar;

    public Pretrainer(Options o, Path runDir, Path home, PrintStream log, boolean progressBar) {
        this.o = o;
        this.run = new RunDir(runDir);
        this.home = home;
        this.log = log;
        this.progressBar = progressBar;
    }

    /** Reads the options of an existing run (for --resume). */
    public static Options optionsOf(Path runDir) throws IOException {
        Path f = new RunDir(runDir).runJson();
        if (!Files.exists(f)) throw new IllegalArgumentException("--resume " + runDir + ": no run.json there (not a pretraining run)");
        return Options.fromMap(Json.parseFlat(Files.readString(f, StandardCharsets.UTF_8), f), f);
    }

    public Result run(boolean resume) throws IOException {
        MaeConfig cfg = MaeConfig.named(o.config).withNormPix(o.normPix);
        validate(cfg);
        Datasets.Split split = Datasets.load(o.data == null ? null : Path.of(o.data), home.resolve("data/fashion-mnist"), cfg.inChans(), cfg.imgSize());
        if (split.train().n() == 0 || split.eval().n() == 0) throw new IllegalArgumentException("empty dataset: " + split.description());
        if (!resume) {                                 // only after the data loaded: a bad --data leaves no run behind
            run.prepareNew();
            AtomicFiles.writeString(run.runJson(), Json.flat(o.toMap()));
        }
        Dataset train = split.train();
        int perStep = o.batch * o.accum;
        if (train.n() < perStep)
            throw new IllegalArgumentException("the training split has " + train.n() + " images, fewer than one step's batch x accum = " + perStep);
        Normalization norm = Normalization.of(train);
        Augment aug = new Augment(cfg.imgSize(), norm);
        int stepsPerEpoch = train.n() / perStep;
        long total = o.maxSteps > 0 ? Math.min((long) o.epochs * stepsPerEpoch, o.maxSteps) : (long) o.epochs * stepsPerEpoch;
        double epochs = (double) total / stepsPerEpoch;
        double warmup = o.warmupEpochs >= 0 ? o.warmupEpochs : 0.05 * epochs;
        Schedule sched = new Schedule(Schedule.scaled(o.blr, perStep), 0, warmup, epochs);
        MaskNoise masking = MaskNoise.parse(o.masking);

        Device device = Device.parse(o.device);
        MaeModel model = new MaeModel(cfg, o.seed).to(device);      // parameters, gradients and AdamW moments live there
        MaeModel evalModel = device == Device.CPU ? model : new MaeModel(cfg, o.seed);   // pictures and kNN: on the CPU
        AdamW opt = new AdamW(model.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
        Rng rng = new Rng(o.seed * 31 + 7);
        long start = 0;
        List<double[]> curve = new ArrayList<>();
        if (resume) {
            Path ck = run.latestCheckpoint();
            if (ck == null) throw new IllegalArgumentException("--resume " + run.dir + ": no complete checkpoint to resume from");
            start = restore(ck, model, opt, rng);
            curve = Metrics.truncate(run.metrics(), start);
            log.printf("resuming %s from step %d (%s)%n", run.dir, start, ck.getFileName());
        }
        log.printf("data: %s%n", split.description());
        log.printf("device: %s%n", device == Device.CPU ? "cpu" : "cuda (" + Device.CUDA.describe() + ")");
        log.printf("model: %s, %,d trainable parameters; %d steps (%.2f epochs of %d steps), batch %d x accum %d, lr %.3g, mask %s %.2f%n",
                cfg.name(), model.params.count(), total, epochs, stepsPerEpoch, o.batch, o.accum, sched.lr(), o.masking, o.maskRatio);

        // Fixed pictures: the first 8 evaluation images under fixed noise.
        Dataset eval = split.eval();
        int show = Math.min(8, eval.n());
        Tensor showImgs = evalImages(eval, aug, show), showNoise = masking.noise(new Rng(o.seed + 1), show, cfg.grid(), o.maskRatio);

        float[] buf = new float[o.batch * train.imageSize()];
        long t0 = System.nanoTime();
        double lastLoss = Double.NaN;
        Progress bar = new Progress(progressBar, total, start, log);
        Path lastCk = null;
        int[] perm = null;
        int permEpoch = -1;
        Workspace ws = new Workspace();
        for (long step = start; step < total; step++) {
            int epoch = (int) (step / stepsPerEpoch), pos = (int) (step % stepsPerEpoch);
            if (epoch != permEpoch) { perm = permutation(train.n(), o.seed, epoch); permEpoch = epoch; } // once per epoch
            double loss = 0;
            for (int micro = 0; micro < o.accum; micro++) {
                try (Workspace.Scope scope = ws.open()) {   // the micro-batch's activations and gradients: reused buffers
                    int[] idx = java.util.Arrays.copyOfRange(perm, (pos * o.accum + micro) * o.batch, (pos * o.accum + micro + 1) * o.batch);
                    aug.batch(train, idx, buf, rng);
                    Tensor imgs = Tensor.of(buf, o.batch, cfg.inChans(), cfg.imgSize(), cfg.imgSize()).to(device);
                    Tensor noise = masking.noise(rng, o.batch, cfg.grid(), o.maskRatio);
                    Var l = model.forward(imgs, noise, o.maskRatio).loss();
                    float lv = l.value().item();           // on a GPU: the step's one wait for the device
                    if (!Float.isFinite(lv))
                        throw new IllegalStateException("loss is " + lv + " at step " + step + " (epoch " + epoch + "); stopped. The last good checkpoint is "
                                + (lastCk != null ? lastCk : run.latestCheckpoint() != null ? run.latestCheckpoint() : "none (no checkpoint was written yet)")
                                + ". Try a lower --blr or a longer --warmup-epochs.");
                    F.mul(l, 1f / o.accum).backward();      // parameter gradients accumulate in buffers of their own
                    loss += lv / o.accum;
                }
            }
            double lr = sched.at((double) step / stepsPerEpoch);
            opt.step((float) lr);
            model.params.zeroGrad();
            lastLoss = loss;
            double secs = (System.nanoTime() - t0) / 1e9, ips = (step - start + 1) * (double) perStep / secs;
            curve.add(new double[]{step + 1, loss});
            Metrics.append(run.metrics(), step + 1, (double) (step + 1) / stepsPerEpoch, loss, lr, ips);
            bar.step(step + 1, loss, lr, ips);
            boolean epochEnd = pos == stepsPerEpoch - 1, last = step + 1 == total;
            if (epochEnd || last || (o.checkpointEvery > 0 && (step + 1) % o.checkpointEvery == 0)) {
                long s = step + 1;
                requireFinite(model, s, lastCk);
                lastCk = run.commitCheckpoint(s, dir -> save(dir, model, opt, rng, s, epoch, norm));
            }
            if (epochEnd || last) pictures(cpuCopy(model, evalModel), showImgs, showNoise, norm, curve, epochEnd ? epoch + 1 : -1);
        }
        bar.close();
        double secs = (System.nanoTime() - t0) / 1e9;
        if (lastCk == null) lastCk = run.latestCheckpoint();

        // What it learned: kNN on frozen cls features, beside the same protocol on a random-init encoder.
        log.println("evaluating: kNN (k=20, cosine) on frozen mean-pooled patch features...");
        Dataset bank = train.n() > o.knnBank ? train.subset(0, o.knnBank) : train;
        Dataset queries = eval.n() > KNN_QUERIES ? eval.subset(0, KNN_QUERIES) : eval;
        double knn = knn(cpuCopy(model, evalModel), bank, queries, aug);
        double knnRandom = knn(new MaeModel(cfg, o.seed + 12345), bank, queries, aug);
        Result r = new Result(run.dir, lastCk, total, lastLoss, queries.n(), knn, knnRandom, secs, (total - start) * (double) perStep / Math.max(1e-9, secs));
        AtomicFiles.writeString(run.dir.resolve("result.json"), Json.flat(Map.of(
                "steps", "" + total, "final_loss", "" + lastLoss, "knn_accuracy", "" + knn, "knn_random_init", "" + knnRandom,
                "knn_bank", "" + bank.n(), "knn_queries", "" + queries.n(), "train_seconds", String.format(Locale.ROOT, "%.1f", secs),
                "checkpoint", String.valueOf(lastCk))));
        return r;
    }

    /** The trained weights in a CPU model: the model itself on the CPU, else downloaded into evalModel. */
    private static MaeModel cpuCopy(MaeModel model, MaeModel evalModel) {
        if (evalModel != model) evalModel.params.copyFrom(model.params);
        return evalModel;
    }

    private void validate(MaeConfig cfg) {
        if (o.batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + o.batch);
        if (o.accum < 1) throw new IllegalArgumentException("--accum must be at least 1, got " + o.accum);
        if (o.epochs < 1 && o.maxSteps < 1) throw new IllegalArgumentException("--epochs or --max-steps must be positive");
        if (!(o.maskRatio >= 0 && o.maskRatio < 1)) throw new IllegalArgumentException("--mask-ratio " + o.maskRatio + " is outside [0, 1)");
        if (cfg.lenKeep(o.maskRatio) < 1) throw new IllegalArgumentException("--mask-ratio " + o.maskRatio + " keeps no patch of " + cfg.numPatches());
        if (!(o.blr > 0)) throw new IllegalArgumentException("--blr must be positive, got " + o.blr);
        MaskNoise.parse(o.masking);
        if (Device.parse(o.device) == Device.CUDA && !Device.CUDA.available())
            throw new IllegalArgumentException("--device cuda: CUDA is not available here: " + Device.CUDA.describe() + "; use --device cpu");
    }

    /** A checkpoint is only written from finite weights: an update that overflowed stops the run instead. */
    private void requireFinite(MaeModel model, long step, Path lastCk) throws IOException {
        for (Map.Entry<String, Var> e : model.params.trainable().entrySet())
            for (float v : e.getValue().value().toArray())
                if (!Float.isFinite(v))
                    throw new IllegalStateException("parameter " + e.getKey() + " became " + v + " after step " + step + "; stopped without checkpointing. The last good checkpoint is "
                            + (lastCk != null ? lastCk : run.latestCheckpoint() != null ? run.latestCheckpoint() : "none") + ". Try a lower --blr or a longer --warmup-epochs.");
    }

    /** The epoch's order of training images, a function of (seed, epoch) only, so a resumed run needs no state for it. */
    static int[] permutation(int n, long seed, int epoch) {
        Rng r = new Rng(seed * 1_000_003L + epoch);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) { int j = r.nextInt(i + 1); int t = p[i]; p[i] = p[j]; p[j] = t; }
        return p;
    }

    private static Tensor evalImages(Dataset eval, Augment aug, int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        float[] x = new float[n * eval.imageSize()];
        aug.evalBatch(eval, idx, x);
        return Tensor.of(x, n, eval.c(), eval.h(), eval.w());
    }

    private double knn(MaeModel model, Dataset bank, Dataset eval, Augment aug) {
        float[] fb = Features.of(Features.Kind.MEAN, model.encoder, bank, aug, 256), fq = Features.of(Features.Kind.MEAN, model.encoder, eval, aug, 256);
        int classes = Math.max(max(bank.labels()), max(eval.labels())) + 1;
        return Knn.accuracy(fb, bank.labels(), fq, eval.labels(), model.cfg.embedDim(), 20, 0.07, classes);
    }

    private static int max(int[] a) { int m = 0; for (int v : a) m = Math.max(m, v); return m; }

    private void pictures(MaeModel model, Tensor imgs, Tensor noise, Normalization norm, List<double[]> curve, int epoch) throws IOException {
        Reconstruction.Pictures p = Reconstruction.of(model, imgs, noise, o.maskRatio, norm);
        if (epoch > 0) {
            Files.createDirectories(run.dir.resolve("recon"));
            Reconstruction.write(run.dir.resolve(String.format("recon/epoch-%03d.png", epoch)), p);
        }
        Reconstruction.write(run.dir.resolve("reconstruction.png"), p);
        double[] x = new double[curve.size()], y = new double[curve.size()];
        for (int i = 0; i < x.length; i++) { x[i] = curve.get(i)[0]; y[i] = curve.get(i)[1]; }
        LineChart.write(run.dir.resolve("loss.png"), "MAE pretraining loss (" + o.config + ", mask " + o.maskRatio + ")", "step", "loss", x, y);
    }

    // ---------------------------------------------------------------- checkpoints

    private static void save(Path dir, MaeModel model, AdamW opt, Rng rng, long step, int epoch, Normalization norm) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(norm.toMetadata());
        meta.put("step", "" + step);
        Weights.save(dir.resolve("weights.safetensors"), model, meta);
        Safetensors.write(dir.resolve("optimizer.safetensors"), Map.of("step", "" + opt.steps()), opt.state());
        long[] s = rng.state();
        Map<String, String> st = new LinkedHashMap<>();
        st.put("step", "" + step);
        st.put("epoch", "" + epoch);
        st.put("optimizer_steps", "" + opt.steps());
        for (int i = 0; i < s.length; i++) st.put("rng" + i, "" + s[i]);
        AtomicFiles.writeString(dir.resolve("state.json"), Json.flat(st));
    }

    private static long restore(Path dir, MaeModel model, AdamW opt, Rng rng) throws IOException {
        Path w = dir.resolve("weights.safetensors");
        Safetensors.Contents c = Safetensors.read(w);
        MaeConfig saved = MaeConfig.fromMetadata(c.metadata(), w.toString());
        Map<String, String> want = new LinkedHashMap<>(model.cfg.toMetadata()), got = new LinkedHashMap<>(saved.toMetadata());
        want.remove("config_name");
        got.remove("config_name");
        if (!want.equals(got))
            throw new IllegalArgumentException(w + ": checkpoint of another config (" + saved + ") than this run's " + model.cfg);
        Weights.assign(model.params, c.tensors(), w, List.of());
        Path sf = dir.resolve("state.json");
        Map<String, String> st = Json.parseFlat(Files.readString(sf, StandardCharsets.UTF_8), sf);
        Path of = dir.resolve("optimizer.safetensors");
        opt.load(Safetensors.read(of).tensors(), Long.parseLong(st.get("optimizer_steps")), of.toString());
        long[] s = new long[4];
        for (int i = 0; i < 4; i++) s[i] = Long.parseLong(st.get("rng" + i));
        rng.setState(s);
        return Long.parseLong(st.get("step"));
    }
}
