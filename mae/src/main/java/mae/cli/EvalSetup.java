package mae.cli;

import mae.data.Augment;
import mae.data.Dataset;
import mae.data.Datasets;
import mae.data.Normalization;
import mae.eval.Encoders;
import mae.model.MaeConfig;
import mae.model.WeightFiles;
import mae.train.Checkpoints;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** What probe and finetune share: the checkpoint (default: the latest run), its encoder, the data and its transform. */
final class EvalSetup {
    final Path weights, resultDir;
    /** The checkpoint's encoder (null after {@link #releaseEncoder}), config and data transform. */
    Encoders.Loaded loaded;
    final Dataset train, test;
    final Augment aug;
    final int classes;
    final String dataDescription;

    EvalSetup(Path checkpoint, Path data, String config, int trainLimit) throws IOException {
        Path home = Main.home();
        Path ck = checkpoint != null ? checkpoint : latestRun(home);
        weights = Checkpoints.resolveWeights(ck);
        WeightFiles.Loaded file = WeightFiles.read(weights, WeightFiles.Options.parse(config, null));
        loaded = Encoders.load(file);
        ReconstructCommand.printNotes(file);
        MaeConfig cfg = loaded.config();
        Datasets.Split split = Datasets.load(data, home.resolve("data/fashion-mnist"), cfg.inChans(), loaded.preprocess());
        train = trainLimit > 0 && split.train().n() > trainLimit ? split.train().subset(0, trainLimit) : split.train();
        test = split.eval();
        if (train.n() == 0 || test.n() == 0) throw new IllegalArgumentException("empty dataset: " + split.description());
        Normalization norm = loaded.normalization() != null ? loaded.normalization() : Normalization.of(split.train());
        aug = new Augment(cfg.imgSize(), norm);
        int max = 0;
        for (int l : train.labels()) max = Math.max(max, l);
        for (int l : test.labels()) max = Math.max(max, l);
        classes = max + 1;
        dataDescription = split.description();
        Path parent = weights.toAbsolutePath().getParent();
        // Results go beside the run: <run>/checkpoints/step-N/weights.safetensors -> <run>.
        resultDir = parent.getParent() != null && parent.getParent().getFileName() != null
                && parent.getParent().getFileName().toString().equals("checkpoints")
                ? parent.getParent().getParent() : parent;
    }

    /** Lets the loaded encoder's weights go (its config and data transform stay). */
    void releaseEncoder() {
        loaded = new Encoders.Loaded(null, loaded.config(), loaded.normalization(), loaded.preprocess());
    }

    /**
     * --input-size (the official --input_size) names the image side the encoder takes: the checkpoint's own. Another
     * would need the position embeddings interpolated, which probe and finetune do not do.
     */
    static void requireInputSize(Integer inputSize, EvalSetup s) {
        int own = s.loaded.config().imgSize();
        if (inputSize != null && inputSize != own)
            throw new IllegalArgumentException("--input-size " + inputSize + ": the checkpoint's encoder takes " + own + " px images (its position embeddings are "
                    + own + " px's); evaluating at another size is not supported, omit --input-size or give " + own);
    }

    /**
     * What the checkpoint was pretrained with, from the run.json and state.json beside it ("fmnist, step 1400:
     * batch 64 x accum 1, blr 0.0015, mask 0.75 random, norm-pix"), or "not a run of this project".
     */
    static String pretraining(Path weights) {
        try {
            Path ck = weights.toAbsolutePath().getParent(), run = ck.getParent() != null ? ck.getParent().getParent() : null;
            if (run == null || !Files.exists(run.resolve("run.json"))) return "not a pretraining run of this project";
            mae.train.RunOptions o = mae.train.RunOptions.read(run);
            String step = ck.getFileName().toString().startsWith("step-") ? ", step " + Long.parseLong(ck.getFileName().toString().substring(5)) : "";
            return String.format(java.util.Locale.ROOT, "%s%s of %s: batch %d x accum %d, lr %.3g, mask %s %s, %s targets; run %s", o.config(), step,
                    o.maxSteps() > 0 ? o.maxSteps() + " steps" : o.epochs() + " epochs", o.batch(), o.accum(), o.peakLr(), o.maskRatio(), o.masking(),
                    o.normPix() ? "norm-pix" : "raw pixel", run.getFileName());
        } catch (IOException | RuntimeException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    static Path latestRun(Path home) throws IOException {
        Path latest = home.resolve("runs/latest");
        if (!Files.exists(latest))
            throw new IllegalArgumentException("no --checkpoint given and no runs/latest (run bin/mae pretrain first, or pass --checkpoint FILE|DIR)");
        return Path.of(Files.readString(latest, StandardCharsets.UTF_8).trim());
    }
}
