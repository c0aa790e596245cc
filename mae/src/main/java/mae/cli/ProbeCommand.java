package mae.cli;

import mae.eval.Encoders;
import mae.eval.Features;
import mae.eval.Knn;
import mae.eval.LinearProbe;
import mae.io.JsonFile;
import mae.tensor.io.Json;
import mae.vit.VisionTransformer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** bin/mae probe: top-1 accuracy from frozen encoder features, beside the same protocol on a random-init encoder. */
@Command(name = "probe", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate a pretrained encoder on frozen features: linear probe (the paper's protocol) or kNN.",
                "Prints the random-init baseline beside it; the last line is 'accuracy: X'."})
public final class ProbeCommand implements Callable<Integer> {
    // Options also answer to the official main_linprobe.py names (--batch_size, --finetune, ...), with the same meaning and units.
    @Option(names = {"--checkpoint", "--finetune"}, description = "weights file, checkpoint folder or run folder (default: the run in runs/latest)")
    Path checkpoint;
    @OneOf(value = {"linear", "knn"}, what = "method")
    @Option(names = "--method", defaultValue = "linear", description = "linear or knn (default: ${DEFAULT-VALUE})")
    String method;
    @Option(names = {"--data", "--data_path"}, description = "dataset folder (default: as pretraining)")
    Path data;
    @OneOf(configs = true)
    @Option(names = {"--config", "--model"}, converter = Configs.Name.class, description = "config of weights without config metadata: " + Configs.KNOWN + ", or a JSON file of config keys (e.g. a Hugging Face config.json); default: the checkpoint's own")
    String config;
    @Range(min = 0, max = Integer.MAX_VALUE, note = "0 = all")
    @Option(names = "--train-limit", defaultValue = "10000", description = "training images used (0 = all; default: ${DEFAULT-VALUE})")
    int trainLimit;
    @Range(min = 1, max = 100_000)
    @Option(names = "--epochs", defaultValue = "30", description = "linear probe epochs (default: ${DEFAULT-VALUE})")
    int epochs;
    @Range(min = 0, minOpen = true, max = Double.MAX_VALUE)
    @Option(names = "--blr", defaultValue = "1.0", description = "linear probe base lr, lr = blr x batch / 256 (default: ${DEFAULT-VALUE}; plain SGD needs more than the paper's LARS blr 0.1: at 0.1 the head underfits)")
    double blr;
    @Range(min = 0, minOpen = true, max = Double.MAX_VALUE)
    @Option(names = "--lr", description = "absolute linear probe lr; overrides --blr (default: from --blr)")
    Double lr;
    @Range(min = 0, max = Double.MAX_VALUE)
    @Option(names = {"--min-lr", "--min_lr"}, defaultValue = "0", description = "lr the cosine decays to (default: ${DEFAULT-VALUE})")
    double minLr;
    @Range(min = 0, max = Double.MAX_VALUE)
    @Option(names = {"--weight-decay", "--weight_decay"}, defaultValue = "0", description = "weight decay of the linear head (default: ${DEFAULT-VALUE}, as the paper's probe)")
    double weightDecay;
    @Range(min = 0, max = 100_000)
    @Option(names = {"--warmup-epochs", "--warmup_epochs"}, description = "linear warmup in epochs (default: a tenth of --epochs, at least 1)")
    Integer warmupEpochs;
    @Range(min = 1, max = mae.model.MaeConfig.MAX_IMG_SIZE)
    @Option(names = {"--input-size", "--input_size"}, description = "image side the encoder takes; must be the checkpoint's (default: the checkpoint's)")
    Integer inputSize;
    @Range(min = 1, max = 65_536)
    @Option(names = {"--batch", "--batch_size"}, defaultValue = "256", description = "linear probe batch (default: ${DEFAULT-VALUE})") int batch;
    @Range(min = 1, max = 100_000)
    @Option(names = "--k", defaultValue = "20", description = "kNN neighbours (default: ${DEFAULT-VALUE})") int k;
    @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
    @Option(names = "--seed", defaultValue = "0", description = "seed of the head's initialization and the batch order (default: ${DEFAULT-VALUE})") long seed;
    @OneOf(value = {"cls", "mean"}, what = "feature")
    @Option(names = "--feature", description = "cls or mean (of the patch tokens); default: cls for linear (the paper's), mean for knn")
    String feature;

