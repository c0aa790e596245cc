package mae.cli;

import mae.eval.Encoders;
import mae.eval.Finetune;
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
    @Option(names = "--checkpoint", description = "weights file, checkpoint folder or run folder (default: the run in runs/latest)")
    Path checkpoint;
    @Option(names = "--data", description = "dataset folder (default: as pretraining)") Path data;
    @Option(names = "--config", description = "config name for weights without config metadata") String config;
    @Option(names = "--train-limit", defaultValue = "10000", description = "training images used (0 = all; default: ${DEFAULT-VALUE})") int trainLimit;
    @Option(names = "--epochs", defaultValue = "" + Finetune.RECIPE_EPOCHS, description = "epochs, may be fractional (default: ${DEFAULT-VALUE})") double epochs;
    @Option(names = "--batch", defaultValue = "" + Finetune.RECIPE_BATCH, description = "default: ${DEFAULT-VALUE}") int batch;
    @Option(names = "--blr", defaultValue = "" + Finetune.RECIPE_BLR, description = "base lr, lr = blr x batch / 256 (default: ${DEFAULT-VALUE})") double blr;
    @Option(names = "--layer-decay", defaultValue = "" + Finetune.RECIPE_LAYER_DECAY, description = "layer-wise lr decay of the pretrained encoder (default: ${DEFAULT-VALUE}; the random-init baseline gets 1, none)") double layerDecay;
    @Option(names = "--warmup-epochs", defaultValue = "" + Finetune.RECIPE_WARMUP_EPOCHS, description = "linear warmup (default: ${DEFAULT-VALUE})") double warmupEpochs;
    @Option(names = "--smoothing", defaultValue = "" + Finetune.RECIPE_SMOOTHING, description = "label smoothing (default: ${DEFAULT-VALUE})") float smoothing;
    @Option(names = "--min-scale", defaultValue = "" + Finetune.RECIPE_MIN_SCALE, description = "RandomResizedCrop's smallest area fraction, 1 = no crop (default: ${DEFAULT-VALUE})") double minScale;
    @Option(names = "--flip", negatable = true, defaultValue = "" + Finetune.RECIPE_FLIP, fallbackValue = "true", description = "random horizontal flips (default: off: Fashion-MNIST's shoes all face one way)") boolean flip;
    @Option(names = "--drop-path", defaultValue = "" + Finetune.RECIPE_DROP_PATH, description = "stochastic depth of the last block (default: ${DEFAULT-VALUE})") double dropPath;
    @Option(names = "--mixup", defaultValue = "" + Finetune.RECIPE_MIXUP, description = "mixup Beta(a, a), 0 = off (default: ${DEFAULT-VALUE})") double mixup;
    @Option(names = "--weight-decay", defaultValue = "" + Finetune.RECIPE_WEIGHT_DECAY, description = "default: ${DEFAULT-VALUE}") double weightDecay;
    @Option(names = "--baseline-blr", defaultValue = "" + Finetune.RECIPE_SCRATCH_BLR, description = "base lr of the random-init baseline (default: ${DEFAULT-VALUE})") double baselineBlr;
    @Option(names = "--baseline", negatable = true, defaultValue = "true", fallbackValue = "true", description = "also fine-tune a random-init encoder the same way (default: on)") boolean baseline;
    @Option(names = "--seed", defaultValue = "0") long seed;

    @Override public Integer call() throws Exception {
        EvalSetup s = new EvalSetup(checkpoint, data, config, trainLimit);
        if (s.train.n() < batch) throw new IllegalArgumentException("--batch " + batch + " exceeds the " + s.train.n() + " training images");
        Finetune.Settings st = new Finetune.Settings(epochs, batch, blr, layerDecay, smoothing, warmupEpochs, seed, minScale, flip, dropPath, mixup, weightDecay);
        System.out.printf(Locale.ROOT, "finetune: %s (%s); train %d, test %d images; %s%n", s.weights, s.loaded.config().name(), s.train.n(), s.test.n(), st.describe());
        long t0 = System.nanoTime();
        Double random = null;
        if (baseline) {
            System.out.printf(Locale.ROOT, "random-init encoder (blr %s, no layer decay):%n", baselineBlr);
            random = Finetune.run(Encoders.create(s.loaded.config(), seed + 777), s.train, s.test, s.aug, s.classes, st.forScratch(baselineBlr), System.out);
        }
        System.out.println("pretrained encoder:");
        double acc = Finetune.run(s.loaded.encoder(), s.train, s.test, s.aug, s.classes, st, System.out);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("checkpoint", s.weights.toString()); r.put("accuracy", acc); r.put("random_init_accuracy", random == null ? Json.NULL : random);
        r.put("epochs", epochs); r.put("train_images", s.train.n()); r.put("test_images", s.test.n());
        r.put("recipe", st.toJson());
        if (baseline) r.put("baseline_recipe", st.forScratch(baselineBlr).toJson());
        r.put("seconds", Json.number("%.1f", (System.nanoTime() - t0) / 1e9));
        Path out = s.resultDir.resolve("finetune.json");
        JsonFile.write(out, r);
        if (random != null) System.out.printf(Locale.ROOT, "random-init encoder: %.4f%n", random);
        System.out.printf(Locale.ROOT, "pretrained encoder:  %.4f   (result: %s)%naccuracy: %.4f%n", acc, out, acc);
        return 0;
    }
}
