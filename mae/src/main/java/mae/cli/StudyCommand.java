package mae.cli;

import mae.eval.Finetune;
import mae.study.Claim;
import mae.study.Study;
import mae.study.StudyOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/** bin/mae study: the paper's claims measured, a grid of short pretraining runs with the same budget each. */
@Command(name = "study", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure the MAE paper's claims: a grid of pretraining runs with the same step budget each (mask ratio, decoder depth,"
                + " targets, masking), each scored by fine-tuning, linear probe and kNN on the same held-out images, a from-scratch baseline"
                + " with the same total compute, and the speed of encoding only the visible patches.",
                "Writes tables (markdown, JSON), charts and OUT/index.html. Runs that exist are reused and a killed run resumes from its"
                        + " checkpoint: to continue a study, run the same command again."})
public final class StudyCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--out", description = "study folder (default: runs/study); its runs are under OUT/runs")
    Path out;
    @Option(names = "--publish", description = "also copy the results (page, tables, charts, pictures; not the run folders) into this folder, e.g. docs/study (default: none)")
    Path publish;
    @OneOf(configs = true)
    @Option(names = "--config", defaultValue = "fmnist", description = "model config of every run: " + Configs.KNOWN + " (default: ${DEFAULT-VALUE})")
    String config;
    @Option(names = "--data", description = "dataset folder; default: /usr/share/datasets/fashion-mnist if present, else the embedded copy")
    Path data;
    @Range(min = 1, max = 1_000_000_000)
    @Option(names = "--budget", defaultValue = "1400", description = "pretraining steps of every run (default: ${DEFAULT-VALUE}, as bin/mae pretrain)")
    int budget;
    @Range(min = 1, max = 65_536)
    @Option(names = "--batch", defaultValue = "64", description = "pretraining batch (default: ${DEFAULT-VALUE})")
    int batch;
    @Range(min = 0, minOpen = true, max = Double.MAX_VALUE)
    @Option(names = "--blr", defaultValue = "1.5e-3", description = "pretraining base lr (default: ${DEFAULT-VALUE})")
    double blr;
    @Range(min = 1, max = 100)
    @Option(names = "--seeds", defaultValue = "1", description = "runs per variant, for a spread in the tables (default: ${DEFAULT-VALUE})")
    int seeds;
    @OneOf(value = {"mask-ratio", "decoder-depth", "targets", "masking", "scratch", "speed"}, what = "claim")
    @Option(names = "--claims", split = ",", defaultValue = "mask-ratio,decoder-depth,targets,masking,scratch,speed",
            description = "which claims to measure (default: ${DEFAULT-VALUE})")
    List<String> claims;
    @Range(min = 0, max = 1, maxOpen = true)
    @Option(names = "--mask-ratios", split = ",", defaultValue = "0.25,0.5,0.75,0.9", description = "default: ${DEFAULT-VALUE}")
    List<Double> maskRatios;
    @Range(min = 1, max = 64)
    @Option(names = "--decoder-depths", split = ",", defaultValue = "1,2,4", description = "default: ${DEFAULT-VALUE}")
    List<Integer> decoderDepths;
    @OneOf(value = {"on", "off"}, what = "target")
    @Option(names = "--norm-pix", split = ",", defaultValue = "on,off", description = "targets: on (normalized per patch), off (raw pixels); default: ${DEFAULT-VALUE}")
    List<String> normPix;
    @OneOf(value = {"random", "block", "grid"}, what = "strategy")
    @Option(names = "--masking", split = ",", defaultValue = "random,block,grid", description = "default: ${DEFAULT-VALUE}")
    List<String> maskings;

    @Range(min = 0, minOpen = true, max = 100_000)
    @Option(names = "--ft-epochs", defaultValue = "" + Finetune.RECIPE_EPOCHS, description = "fine-tuning epochs (default: ${DEFAULT-VALUE})") double ftEpochs;
    @Range(min = 1, max = 65_536)
    @Option(names = "--ft-batch", defaultValue = "" + Finetune.RECIPE_BATCH, description = "default: ${DEFAULT-VALUE}") int ftBatch;
    @Range(min = 0, minOpen = true, max = Double.MAX_VALUE)
    @Option(names = "--ft-blr", defaultValue = "" + Finetune.RECIPE_BLR, description = "default: ${DEFAULT-VALUE}") double ftBlr;
    @Range(min = 0, minOpen = true, max = 1)
    @Option(names = "--ft-layer-decay", defaultValue = "" + Finetune.RECIPE_LAYER_DECAY, description = "default: ${DEFAULT-VALUE} (from scratch: 1)") double ftLayerDecay;
    @Range(min = 0, max = 100_000)
    @Option(names = "--ft-warmup-epochs", defaultValue = "" + Finetune.RECIPE_WARMUP_EPOCHS, description = "default: ${DEFAULT-VALUE}") double ftWarmup;
    @Range(min = 0, minOpen = true, max = 1)
    @Option(names = "--ft-min-scale", defaultValue = "" + Finetune.RECIPE_MIN_SCALE, description = "crop scale lower bound (default: ${DEFAULT-VALUE})") double ftMinScale;
    @Option(names = "--ft-flip", negatable = true, defaultValue = "" + Finetune.RECIPE_FLIP, fallbackValue = "true", description = "random flips (default: off)") boolean ftFlip;
    @Range(min = 0, max = Finetune.MAX_TRANSLATE)
    @Option(names = "--ft-translate", defaultValue = "" + Finetune.RECIPE_TRANSLATE, description = "random shifts of up to N pixels (default: ${DEFAULT-VALUE})") int ftTranslate;
    @Range(min = 0, max = 1, maxOpen = true)
    @Option(names = "--ft-drop-path", defaultValue = "" + Finetune.RECIPE_DROP_PATH, description = "default: ${DEFAULT-VALUE}") double ftDropPath;
    @Range(min = 0, max = 100)
    @Option(names = "--ft-mixup", defaultValue = "" + Finetune.RECIPE_MIXUP, description = "default: ${DEFAULT-VALUE}") double ftMixup;
    @Range(min = 0, minOpen = true, max = Double.MAX_VALUE)
    @Option(names = "--scratch-blr", defaultValue = "" + Finetune.RECIPE_SCRATCH_BLR, description = "base lr of the from-scratch baseline (default: ${DEFAULT-VALUE}; no layer decay)") double scratchBlr;
    @Range(min = 0, max = Integer.MAX_VALUE, note = "0 = all")
    @Option(names = "--ft-train-limit", defaultValue = "10000", description = "fine-tuning training images, 0 = all (default: ${DEFAULT-VALUE})") int ftTrainLimit;
    @Range(min = 1, max = 100_000)
    @Option(names = "--probe-epochs", defaultValue = "30", description = "linear probe epochs (default: ${DEFAULT-VALUE})") int probeEpochs;
    @Range(min = 0, max = Integer.MAX_VALUE, note = "0 = all")
    @Option(names = "--probe-train-limit", defaultValue = "10000", description = "linear probe training images, 0 = all (default: ${DEFAULT-VALUE})") int probeTrainLimit;
    @Range(min = 0, max = Integer.MAX_VALUE, note = "0 = all")
    @Option(names = "--knn-bank", defaultValue = "10000", description = "kNN memory bank, 0 = all training images (default: ${DEFAULT-VALUE})") int knnBank;
    @Range(min = 0, max = Integer.MAX_VALUE, note = "0 = all")
    @Option(names = "--eval-limit", defaultValue = "0", description = "held-out images scored, 0 = all (default: ${DEFAULT-VALUE})") int evalLimit;
    @Range(min = 1, max = 100_000)
    @Option(names = "--speed-steps", defaultValue = "10", description = "timed steps per setting in the speed check (default: ${DEFAULT-VALUE})") int speedSteps;

    @Override public Integer call() throws Exception {
        Set<Claim> cs = EnumSet.noneOf(Claim.class);
        for (String c : claims) cs.add(Claim.parse(c));
        List<Boolean> np = new ArrayList<>();
        for (String s : normPix) {
            switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "on", "true", "norm" -> np.add(true);
                case "off", "false", "raw" -> np.add(false);
                default -> throw new IllegalArgumentException("--norm-pix: '" + s + "' is not on or off");
            }
        }
        Finetune.Settings ft = Finetune.Settings.pretrained().withEpochs(ftEpochs).withBatch(ftBatch).withBlr(ftBlr).withLayerDecay(ftLayerDecay)
                .withWarmupEpochs(ftWarmup).withMinScale(ftMinScale).withFlip(ftFlip).withDropPath(ftDropPath).withMixup(ftMixup).withTranslate(ftTranslate);
        Path home = Main.home();
        StudyOptions o = new StudyOptions(config, data, out != null ? out : home.resolve("runs/study"), budget, batch, blr, seeds,
                maskRatios, decoderDepths, np, maskings, cs, ft, ft.forScratch(scratchBlr), ftTrainLimit, probeEpochs, probeTrainLimit, knnBank, evalLimit, speedSteps);
        new Study(o, home, System.out, spec.commandLine().getParseResult().originalArgs()).run(publish);
        return 0;
    }
}
