package mae.cli;

import mae.data.Datasets;
import mae.data.Normalization;
import mae.explain.Explainer;
import mae.explain.Report;
import mae.model.MaeConfig;
import mae.model.WeightFiles;
import mae.model.MaskNoise;
import mae.train.Checkpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** bin/mae explain: an HTML report that walks one image through the MAE, stage by stage, with the run's numbers. */
@Command(name = "explain", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Walk one image through the MAE and write a self-contained HTML report (DIR/index.html and its pictures): "
                + "patches, masking, each stage's shape and multiply-adds, attention maps, reconstruction, per-patch loss, several mask ratios.")
public final class ExplainCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", description = "weights file, checkpoint folder or run folder (default: the run in runs/latest)") Path checkpoint;
    @Option(names = "--image", description = "PNG or JPEG; resized to the model's input size (with a note) (default: --index)") Path image;
    @Range(min = 0, max = Integer.MAX_VALUE)
    @Option(names = "--index", description = "the K-th image of the evaluation split instead of --image (default: 0)") Integer index;
    @Option(names = "--data", description = "data folder for --index (default: the Fashion-MNIST the other commands use)") Path data;
    @Range(min = 0, max = 1, maxOpen = true)
    @Option(names = "--mask-ratio", defaultValue = "0.75", description = "default: ${DEFAULT-VALUE}") double maskRatio;
    @OneOf(value = {"random", "block", "grid"}, what = "strategy")
    @Option(names = "--masking", split = ",", defaultValue = "random", description = "random, block, grid, or several separated by commas; the first drives the walk-through (default: ${DEFAULT-VALUE})") List<String> masking;
    @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE)
    @Option(names = "--seed", defaultValue = "0", description = "seed of the masking noise (default: ${DEFAULT-VALUE})") long seed;
    @Range(min = -1, max = MaeConfig.MAX_DEPTH - 1, note = "-1 = the last block")
    @Option(names = "--block", defaultValue = "-1", description = "encoder block of the attention maps (default: the last)") int block;
    @Range(min = 0, max = MaeConfig.MAX_WIDTH - 1)
    @Option(names = "--head", defaultValue = "0", description = "attention head shown alone (default: ${DEFAULT-VALUE})") int head;
    @OneOf(configs = true)
    @Option(names = "--config", description = "config of a checkpoint without config metadata: " + Configs.KNOWN + ", or a JSON file of config keys (e.g. a Hugging Face config.json); default: the checkpoint's own") String config;
    @Option(names = "--norm-pix", negatable = true, description = "the decoder predicts per-patch normalized pixels (default: what the file says, else its family's released value)") Boolean normPix;
    @Option(names = "--out", required = true, description = "report folder (index.html and PNGs)") Path out;

    @Override public Integer call() throws Exception {
        if (image != null && index != null) throw new IllegalArgumentException("pass --image or --index, not both");
        Path weights = Checkpoints.resolveWeights(checkpoint != null ? checkpoint : EvalSetup.latestRun(Main.home()));
        long t0 = System.nanoTime();
        WeightFiles.Loaded file = WeightFiles.read(weights, WeightFiles.Options.parse(config, normPix));
        Explainer.Checkpoint ck = Explainer.load(file);
        System.out.printf(Locale.ROOT, "loaded %s in %.1f s%n", weights, (System.nanoTime() - t0) / 1e9);
        ReconstructCommand.printNotes(file);
        List<String> notes = new ArrayList<>(ck.notes());
        Normalization norm = ck.normalization();
        Datasets.Split split = image == null || norm == null ? split(ck.cfg(), image == null, notes) : null;
        if (norm == null) norm = normalization(ck.cfg(), split, notes);
        Explainer.Subject subject = image != null ? Explainer.image(image, ck.cfg(), norm, ck.preprocess())
                : Explainer.datasetImage(split.eval(), index == null ? 0 : index, ck.cfg(), norm);
        long t1 = System.nanoTime();
        Explainer.Explanation e = Explainer.explain(ck, withNotes(subject, notes), norm, new Explainer.Request(maskRatio, strategies(), seed, block, head));
        long t2 = System.nanoTime();
        Path html = Report.write(e, out);
        System.out.printf(Locale.ROOT, "time: load %.1f s, forward passes %.1f s, report %.1f s%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9, (System.nanoTime() - t2) / 1e9);
        System.out.printf("encoder multiply-adds: %,d (visible patches) vs %,d (all patches)%nwrote %s%n",
                e.main().macs("encoder"), e.encoderMacsAllPatches(), html);
        return 0;
    }

    /** The data, needed for --index and for a checkpoint without normalization metadata (optional then). */
    private Datasets.Split split(MaeConfig cfg, boolean required, List<String> notes) throws IOException {
        try {
            return Datasets.load(data, Main.home().resolve("data/fashion-mnist"), cfg.inChans(), cfg.imgSize());
        } catch (IOException | RuntimeException ex) {
            if (required) throw ex;
            notes.add("No data to compute the normalization from (" + ex.getMessage() + ").");
            return null;
        }
    }

    private static Normalization normalization(MaeConfig cfg, Datasets.Split split, List<String> notes) {
        if (split != null) {
            notes.add("The checkpoint carries no normalization; mean and std were computed from " + split.train().source() + ".");
            return Normalization.of(split.train());
        }
        notes.add("The checkpoint carries no normalization; the default was used (ImageNet's for RGB, 0.5/0.5 for gray).");
        return cfg.inChans() == 3 ? Normalization.IMAGENET : new Normalization(new float[]{0.5f}, new float[]{0.5f});
    }

    private static Explainer.Subject withNotes(Explainer.Subject s, List<String> notes) {
        List<String> all = new ArrayList<>(s.notes());
        all.addAll(notes);
        return new Explainer.Subject(s.input(), s.pixels(), s.source(), all);
    }

    private List<MaskNoise> strategies() {
        List<MaskNoise> list = new ArrayList<>();
        for (String m : masking) if (!list.contains(MaskNoise.parse(m.trim()))) list.add(MaskNoise.parse(m.trim()));
        return list;
    }
}
