package mae.cli;

import mae.io.AtomicFiles;
import mae.model.MaeConfig;
import mae.tensor.Device;
import mae.train.Pretrainer;
import mae.train.RunOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** bin/mae pretrain: the main job. With no arguments, a few minutes of fmnist pretraining on the embedded data. */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Pretrain a Masked Autoencoder, then show what it learned (pictures, checkpoint, kNN accuracy).",
                "With no arguments: the fmnist config for " + PretrainCommand.DEFAULT_STEPS + " steps of batch 64 on Fashion-MNIST (about 8 minutes on 2 cores)."})
public final class PretrainCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    static final int DEFAULT_STEPS = 1400;

    // Each option also answers to the name of the official main_pretrain.py (--batch_size, --accum_iter, ...), with the same meaning and units.
    @OneOf(configs = true)
    @Option(names = {"--config", "--model"}, defaultValue = "fmnist", converter = Configs.Name.class,
            description = "model config: " + Configs.KNOWN + " (default: ${DEFAULT-VALUE})")
    String config;
    @Option(names = {"--data", "--data_path"}, description = "dataset folder: IDX files, or image folders with train/ and val/ (default: /usr/share/datasets/fashion-mnist if present, else the embedded copy under data/)")
    Path data;
    @Range(min = 1, max = RunOptions.MAX_EPOCHS)
    @Option(names = "--epochs", description = "epochs to train (default: as many as the step budget allows)")
    Integer epochs;
    @Range(min = 1, max = RunOptions.MAX_STEPS)
    @Option(names = "--max-steps", description = "stop after this many optimizer steps (default: " + DEFAULT_STEPS + " when --epochs is not given)")
    Integer maxSteps;
    @Range(min = 1, max = RunOptions.MAX_BATCH)
    @Option(names = {"--batch", "--batch_size"}, defaultValue = "64", description = "images per micro-batch (default: ${DEFAULT-VALUE}: in a short run, twice the updates of batch 128 for the same time)")
    int batch;
    @Range(min = 1, max = RunOptions.MAX_ACCUM)
    @Option(names = {"--accum", "--accum_iter"}, defaultValue = "1", description = "micro-batches per optimizer step; the effective batch is batch x accum (default: ${DEFAULT-VALUE})")
    int accum;
    @Range(min = 0, minOpen = true, max = Double.MAX_VALUE)
    @Option(names = "--blr", defaultValue = "1.5e-3", description = "base learning rate: lr = blr x batch x accum / 256 (default: ${DEFAULT-VALUE})")
    double blr;
    @Range(min = 0, minOpen = true, max = Double.MAX_VALUE)
    @Option(names = "--lr", description = "absolute peak learning rate; overrides --blr (default: from --blr)")
    Double lr;
    @Range(min = 0, max = Double.MAX_VALUE)
    @Option(names = {"--min-lr", "--min_lr"}, defaultValue = "0", description = "learning rate the cosine decays to at the end (default: ${DEFAULT-VALUE})")
    double minLr;
    @Range(min = 0, max = Double.MAX_VALUE)
    @Option(names = {"--weight-decay", "--weight_decay"}, defaultValue = "0.05", description = "AdamW weight decay, not on biases and 1-D parameters (default: ${DEFAULT-VALUE})")
    double weightDecay;
    @Range(min = 0, max = RunOptions.MAX_EPOCHS)
    @Option(names = {"--warmup-epochs", "--warmup_epochs"}, description = "linear warmup length in epochs (default: 5%% of the run, as the paper's 40 of 800)")
    Double warmupEpochs;
    @Range(min = 1, max = MaeConfig.MAX_IMG_SIZE)
    @Option(names = {"--input-size", "--input_size"}, description = "image side in pixels, a multiple of the patch size; images are resized to it (default: the config's, 28 for fmnist)")
    Integer inputSize;
    @Range(min = 0, max = 1, maxOpen = true)
    @Option(names = {"--mask-ratio", "--mask_ratio"}, defaultValue = "0.75", description = "fraction of patches removed (default: ${DEFAULT-VALUE})")
    double maskRatio;
    @OneOf(value = {"random", "block", "grid"}, what = "strategy")
    @Option(names = "--masking", defaultValue = "random", description = "random, block or grid (default: ${DEFAULT-VALUE})")
    String masking;
    @Option(names = {"--norm-pix", "--norm_pix_loss"}, negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "normalize each target patch by its own mean and variance (default: on; --no-norm-pix for raw pixels)")
    boolean normPix;
    @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
    @Option(names = "--seed", defaultValue = "0", description = "seed of every random draw (default: ${DEFAULT-VALUE})")
    long seed;
    @Option(names = {"--out", "--output_dir"}, description = "run directory (default: runs/<config>-<date>-<time>)")
    Path out;
    @Option(names = "--resume", description = "continue this run (its folder, or its latest checkpoint) from its last complete checkpoint, "
            + "or from step 0 when it has none yet; --max-steps, --epochs, --blr, --lr, --checkpoint-every, --knn-bank and --device may change "
            + "(recorded in run.json), other options may not (default: a new run)")
    Path resume;
    @OneOf(value = {"cpu", "cuda"}, what = "device")
    @Option(names = "--device", description = "cpu or cuda (default: cpu; --resume keeps the run's own device unless given)")
    String device;
    @Range(min = 0, max = RunOptions.MAX_STEPS, note = "0: only at epoch ends and the last step")
    @Option(names = "--checkpoint-every", defaultValue = "100", description = "also checkpoint every N steps (default: ${DEFAULT-VALUE}; and at every epoch end)")
    int checkpointEvery;
    @Range(min = 1, max = RunOptions.MAX_KNN_BANK)
    @Option(names = "--knn-bank", defaultValue = "5000", description = "training images used as the kNN memory bank at the end (default: ${DEFAULT-VALUE})")
    int knnBank;

    @Override public Integer call() throws Exception {
        // Before anything is made: a GPU that is not there is one line (the reason) and exit 1, and no run directory.
        if (device != null && Device.parse(device) == Device.CUDA && !Device.CUDA.available())
            throw new IllegalArgumentException("--device cuda: CUDA is not available here: " + Device.CUDA.describe() + "; use --device cpu");
        if (resume != null && out != null) throw new IllegalArgumentException("--resume continues a run in its own directory; drop --out");
        Path home = Main.home();
        boolean resuming = resume != null;
        RunOptions o;
        Path dir;
        if (resuming) {
            dir = runOf(resume);
            o = onResume(RunOptions.read(dir));
        } else {
            int e = epochs != null ? epochs : RunOptions.ALL_EPOCHS;
            int s = maxSteps != null ? maxSteps : epochs == null ? DEFAULT_STEPS : RunOptions.NO_STEP_LIMIT;
            double warm = warmupEpochs != null ? warmupEpochs : -1;
            o = new RunOptions(config, data == null ? null : data.toString(), e, s, batch, accum, blr, warm, maskRatio,
                    masking, normPix, seed, checkpointEvery, knnBank, device == null ? "cpu" : Device.parse(device).name().toLowerCase(Locale.ROOT),
                    weightDecay, lr != null ? lr : RunOptions.LR_FROM_BLR, minLr, inputSize != null ? inputSize : RunOptions.CONFIG_INPUT_SIZE);
            dir = out != null ? out : home.resolve("runs").resolve(config + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        boolean live = mae.io.Progress.live();
        long t0 = System.nanoTime();
        Pretrainer trainer = new Pretrainer(o, dir, home, System.out, live);
        Pretrainer.Result r = trainer.run(resuming);
        Files.createDirectories(home.resolve("runs"));
        AtomicFiles.writeString(home.resolve("runs/latest"), dir.toAbsolutePath() + "\n");
        PrintSummary.pretrain(r, Results.write(home, results(o, r, trainer.dataDescription(), (System.nanoTime() - t0) / 1e9)));
        return 0;
    }

    /** The results file: loss, kNN against the random-init encoder, speed, and the run's options. */
    static Results.Entry results(RunOptions o, Pretrainer.Result r, String data, double seconds) {
        Results.Entry e = new Results.Entry("pretrain-" + o.config(), String.format(Locale.ROOT, "pretrain %s: %,d steps of batch %d, final loss %.4f, kNN %.4f (random-init encoder %.4f)",
                o.config(), r.steps(), o.batch() * o.accum(), r.finalLoss(), r.knnAccuracy(), r.knnRandomInit()));
        e.number("final_loss", "final loss (mean over the removed patches)", r.finalLoss())
                .number("knn_accuracy", "kNN accuracy, pretrained encoder (k=20, cosine, mean-pooled patch features)", r.knnAccuracy())
                .number("knn_random_init", "kNN accuracy, random-init encoder (same protocol)", r.knnRandomInit())
                .number("knn_queries", "held-out images classified", r.knnQueries())
                .number("train_seconds", "training time, s", r.seconds(), "%.1f")
                .number("images_per_s", "training images/s", r.imagesPerSecond(), "%.1f");
        e.wallSeconds = seconds;
        e.setting("run", r.runDir().toAbsolutePath().toString());
        o.toJson().forEach(e::setting);
        e.setting("data", data);                                   // what was loaded, not only the --data given
        if (o.epochs() == RunOptions.ALL_EPOCHS) e.setting("epochs", "as --max-steps allows");
        if (o.maxSteps() == RunOptions.NO_STEP_LIMIT) e.setting("max_steps", "as --epochs gives");
        if (o.warmupEpochs() < 0) e.setting("warmup_epochs", "5% of the run");
        e.setting("peak_lr", o.peakLr());
        return e;
    }

    /**
     * The run folder of --resume: the folder itself, or, as the official --resume takes a checkpoint file, the run
     * of a checkpoint folder or weights file under its checkpoints/, when that is the run's latest checkpoint
     * (a run continues from its last complete checkpoint only).
     */
    static Path runOf(Path resume) throws java.io.IOException {
        Path p = resume.toAbsolutePath().normalize();
        if (Files.exists(p.resolve("run.json"))) return resume;
        if (Files.isRegularFile(p) || p.getFileName() != null && p.getFileName().toString().endsWith(".safetensors")) p = p.getParent();
        Path checkpoints = p == null ? null : p.getParent();
        if (checkpoints == null || checkpoints.getFileName() == null
                || !checkpoints.getFileName().toString().equals("checkpoints") || !Files.exists(checkpoints.getParent().resolve("run.json")))
            return resume;                                     // a run folder (RunOptions.read names what is missing)
        Path run = checkpoints.getParent(), latest = checkpoints.resolve("latest");
        String at = Files.exists(latest) ? Files.readString(latest).trim() : null;
        if (!p.getFileName().toString().equals(at))
            throw new IllegalArgumentException("--resume " + resume + ": a run continues from its latest checkpoint, which is "
                    + (at == null ? "none yet" : at) + ", not " + p.getFileName() + " (pass the run folder " + run + ")");
        return run;
    }

    /** Flags that define a run, with their run.json keys: given with --resume, they must repeat the run's value. */
    static final String[][] FIXED_ON_RESUME = {{"--config", "config"}, {"--data", "data"}, {"--batch", "batch"}, {"--accum", "accum"},
            {"--warmup-epochs", "warmup_epochs"}, {"--mask-ratio", "mask_ratio"}, {"--masking", "masking"}, {"--norm-pix", "norm_pix"}, {"--seed", "seed"},
            {"--weight-decay", "weight_decay"}, {"--min-lr", "min_lr"}, {"--input-size", "input_size"}};

    /**
     * A resumed run's options: its own, with the ones that may change on resume (--max-steps, --epochs, --blr, --lr,
     * --checkpoint-every, --knn-bank, --device) applied when given; the run records the change in run.json.
     * Any other option given with a value other than the run's is refused in one line, never ignored.
     */
    RunOptions onResume(RunOptions r) {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        Map<String, Object> was = r.toJson();
        was.put("weight_decay", r.weightDecay());              // written only when not the default: compare with the value in use
        was.put("min_lr", r.minLr());
        was.put("input_size", r.model().imgSize());
        for (String[] flagKey : FIXED_ON_RESUME) {
            if (!parsed.hasMatchedOption(flagKey[0])) continue;
            Object given = given(flagKey[0]), recorded = was.get(flagKey[1]);
            if (!same(given, recorded))
                throw new IllegalArgumentException("--resume " + resume + " continues the run with its own " + flagKey[0] + " " + shown(recorded) + "; "
                        + flagKey[0] + " " + shown(given) + " cannot change on resume (only --max-steps, --epochs, --blr, --lr, --checkpoint-every, --knn-bank and --device can)");
        }
        int e = r.epochs(), s = r.maxSteps();
        if (epochs != null || maxSteps != null) {              // the step budget, as a new run reads these flags
            e = epochs != null ? epochs : RunOptions.ALL_EPOCHS;
            s = maxSteps != null ? maxSteps : RunOptions.NO_STEP_LIMIT;
        }
        double newBlr = parsed.hasMatchedOption("--blr") ? blr : r.blr();
        double newLr = lr != null ? lr : parsed.hasMatchedOption("--blr") ? RunOptions.LR_FROM_BLR : r.lr();   // a new --blr replaces an --lr
        return new RunOptions(r.config(), r.data(), e, s, r.batch(), r.accum(), newBlr, r.warmupEpochs(),
                r.maskRatio(), r.masking(), r.normPix(), r.seed(), parsed.hasMatchedOption("--checkpoint-every") ? checkpointEvery : r.checkpointEvery(),
                parsed.hasMatchedOption("--knn-bank") ? knnBank : r.knnBank(), device != null ? Device.parse(device).name().toLowerCase(Locale.ROOT) : r.device(),
                r.weightDecay(), newLr, r.minLr(), r.inputSize());
    }

    private Object given(String flag) {
        switch (flag) {
            case "--config": return config;
            case "--data": return data == null ? null : data.toString();
            case "--batch": return batch;
            case "--accum": return accum;
            case "--warmup-epochs": return warmupEpochs;
            case "--mask-ratio": return maskRatio;
            case "--masking": return masking;
            case "--norm-pix": return normPix;
            case "--seed": return seed;
            case "--weight-decay": return weightDecay;
            case "--min-lr": return minLr;
            case "--input-size": return inputSize;
            default: throw new IllegalStateException(flag);
        }
    }

    private static boolean same(Object given, Object recorded) {
        if (given instanceof Number a && recorded instanceof Number b) return a.doubleValue() == b.doubleValue();
        if (given instanceof String a && recorded instanceof String b) return a.equalsIgnoreCase(b);
        return java.util.Objects.equals(given, recorded == mae.tensor.io.Json.NULL ? null : recorded);
    }

    private static String shown(Object v) { return v == null || v == mae.tensor.io.Json.NULL ? "(none)" : String.valueOf(v); }

    /** The end-of-run report. */
    static final class PrintSummary {
        static void pretrain(Pretrainer.Result r, Path results) {
            System.out.printf(Locale.ROOT, "%ndone: %d steps in %.0f s (%.0f images/s), final loss %.4f%n", r.steps(), r.seconds(), r.imagesPerSecond(), r.finalLoss());
            // Only what this run wrote: recon/ holds a grid per finished epoch, none when the run ended inside its first.
            Path recon = r.runDir().resolve("recon"), loss = r.runDir().resolve("loss.png"), grid = r.runDir().resolve("reconstruction.png");
            if (Files.exists(grid)) System.out.println("pictures:   " + grid + "  (original | masked | reconstruction | + visible)");
            if (Files.exists(loss)) System.out.println("            " + loss + (Files.isDirectory(recon) ? ", one grid per epoch in " + recon : ""));
            System.out.println("checkpoint: " + (r.checkpoint() != null ? r.checkpoint() : "none written"));
            System.out.println("metrics:    " + r.runDir().resolve("metrics.jsonl"));
            System.out.printf(Locale.ROOT, "kNN accuracy (k=20, cosine on mean-pooled patch features, %d held-out images): pretrained %.4f vs random-init encoder %.4f%n", r.knnQueries(), r.knnAccuracy(), r.knnRandomInit());
            System.out.println("results:    " + results);
            System.out.println("next:       bin/mae probe --method linear   (reads runs/latest)");
        }
    }
}
