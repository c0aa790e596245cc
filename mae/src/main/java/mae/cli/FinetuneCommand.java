package mae.cli;

import mae.eval.Encoders;
import mae.eval.Finetune;
import mae.eval.FinetuneState;
import mae.io.JsonFile;
import mae.tensor.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** bin/mae finetune: train the whole encoder with a classification head; random-init baseline beside it. */
@Command(name = "finetune", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune the pretrained encoder end to end (AdamW, layer-wise lr decay, label smoothing).",
                "Prints the random-init baseline beside it; the last line is 'accuracy: X'."})
public final class FinetuneCommand implements Callable<Integer> {
    // Options also answer to the official main_finetune.py names (--batch_size, --finetune, ...), with the same meaning and units.
    @Option(names = {"--checkpoint", "--finetune"}, description = "weights file, checkpoint folder or run folder (default: the run in runs/latest)")
    Path checkpoint;
    @Option(names = {"--data", "--data_path"}, description = "dataset folder (default: as pretraining)") Path data;
    @OneOf(configs = true)
    @Option(names = {"--config", "--model"}, converter = Configs.Name.class, description = "config of weights without config metadata: " + Configs.KNOWN + ", or a JSON file of config keys (e.g. a Hugging Face config.json); default: the checkpoint's own") String config;
    @Range(min = 0, max = Integer.MAX_VALUE, note = "0 = all")
    @Option(names = "--train-limit", defaultValue = "10000", description = "training images used (0 = all; default: ${DEFAULT-VALUE})") int trainLimit;
    @Range(min = 0, minOpen = true, max = 100_000)
    @Option(names = "--epochs", defaultValue = "" + Finetune.RECIPE_EPOCHS, description = "epochs, may be fractional (default: ${DEFAULT-VALUE})") double epochs;
    @Range(min = 1, max = 65_536)
    @Option(names = {"--batch", "--batch_size"}, defaultValue = "" + Finetune.RECIPE_BATCH, description = "images per step (default: ${DEFAULT-VALUE})") int batch;
    @Range(min = 0, minOpen = true, max = Double.MAX_VALUE)
    @Option(names = "--blr", defaultValue = "" + Finetune.RECIPE_BLR, description = "base lr, lr = blr x batch x accum / 256 (default: ${DEFAULT-VALUE})") double blr;
    @Range(min = 0, minOpen = true, max = Double.MAX_VALUE)
    @Option(names = "--lr", description = "absolute peak lr; overrides --blr (default: from --blr)") Double lr;
    @Range(min = 1, max = mae.model.MaeConfig.MAX_IMG_SIZE)
    @Option(names = {"--input-size", "--input_size"}, description = "image side the encoder takes; must be the checkpoint's (default: the checkpoint's)") Integer inputSize;
    @Range(min = 0, minOpen = true, max = 1)
    @Option(names = {"--layer-decay", "--layer_decay"}, defaultValue = "" + Finetune.RECIPE_LAYER_DECAY, description = "layer-wise lr decay of the pretrained encoder (default: ${DEFAULT-VALUE}; the random-init baseline gets 1, none)") double layerDecay;
    @Range(min = 0, max = 100_000)
    @Option(names = {"--warmup-epochs", "--warmup_epochs"}, defaultValue = "" + Finetune.RECIPE_WARMUP_EPOCHS, description = "linear warmup (default: ${DEFAULT-VALUE})") double warmupEpochs;
    @Range(min = 0, max = 1, maxOpen = true)
    @Option(names = "--smoothing", defaultValue = "" + Finetune.RECIPE_SMOOTHING, description = "label smoothing (default: ${DEFAULT-VALUE})") float smoothing;
    @Range(min = 0, minOpen = true, max = 1)
    @Option(names = "--min-scale", defaultValue = "" + Finetune.RECIPE_MIN_SCALE, description = "RandomResizedCrop's smallest area fraction, 1 = no crop (default: ${DEFAULT-VALUE})") double minScale;
    @Option(names = "--flip", negatable = true, defaultValue = "" + Finetune.RECIPE_FLIP, fallbackValue = "true", description = "random horizontal flips (default: off: Fashion-MNIST's shoes all face one way)") boolean flip;
    @Range(min = 0, max = Finetune.MAX_TRANSLATE)
    @Option(names = "--translate", defaultValue = "" + Finetune.RECIPE_TRANSLATE, description = "random shifts of up to N pixels each way, the border filled with 0 (no resampling), 0 = off (default: ${DEFAULT-VALUE})") int translate;
    @Range(min = 0, max = 1, maxOpen = true)
    @Option(names = {"--drop-path", "--drop_path"}, defaultValue = "" + Finetune.RECIPE_DROP_PATH, description = "stochastic depth of the last block (default: ${DEFAULT-VALUE})") double dropPath;
    @Range(min = 0, max = 100)
    @Option(names = "--mixup", defaultValue = "" + Finetune.RECIPE_MIXUP, description = "mixup Beta(a, a), 0 = off (default: ${DEFAULT-VALUE})") double mixup;
    @Range(min = 0, max = 10)
    @Option(names = {"--weight-decay", "--weight_decay"}, defaultValue = "" + Finetune.RECIPE_WEIGHT_DECAY, description = "AdamW weight decay, not on biases and 1-D parameters (default: ${DEFAULT-VALUE})") double weightDecay;
    @Range(min = 0, max = Double.MAX_VALUE)
    @Option(names = {"--min-lr", "--min_lr"}, defaultValue = "0", description = "lr the cosine decays to at the last step (default: ${DEFAULT-VALUE})") double minLr;
    @Range(min = 1, max = 65_536)
    @Option(names = {"--accum", "--accum_iter"}, defaultValue = "1", description = "micro-batches per optimizer step; the effective batch is batch x accum (default: ${DEFAULT-VALUE})") int accum;
    @Range(min = 0, minOpen = true, max = Double.MAX_VALUE)
    @Option(names = "--baseline-blr", defaultValue = "" + Finetune.RECIPE_SCRATCH_BLR, description = "base lr of the random-init baseline (default: ${DEFAULT-VALUE})") double baselineBlr;
    @Option(names = "--baseline", negatable = true, defaultValue = "true", fallbackValue = "true", description = "also fine-tune a random-init encoder the same way (default: on)") boolean baseline;
    @Option(names = "--eval-each-epoch", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "also score the test images after every epoch of the pretrained encoder, for the curve (one forward pass over the test images each; default: off)") boolean eachEpoch;
    @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
    @Option(names = "--seed", defaultValue = "0", description = "seed of the head, the batch order and the augmentation (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--resume", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "continue a fine-tuning that was stopped, with the same options, from the end of its last whole epoch "
                    + "(every run saves its state there, beside its results, in finetune-state/); it ends with the same numbers "
                    + "as a run never stopped (default: off: start over)") boolean resume;

