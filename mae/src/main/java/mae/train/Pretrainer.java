package mae.train;

import mae.kernels.GemmBlocking;

import mae.autograd.F;
import mae.autograd.Var;
import mae.data.Augment;
import mae.data.Dataset;
import mae.data.Datasets;
import mae.data.Normalization;
import mae.eval.Features;
import mae.eval.Knn;
import mae.io.JsonFile;
import mae.io.Progress;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.model.MaskNoise;
import mae.model.Reconstruction;
import mae.optim.AdamW;
import mae.tensor.Device;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.kernels.Allocation;
import mae.kernels.Workspace;
import mae.tensor.io.Json;
import mae.viz.Fonts;
import mae.viz.LineChart;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MAE pretraining, the loop of the reference engine_pretrain.py: per step the learning rate from the schedule
 * (warmup + cosine per iteration), forward and loss, backward (gradient accumulation over micro-batches), the
 * AdamW step, metrics, and a checkpoint at the interval. Checkpoints resume bit-identically on the CPU: all
 * randomness (epoch order, crops, flips, masks) comes from seeded generators whose state is part of the checkpoint.
 * The run's options are {@link RunOptions}, its checkpoints {@link Checkpoints}, its schedule {@link Schedule}.
 */
public final class Pretrainer {
    /** What a finished run reports. */
    public record Result(Path runDir, Path checkpoint, long steps, double finalLoss, int knnQueries, double knnAccuracy, double knnRandomInit,
                         double seconds, double imagesPerSecond) {}

    /** Held-out images classified by the quick kNN at the end of pretraining (bin/mae probe uses them all). */
    static final int KNN_QUERIES = 2000;

    private final RunOptions o;
    private final RunDir run;
    private final Checkpoints checkpoints;
    private final Path home;
    private final PrintStream log;
    private final boolean progressBar;

    // What prepare() sets up: data, model, optimizer, schedule, and where a resumed run starts.
    private MaeConfig cfg;
    private Datasets.Split split;
    private Dataset train;
    private Normalization norm;
    private Augment aug;
    private MaskNoise masking;
    private Device device;
    private MaeModel model, evalModel;
    private AdamW opt;
    private Schedule sched;
    private Rng rng;                        // crops, flips and masks; saved in every checkpoint
    private int perStep, stepsPerEpoch;
    private long start, total;
    private boolean noFontsSaid;            // the missing-fonts warning is printed once per run
    private List<double[]> curve = new ArrayList<>();   // (step, loss, lr) for loss.png
    private Tensor showImgs, showNoise;     // the fixed pictures: the first 8 evaluation images under fixed noise

    // The input pipeline's buffers.
    private final Workspace ws = new Workspace();
    private float[] buf;
    private int[] perm;
    private int permEpoch = -1;

    public Pretrainer(RunOptions o, Path runDir, Path home, PrintStream log, boolean progressBar) {
        this.o = o;
        this.run = new RunDir(runDir);
        this.checkpoints = new Checkpoints(runDir);
        this.home = home;
        this.log = log;
        this.progressBar = progressBar;
    }

    /** The data the run trained on, as its header line names it (after {@link #run}). */
    public String dataDescription() { return split == null ? "(not loaded)" : split.description(); }

    /** The step (counted from the first of this launch) whose allocation tells whether the JIT ran the fallbacks. */
    static final int FALLBACK_CHECK_STEP = 50;