    @Override public Integer call() throws Exception {
        method = method.toLowerCase(java.util.Locale.ROOT);         // checked by @OneOf before call()
        EvalSetup s = new EvalSetup(checkpoint, data, config, trainLimit);
        EvalSetup.requireInputSize(inputSize, s);
        if (method.equals("knn") && k > s.train.n())                  // needs the data, still before any work
            throw new IllegalArgumentException("--k " + k + " is more than the " + s.train.n() + " training images (the kNN memory bank)");
        System.out.printf("probe %s: %s (%s); train %d, test %d images%n", method, s.weights, s.loaded.config().name(), s.train.n(), s.test.n());
        long t0 = System.nanoTime();
        // a fine-tuned classifier's encoder (global pool) was trained for the pooled feature: that is its default
        Features.Kind kind = feature != null ? Features.Kind.parse(feature)
                : method.equals("knn") || s.loaded.encoder().globalPool() ? Features.Kind.MEAN : Features.Kind.CLS;
        double acc = evaluate(s, s.loaded.encoder(), kind);
        s.releaseEncoder();    // before the random-init twin is made: a ViT-L and its twin need not share the heap
        double random = evaluate(s, Encoders.create(s.loaded.config(), seed + 777), kind);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("method", method); r.put("checkpoint", s.weights.toString()); r.put("accuracy", acc);
        r.put("random_init_accuracy", random); r.put("train_images", s.train.n()); r.put("test_images", s.test.n());
        r.put("data", s.dataDescription); r.put("seconds", Json.number("%.1f", (System.nanoTime() - t0) / 1e9));
        Path out = s.resultDir.resolve("probe-" + method + ".json");
        JsonFile.write(out, r);
        System.out.println("results:             " + Results.write(Main.home(), results(s, acc, random, (System.nanoTime() - t0) / 1e9)));
        System.out.printf(Locale.ROOT, "random-init encoder: %.4f%n", random);
        System.out.printf(Locale.ROOT, "pretrained encoder:  %.4f   (result: %s)%n", acc, out);
        System.out.printf(Locale.ROOT, "accuracy: %.4f%n", acc);
        return 0;
    }

    private double evaluate(EvalSetup s, VisionTransformer enc, Features.Kind kind) {
        int D = enc.dim;
        String which = enc == s.loaded.encoder() ? "pretrained encoder" : "random-init encoder";
        float[] ftrain = Features.of(kind, enc, s.train, s.aug, 256, "features, " + which + ", training images"),
                ftest = Features.of(kind, enc, s.test, s.aug, 256, "features, " + which + ", test images");
        if (method.equals("knn")) return Knn.accuracy(ftrain, s.train.labels(), ftest, s.test.labels(), D, k, 0.07, s.classes);
        return LinearProbe.run(ftrain, s.train.labels(), ftest, s.test.labels(), D, s.classes,
                new LinearProbe.Settings(epochs, Math.min(batch, s.train.n()), lr != null ? lr : blr * batch / 256,
                        warmupEpochs != null ? warmupEpochs : Math.max(1, epochs / 10), seed, weightDecay, minLr));
    }

    /** The results file's content: both accuracies, the protocol, and what the checkpoint was pretrained with. */
    private Results.Entry results(EvalSetup s, double acc, double random, double seconds) {
        Results.Entry e = new Results.Entry("probe-" + method, String.format(Locale.ROOT, "probe %s: accuracy %.4f, random-init encoder %.4f", method, acc, random));
        e.number("accuracy", "accuracy, pretrained encoder", acc).number("random_init_accuracy", "accuracy, random-init encoder (same protocol)", random);
        e.wallSeconds = seconds;
        e.setting("checkpoint", s.weights.toString()).setting("config", s.loaded.config().name()).setting("pretraining", EvalSetup.pretraining(s.weights))
                .setting("method", method).setting("feature", feature != null ? feature : method.equals("knn") ? "mean" : "cls");
        if (method.equals("knn")) e.setting("k", k).setting("temperature", 0.07);
        else e.setting("epochs", epochs).setting("batch", Math.min(batch, s.train.n())).setting("lr", lr != null ? lr : blr * batch / 256)
                .setting("warmup_epochs", warmupEpochs != null ? warmupEpochs : Math.max(1, epochs / 10)).setting("weight_decay", weightDecay).setting("min_lr", minLr);
        return e.setting("train_images", s.train.n()).setting("test_images", s.test.n()).setting("data", s.dataDescription).setting("seed", seed);
    }
}
