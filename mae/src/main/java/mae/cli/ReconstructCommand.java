package mae.cli;

import mae.data.ImageFolder;
import mae.data.Normalization;
import mae.model.MaeModel;
import mae.model.MaskNoise;
import mae.model.Reconstruction;
import mae.model.Weights;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.tensor.io.Safetensors;
import mae.train.Checkpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** bin/mae reconstruct: the Figure 2 grid for any image. */
@Command(name = "reconstruct", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Mask an image and reconstruct it: writes original | masked | reconstruction | + visible as a PNG.")
public final class ReconstructCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", description = "weights file, checkpoint folder or run folder (default: the run in runs/latest)") Path checkpoint;
    @Option(names = "--image", required = true, description = "PNG or JPEG; resized to the model's input size") Path image;
    @Range(min = 0, max = 1, maxOpen = true)
    @Option(names = "--mask-ratio", defaultValue = "0.75", description = "default: ${DEFAULT-VALUE}") double maskRatio;
    @OneOf(value = {"random", "block", "grid"}, what = "strategy")
    @Option(names = "--masking", defaultValue = "random", description = "random, block or grid (default: ${DEFAULT-VALUE})") String masking;
    @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
    @Option(names = "--seed", defaultValue = "0", description = "seed of the masking noise (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--out", description = "PNG to write (default: <image name>-reconstruction.png beside the image)") Path out;

    @Override public Integer call() throws Exception {
        Path weights = Checkpoints.resolveWeights(checkpoint != null ? checkpoint : EvalSetup.latestRun(Main.home()));
        if (!Files.isRegularFile(image))
            throw new IllegalArgumentException("--image " + image + (Files.isDirectory(image) ? " is a directory, not an image file" : " does not exist"));
        MaeModel model = Weights.load(weights, null);
        Normalization norm = Normalization.fromMetadata(Safetensors.read(weights).metadata(), weights.toString(), model.cfg.inChans());
        int C = model.cfg.inChans(), S = model.cfg.imgSize();
        if (norm == null) norm = C == 3 ? Normalization.IMAGENET : new Normalization(new float[]{0.5f}, new float[]{0.5f});
        float[] px = ImageFolder.decode(image, C, S, S);                       // [0, 1], resized
        for (int c = 0; c < C; c++)
            for (int i = 0; i < S * S; i++) px[c * S * S + i] = (px[c * S * S + i] - norm.mean()[c]) / norm.std()[c];
        Tensor noise = MaskNoise.parse(masking).noise(new Rng(seed), 1, model.cfg.grid(), maskRatio);
        Reconstruction.Pictures p = Reconstruction.of(model, Tensor.of(px, 1, C, S, S), noise, maskRatio, norm);
        Path o = out != null ? out : image.toAbsolutePath().resolveSibling(image.getFileName().toString().replaceFirst("\\.[^.]*$", "") + "-reconstruction.png");
        String step = weights.getParent() != null && weights.getParent().getFileName() != null
                && weights.getParent().getFileName().toString().matches("step-\\d+") ? " at " + weights.getParent().getFileName() : "";
        Reconstruction.write(o, p, Reconstruction.caption(image.getFileName() + ", " + model.cfg.name() + step, maskRatio, masking, p.loss(), model.cfg.normPixLoss()));
        System.out.printf("loss on removed patches: %.4f%nwrote %s%n", p.loss(), o);
        return 0;
    }
}
