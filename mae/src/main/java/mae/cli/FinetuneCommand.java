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
    @OneOf(configs = true)
    @Option(names = "--config", description = "for weights without config metadata: a config name, or a JSON file of config keys (e.g. a Hugging Face config.json)") String config;
    @Range(min = 0, max = Integer.MAX_VALUE, note = "0 = all")
    @Option(names = "--train-limit", defaultValue = "10000", description = "training images used (0 = all; default: ${DEFAULT-VALUE})") int trainLimit;
    @Range(min = 1, max = 100_000)
    @Option(names = "--epochs", defaultValue = "2", description = "default: ${DEFAULT-VALUE}") int epochs;
    @Range(min = 1, max = 65_536)
    @Option(names = "--batch", defaultValue = "128", description = "default: ${DEFAULT-VALUE}") int batch;
    @Range(min = 0, minOpen = true, max = Double.MAX_VALUE)
    @Option(names = "--blr", defaultValue = "1e-3", description = "base lr, lr = blr x batch / 256 (default: ${DEFAULT-VALUE})") double blr;
    @Range(min = 0, minOpen = true, max = 1)
    @Option(names = "--layer-decay", defaultValue = "0.75", description = "layer-wise lr decay (default: ${DEFAULT-VALUE})") double layerDecay;
    @Range(min = 0, max = 1, maxOpen = true)
    @Option(names = "--smoothing", defaultValue = "0.1", description = "label smoothing (default: ${DEFAULT-VALUE})") float smoothing;
    @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
    @Option(names = "--seed", defaultValue = "0") long seed;

    @Override public Integer call() throws Exception {
        EvalSetup s = new EvalSetup(checkpoint, data, config, trainLimit);
        if (s.train.n() < batch) throw new IllegalArgumentException("--batch " + batch + " exceeds the " + s.train.n() + " training images");
        System.out.printf("finetune: %s (%s); train %d, test %d images, %d epochs%n", s.weights, s.loaded.config().name(), s.train.n(), s.test.n(), epochs);
        Finetune.Settings st = new Finetune.Settings(epochs, batch, blr, layerDecay, smoothing, Math.min(1, epochs / 5.0), seed);
        long t0 = System.nanoTime();
        System.out.println("random-init encoder:");
        double random = Finetune.run(Encoders.create(s.loaded.config(), seed + 777), s.train, s.test, s.aug, s.classes, st, System.out);
        System.out.println("pretrained encoder:");
        double acc = Finetune.run(s.loaded.encoder(), s.train, s.test, s.aug, s.classes, st, System.out);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("checkpoint", s.weights.toString()); r.put("accuracy", acc); r.put("random_init_accuracy", random);
        r.put("epochs", epochs); r.put("train_images", s.train.n()); r.put("test_images", s.test.n());
        r.put("seconds", Json.number("%.1f", (System.nanoTime() - t0) / 1e9));
        Path out = s.resultDir.resolve("finetune.json");
        JsonFile.write(out, r);
        System.out.printf(Locale.ROOT, "random-init encoder: %.4f%npretrained encoder:  %.4f   (result: %s)%naccuracy: %.4f%n", random, acc, out, acc);
        return 0;
    }
}