    @Override public Integer call() throws Exception {
        EvalSetup s = new EvalSetup(checkpoint, data, config, trainLimit);
        if (s.train.n() < (long) batch * accum)
            throw new IllegalArgumentException("--batch " + batch + " x --accum " + accum + " exceeds the " + s.train.n() + " training images");
        EvalSetup.requireInputSize(inputSize, s);
        Finetune.Settings st = new Finetune.Settings(epochs, batch, lr != null ? lr * 256 / ((double) batch * accum) : blr, layerDecay, smoothing, warmupEpochs, seed,
                minScale, flip, dropPath, mixup, weightDecay, minLr, accum, translate);
        System.out.printf(Locale.ROOT, "finetune: %s (%s); train %d, test %d images; %s%n", s.weights, s.loaded.config().name(), s.train.n(), s.test.n(), st.describe());
        FinetuneState state = new FinetuneState(s.resultDir, identity(s, st));
        FinetuneState.Saved from = null;
        if (resume && state.exists()) {
            from = state.load();
            System.out.printf(Locale.ROOT, "resuming %s: %s, after epoch %d%n", state.dir(), from.phase().equals(FinetuneState.BASELINE) ? "random-init encoder" : "pretrained encoder", from.epoch());
        } else if (resume) {
            System.out.printf(Locale.ROOT, "--resume: nothing saved in %s; starting from the beginning%n", state.dir());
        } else if (state.exists()) {
            System.out.printf(Locale.ROOT, "note: %s holds a fine-tuning that did not finish; this run replaces it (--resume would continue it)%n", state.dir());
        }
        Double random = from != null ? from.baselineAccuracy() : null;
        if (baseline && random == null) {
            System.out.printf(Locale.ROOT, "random-init encoder (blr %s, no layer decay):%n", baselineBlr);
            random = Finetune.runDetailed(Encoders.create(s.loaded.config(), seed + 777), s.train, s.test, s.aug, s.classes, st.forScratch(baselineBlr), System.out,
                    false, state, FinetuneState.BASELINE, from != null && from.phase().equals(FinetuneState.BASELINE) ? from : null).accuracy();
            state.baselineDone(random);
        } else if (random != null) {
            System.out.printf(Locale.ROOT, "random-init encoder: %.4f (finished before the stop)%n", random);
        }
        System.out.println("pretrained encoder:");
        FinetuneState.Saved pretrainedFrom = from != null && from.phase().equals(FinetuneState.PRETRAINED) ? from : null;
        Finetune.Result res = Finetune.runDetailed(s.loaded.encoder(), s.train, s.test, s.aug, s.classes, st, System.out, eachEpoch,
                state, FinetuneState.PRETRAINED, pretrainedFrom);
        double acc = res.accuracy();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("checkpoint", s.weights.toString()); r.put("accuracy", acc); r.put("random_init_accuracy", random == null ? Json.NULL : random);
        r.put("epochs", epochs); r.put("train_images", s.train.n()); r.put("test_images", s.test.n());
        r.put("recipe", st.toJson());
        if (eachEpoch) r.put("epoch_accuracy", java.util.Arrays.stream(res.epochAccuracy()).boxed().toList());
        if (baseline) r.put("baseline_recipe", st.forScratch(baselineBlr).toJson());
        r.put("seconds", Json.number("%.1f", state.seconds()));
        Path out = s.resultDir.resolve("finetune.json");
        JsonFile.write(out, r);
        Results.Entry e = new Results.Entry("finetune", random != null
                ? String.format(Locale.ROOT, "finetune: accuracy %.4f, random-init encoder %.4f", acc, random)
                : String.format(Locale.ROOT, "finetune: accuracy %.4f", acc));
        e.number("accuracy", "accuracy, pretrained encoder", acc);
        if (random != null) e.number("random_init_accuracy", "accuracy, random-init encoder (same recipe)", random);
        for (int i = 0; i < res.epochAccuracy().length; i++) e.number("accuracy_epoch_" + (i + 1), "accuracy after epoch " + (i + 1) + " of " + epochs, res.epochAccuracy()[i]);
        e.wallSeconds = state.seconds();
        e.setting("checkpoint", s.weights.toString()).setting("config", s.loaded.config().name()).setting("pretraining", EvalSetup.pretraining(s.weights))
                .setting("epochs", epochs).setting("batch", batch).setting("accum", accum).setting("blr", st.blr()).setting("min_lr", minLr).setting("layer_decay", layerDecay).setting("smoothing", smoothing)
                .setting("train_images", s.train.n()).setting("test_images", s.test.n()).setting("data", s.dataDescription).setting("warmup_epochs", warmupEpochs).setting("drop_path", dropPath).setting("min_scale", minScale).setting("flip", flip).setting("translate", translate).setting("mixup", mixup).setting("weight_decay", weightDecay)
                .setting("seed", seed);
        System.out.println("results:             " + Results.write(Main.home(), e));
        state.delete();                                        // finished: nothing to resume
        if (random != null) System.out.printf(Locale.ROOT, "random-init encoder: %.4f%n", random);
        System.out.printf(Locale.ROOT, "pretrained encoder:  %.4f   (result: %s)%naccuracy: %.4f%n", acc, out, acc);
        return 0;
    }

    /** What a resumed fine-tuning must share with the stopped one: the weights, the data and every setting. */
    private Map<String, String> identity(EvalSetup s, Finetune.Settings st) {
        Map<String, String> id = new LinkedHashMap<>();
        id.put("checkpoint", s.weights.toAbsolutePath().normalize().toString());
        id.put("config", s.loaded.config().name());
        id.put("data", s.dataDescription);
        id.put("train_images", "" + s.train.n());
        id.put("test_images", "" + s.test.n());
        for (Map.Entry<String, Object> e : st.toJson().entrySet()) id.put(e.getKey(), String.valueOf(e.getValue()));
        id.put("baseline", "" + baseline);
        if (baseline) id.put("baseline_blr", "" + baselineBlr);
        id.put("eval_each_epoch", "" + eachEpoch);
        return id;
    }
}
