package mae.cli;

import mae.data.ImageFolder;
import mae.data.Normalization;
import mae.model.MaeModel;
import mae.model.MaskNoise;
import mae.model.Reconstruction;
import mae.model.WeightFiles;
import mae.model.Weights;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.train.Checkpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** bin/mae reconstruct: the Figure 2 grid for any image. */
@Command(name = "reconstruct", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Mask an image and reconstruct it: writes original | masked | reconstruction | + visible as a PNG.")
public final class ReconstructCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", description = "weights file, checkpoint folder or run folder (default: the run in runs/latest)") Path checkpoint;
    @Option(names = "--image", required = true, description = "PNG or JPEG of any size; resized to the model's input size (released ImageNet models: the official resize and centre crop)") Path image;
    @Range(min = 0, max = 1, maxOpen = true)
    @Option(names = "--mask-ratio", defaultValue = "0.75", description = "default: ${DEFAULT-VALUE}") double maskRatio;
    @OneOf(value = {"random", "block", "grid"}, what = "strategy")
    @Option(names = "--masking", defaultValue = "random", description = "random, block or grid (default: ${DEFAULT-VALUE})") String masking;
    @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
    @Option(names = "--seed", defaultValue = "0", description = "seed of the masking noise (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--out", description = "PNG to write (default: <image name>-reconstruction.png beside the image)") Path out;
    @OneOf(configs = true)
    @Option(names = "--config", description = "for a file without a config: " + Configs.KNOWN + ", or a JSON file of config keys (e.g. a Hugging Face config.json); default: the file's own") String config;
    @Option(names = "--norm-pix", negatable = true, description = "the decoder predicts per-patch normalized pixels (default: what the file says, else its family's released value)") Boolean normPix;

    @Override public Integer call() throws Exception {
        Path weights = Checkpoints.resolveWeights(checkpoint != null ? checkpoint : EvalSetup.latestRun(Main.home()));
        if (!Files.isRegularFile(image))
            throw new IllegalArgumentException("--image " + image + (Files.isDirectory(image) ? " is a directory, not an image file" : " does not exist"));
        long t0 = System.nanoTime();
        WeightFiles.Loaded f = WeightFiles.read(weights, WeightFiles.Options.parse(config, normPix));
        MaeModel model = Weights.load(f);
        long t1 = System.nanoTime();
        printNotes(f);
        Normalization norm = f.normalization();
        int C = model.cfg.inChans(), S = model.cfg.imgSize();
        if (norm == null) norm = C == 3 ? Normalization.IMAGENET : new Normalization(new float[]{0.5f}, new float[]{0.5f});
        ImageFolder.Picture pic = ImageFolder.read(image, C);
        String note = f.preprocess().describe(pic.width(), pic.height());
        if (note != null && f.preprocess().crops()) System.out.println("note: " + note);
        float[] px = f.preprocess().apply(pic.chw(), C, pic.height(), pic.width());   // [0, 1], size x size
        for (int c = 0; c < C; c++)
            for (int i = 0; i < S * S; i++) px[c * S * S + i] = (px[c * S * S + i] - norm.mean()[c]) / norm.std()[c];
        Tensor noise = MaskNoise.parse(masking).noise(new Rng(seed), 1, model.cfg.grid(), maskRatio);
        long t2 = System.nanoTime();
        Reconstruction.Pictures p = Reconstruction.of(model, Tensor.of(px, 1, C, S, S), noise, maskRatio, norm);
        long t3 = System.nanoTime();
        Path o = out != null ? out : image.toAbsolutePath().resolveSibling(image.getFileName().toString().replaceFirst("\\.[^.]*$", "") + "-reconstruction.png");
        String step = weights.getParent() != null && weights.getParent().getFileName() != null
                && weights.getParent().getFileName().toString().matches("step-\\d+") ? " at " + weights.getParent().getFileName() : "";
        Reconstruction.write(o, p, Reconstruction.caption(image.getFileName() + ", " + model.cfg.name() + step, maskRatio, masking, p.loss(), model.cfg.normPixLoss()));
        System.out.printf(Locale.ROOT, "loss on removed patches: %.4f%n", p.loss());
        System.out.printf(Locale.ROOT, "time: load %.1f s, image %.1f s, forward %.1f s, picture %.1f s%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9,
                (t3 - t2) / 1e9, (System.nanoTime() - t3) / 1e9);
        System.out.printf("wrote %s%n", o);
        return 0;
    }

    /** For a released file: what it was read as and what was inferred. */
    static void printNotes(WeightFiles.Loaded f) {
        if (f.source().startsWith("this engine")) { f.notes().forEach(n -> System.out.println("note: " + n)); return; }
        System.out.println("model: " + WeightFiles.describe(f.config(), f.hasDecoder()) + " (" + f.source() + ")");
        f.notes().forEach(n -> System.out.println("note: " + n));
    }
}