    public Result run(boolean resume) throws IOException {
        prepare(resume);
        Progress bar = Progress.steps(progressBar, total, start, log);
        long t0 = System.nanoTime();
        double loss = Double.NaN;
        for (long step = start; step < total; step++) {
            int epoch = (int) (step / stepsPerEpoch);
            double lr = sched.at((double) step / stepsPerEpoch);   // per iteration, not per epoch
            boolean check = step == start + FALLBACK_CHECK_STEP && device == Device.CPU;
            long bytes = check ? Allocation.bytes() : 0;
            loss = forwardBackward(step);                           // forward, loss, backward of each micro-batch
            String warning = check ? Allocation.fallbackWarning("step " + (step + 1) + " (per micro-batch, as the workspace holds one)",
                    (Allocation.bytes() - bytes) / o.accum(), ws.stats().createdBytes()) : null;
            if (warning != null) log.println(warning);
            opt.step((float) lr);
            model.params.zeroGrad();

            double secs = (System.nanoTime() - t0) / 1e9, ips = (step - start + 1) * (double) perStep / secs;
            curve.add(new double[]{step + 1, loss, lr});
            Metrics.append(run.metrics(), step + 1, (double) (step + 1) / stepsPerEpoch, loss, lr, ips);
            bar.step(step + 1, String.format(java.util.Locale.ROOT, "loss %.4f lr %.2e %.0f img/s", loss, lr, ips));

            boolean epochEnd = (step + 1) % stepsPerEpoch == 0, last = step + 1 == total;
            if (epochEnd || last || (o.checkpointEvery() > 0 && (step + 1) % o.checkpointEvery() == 0))
                checkpoints.save(step + 1, epoch, model, opt, rng, norm);
            if (epochEnd || last) pictures(epochEnd ? epoch + 1 : -1, step + 1);
        }
        bar.close();
        return evaluate(loss, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * One optimizer step's gradients: per micro-batch, the batch (augmented), its masking noise, forward, loss and
     * backward of loss / accum. Returns the mean loss; a non-finite loss stops the run.
     */
    private double forwardBackward(long step) throws IOException {
        double loss = 0;
        for (int micro = 0; micro < o.accum(); micro++) {
            try (Workspace.Scope scope = ws.open()) {   // the micro-batch's activations and gradients: reused buffers
                aug.batch(train, batchIndices(step, micro), buf, rng);
                Tensor imgs = Tensor.of(buf, o.batch(), cfg.inChans(), cfg.imgSize(), cfg.imgSize()).to(device);
                Tensor noise = masking.noise(rng, o.batch(), cfg.grid(), o.maskRatio());
                Var l = model.forward(imgs, noise, o.maskRatio()).loss();
                float lv = l.value().item();           // on a GPU: the step's one wait for the device
                if (!Float.isFinite(lv)) {
                    Path good = checkpoints.lastGood();
                    throw new IllegalStateException("loss is " + lv + " at step " + step + " (epoch " + step / stepsPerEpoch + "); stopped. The last good checkpoint is "
                            + (good != null ? good : "none (no checkpoint was written yet)") + ". Try a lower --blr or a longer --warmup-epochs.");
                }
                F.mul(l, 1f / o.accum()).backward();    // parameter gradients accumulate in buffers of their own
                loss += lv / o.accum();
            }
        }
        return loss;
    }

    /** The training images of a micro-batch: a slice of the epoch's order. */
    private int[] batchIndices(long step, int micro) {
        int epoch = (int) (step / stepsPerEpoch), pos = (int) (step % stepsPerEpoch);
        if (epoch != permEpoch) { perm = permutation(train.n(), o.seed(), epoch); permEpoch = epoch; } // once per epoch
        int first = (pos * o.accum() + micro) * o.batch();
        return Arrays.copyOfRange(perm, first, first + o.batch());
    }

    /**
     * The GEMM's block sizes set the order of its sums, so the bits of every product: a new run records the blocking
     * it starts with (gemm-blocking.txt, "KC,MC,NC,ROWS,KCI"; older runs' "KC,MC,NC" mean the widest kernel, and without KCI the k block of a transposed A read in place is KC, as it was then), and a resumed one uses it, so that it stays bit-identical to an
     * uninterrupted run on the same machine even when the autotune's cache was cleared or a JVM update re-tuned it.
     */
    private void recordGemmBlocking() throws IOException {
        GemmBlocking b = GemmBlocking.current();
        mae.io.AtomicFiles.writeString(run.dir.resolve(GEMM_BLOCKING), b.setting() + "\n");
    }

    static final String GEMM_BLOCKING = "gemm-blocking.txt";

    private void useRecordedGemmBlocking() throws IOException {
        Path f = run.dir.resolve(GEMM_BLOCKING);
        if (!Files.isRegularFile(f)) return;                   // a run from before the file existed: the machine's blocking
        GemmBlocking b;
        try {
            b = GemmBlocking.fromSetting(Files.readString(f));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(f + ": not a GEMM blocking \"KC,MC,NC,ROWS,KCI\" (" + e.getMessage() + ")", e);
        }
        if (b == null) throw new IllegalArgumentException(f + ": empty; expected a GEMM blocking \"KC,MC,NC,ROWS,KCI\"");
        GemmBlocking.set(b.withSource("recorded in " + f));
    }

    /** The epoch's order of training images, a function of (seed, epoch) only, so a resumed run needs no state for it. */
    static int[] permutation(int n, long seed, int epoch) {
        Rng r = new Rng(seed * 1_000_003L + epoch);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) { int j = r.nextInt(i + 1); int t = p[i]; p[i] = p[j]; p[j] = t; }
        return p;
    }

    // ---------------------------------------------------------------- before the loop

    /**
     * Data, model, AdamW, schedule; a new run's folder and run.json, or a resumed run's state. Prints the header.
     * Everything is read and checked before anything is written: an error here leaves no new run folder behind
     * and a resumed run's files as they were.
     */
    private void prepare(boolean resume) throws IOException {
        RunOptions recorded = resume ? RunOptions.read(run.dir) : null;
        try {
            cfg = o.model();
            o.validate(cfg);
        } catch (IllegalArgumentException e) {                 // a resumed run's values come from its run.json
            throw resume && o.changesFrom(recorded).isEmpty() ? new IllegalArgumentException(run.runJson() + ": " + e.getMessage(), e) : e;
        }
        split = Datasets.load(o.data() == null ? null : Path.of(o.data()), home.resolve("data/fashion-mnist"), cfg.inChans(), cfg.imgSize());
        if (split.train().n() == 0 || split.eval().n() == 0) throw new IllegalArgumentException("empty dataset: " + split.description());
        train = split.train();
        perStep = o.batch() * o.accum();
        if (train.n() < perStep)
            throw new IllegalArgumentException("the training split has " + train.n() + " images, fewer than one step's --batch x --accum = " + perStep);
        norm = Normalization.of(train);
        aug = new Augment(cfg.imgSize(), norm);
        stepsPerEpoch = train.n() / perStep;
        total = o.maxSteps() > 0 ? Math.min((long) o.epochs() * stepsPerEpoch, o.maxSteps()) : (long) o.epochs() * stepsPerEpoch;
        double epochs = (double) total / stepsPerEpoch;
        double warmup = o.warmupEpochs() >= 0 ? o.warmupEpochs() : 0.05 * epochs;
        sched = new Schedule(o.peakLr(), o.minLr(), warmup, epochs);
        masking = MaskNoise.parse(o.masking());

        device = Device.parse(o.device());
        model = new MaeModel(cfg, o.seed()).to(device);      // parameters, gradients and AdamW moments live there
        evalModel = device == Device.CPU ? model : new MaeModel(cfg, o.seed());   // pictures and kNN: on the CPU
        opt = new AdamW(model.params.trainable(), 0.9f, 0.95f, 1e-8f, (float) o.weightDecay());
        rng = new Rng(o.seed() * 31 + 7);
        start = 0;
        Path ck = null;
        if (resume) {
            ck = checkpoints.latest();                         // checked: a name of this run's checkpoints
            if (ck != null) start = Checkpoints.restore(ck, model, opt, rng);   // checked: state, weights, moments
            if (start > total) {
                Map<String, Object> changed = o.changesFrom(recorded);
                throw new IllegalArgumentException(changed.containsKey("max_steps") || changed.containsKey("epochs")
                        ? "--resume " + run.dir + ": the run is already at step " + start + ", beyond the " + total + " steps --max-steps / --epochs now give"
                        : ck.resolve("state.json") + ": step " + start + " is beyond the " + total + " steps of " + run.runJson());
            }
            if (ck != null) curve = Metrics.truncate(run.metrics(), start);   // checked line by line before it is rewritten
            useRecordedGemmBlocking();
        }

        // ------------------------------------------------ all checked: from here on, files are written
        Dataset eval = split.eval();
        int show = Math.min(8, eval.n());
        showImgs = evalImages(eval, aug, show);
        showNoise = masking.noise(new Rng(o.seed() + 1), show, cfg.grid(), o.maskRatio());
        buf = new float[o.batch() * train.imageSize()];
        if (!resume) {
            RunDir.Start how = run.prepareNew();
            try {
                o.write(run.runJson());
                recordGemmBlocking();
            } catch (IOException | RuntimeException e) {
                run.discardNew(how);
                throw e;
            }
            if (how == RunDir.Start.RESTARTED) log.printf("%s held a run without any checkpoint: starting it over%n", run.dir);
        } else {
            mae.tensor.io.TempFiles.removeStaleIn(run.dir);          // what writers killed mid-write left behind
            mae.tensor.io.TempFiles.removeStaleIn(run.dir.resolve("checkpoints"));
            if (ck == null) {                                  // killed or stopped before its first checkpoint
                run.clearForRestart();
                curve = new ArrayList<>();
                log.printf("%s has no checkpoint yet: starting it again from step 0%n", run.dir);
            }
            o.writeChanges(run.runJson(), recorded, start);
            Map<String, Object> changed = o.changesFrom(recorded);
            if (!changed.isEmpty()) log.printf("from step %d: %s (recorded in %s)%n", start, describe(changed), run.runJson());
            if (ck != null) log.printf("resuming %s from step %d (%s)%n", run.dir, start, ck.getFileName());
        }
        log.printf("data: %s%n", split.description());
        log.printf("device: %s%n", device == Device.CPU ? "cpu" : "cuda (" + Device.CUDA.describe() + ")");
        log.printf("model: %s, %,d trainable parameters; %d steps (%.2f epochs of %d steps), batch %d x accum %d, lr %.3g, mask %s %.2f%n",
                cfg.name(), model.params.count(), total, epochs, stepsPerEpoch, o.batch(), o.accum(), sched.lr(), o.masking(), o.maskRatio());
    }

    /** "max_steps 8 -> 10, blr 0.0015 -> 0.0001". */
    private static String describe(Map<String, Object> changed) {
        List<String> parts = new ArrayList<>();
        changed.forEach((k, v) -> {
            Map<?, ?> ft = (Map<?, ?>) v;
            parts.add(k + " " + ft.get("from") + " -> " + ft.get("to"));
        });
        return String.join(", ", parts);
    }

    private static Tensor evalImages(Dataset eval, Augment aug, int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        float[] x = new float[n * eval.imageSize()];
        aug.evalBatch(eval, idx, x);
        return Tensor.of(x, n, eval.c(), eval.h(), eval.w());
    }

    // ---------------------------------------------------------------- pictures and the end of the run

    /** The trained weights in a CPU model: the model itself on the CPU, else downloaded into evalModel. */
    private MaeModel cpuModel() {
        if (evalModel != model) evalModel.params.copyFrom(model.params);
        return evalModel;
    }

    /** reconstruction.png (and recon/epoch-NNN.png at an epoch's end) and loss.png. */
    private void pictures(int epoch, long step) throws IOException {
        Reconstruction.Pictures p = Reconstruction.of(cpuModel(), showImgs, showNoise, o.maskRatio(), norm);
        String caption = Reconstruction.caption(String.format(java.util.Locale.ROOT, "%s after step %,d of %,d (batch %d%s)", cfg.name(), step, total,
                o.batch(), o.accum() > 1 ? " x accum " + o.accum() : ""), o.maskRatio(), o.masking(), p.loss(), cfg.normPixLoss());
        if (epoch > 0) {
            Files.createDirectories(run.dir.resolve("recon"));
            Reconstruction.write(run.dir.resolve(String.format("recon/epoch-%03d.png", epoch)), p, caption);
        }
        Reconstruction.write(run.dir.resolve("reconstruction.png"), p, caption);
        double[] x = new double[curve.size()], y = new double[curve.size()], lr = new double[curve.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = curve.get(i)[0]; y[i] = curve.get(i)[1];
            lr[i] = curve.get(i).length > 2 ? curve.get(i)[2] : sched.at((x[i] - 1) / stepsPerEpoch);
        }
        boolean drawn = LineChart.training(run.dir.resolve("loss.png"), String.format(java.util.Locale.ROOT, "MAE pretraining, %s, mask ratio %s, batch %d", o.config(),
                o.maskRatio(), o.batch() * o.accum()), x, y, lr);
        if (!drawn && !noFontsSaid) {
            log.println("warning: this Java cannot draw text (" + Fonts.problem() + "): no loss.png, and the reconstructions "
                    + "have no titles or caption; metrics.jsonl holds the losses. Installing FreeType and a font (libfreetype6, fonts-dejavu-core on Debian) brings them back.");
            noFontsSaid = true;
        }
    }

    /** What it learned: kNN on frozen features, beside the same protocol on a random-init encoder; writes result.json. */
    private Result evaluate(double lastLoss, double secs) throws IOException {
        Path lastCk = checkpoints.lastGood();
        log.println("evaluating: kNN (k=20, cosine) on frozen mean-pooled patch features...");
        Dataset eval = split.eval();
        Dataset bank = train.n() > o.knnBank() ? train.subset(0, o.knnBank()) : train;
        Dataset queries = eval.n() > KNN_QUERIES ? eval.subset(0, KNN_QUERIES) : eval;
        double knn = knn(cpuModel(), bank, queries);
        double knnRandom = knn(new MaeModel(cfg, o.seed() + 12345), bank, queries);
        Result r = new Result(run.dir, lastCk, total, lastLoss, queries.n(), knn, knnRandom, secs, (total - start) * (double) perStep / Math.max(1e-9, secs));
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("steps", total);
        result.put("final_loss", lastLoss);                  // null when no step ran (a resumed run that had finished)
        result.put("knn_accuracy", knn);
        result.put("knn_random_init", knnRandom);
        result.put("knn_bank", bank.n());
        result.put("knn_queries", queries.n());
        result.put("train_seconds", Json.number("%.1f", secs));
        result.put("checkpoint", lastCk == null ? Json.NULL : lastCk.toString());
        JsonFile.write(run.resultJson(), result);
        return r;
    }

    private double knn(MaeModel model, Dataset bank, Dataset eval) {
        String which = model == evalModel || model == this.model ? "pretrained encoder" : "random-init encoder";
        float[] fb = Features.of(Features.Kind.MEAN, model.encoder, bank, aug, 256, "features, " + which + ", kNN bank"),
                fq = Features.of(Features.Kind.MEAN, model.encoder, eval, aug, 256, "features, " + which + ", held-out images");
        int classes = Math.max(max(bank.labels()), max(eval.labels())) + 1;
        return Knn.accuracy(fb, bank.labels(), fq, eval.labels(), model.cfg.embedDim(), 20, 0.07, classes);
    }

    private static int max(int[] a) { int m = 0; for (int v : a) m = Math.max(m, v); return m; }
}
