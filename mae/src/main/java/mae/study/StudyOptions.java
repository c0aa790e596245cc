package mae.study;

import mae.eval.Finetune;
import mae.model.MaeConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.LinkedHashMap;
import java.util.Set;

/**
 * What a study runs: the grid (one list per claim), the pretraining budget of every run, the seeds, and the one
 * evaluation protocol every run gets (fine-tuning recipe, linear probe, kNN), all on the same held-out images.
 *
 * @param finetune     the fine-tuning recipe of the pretrained encoders; scratchFinetune that of the from-scratch baseline
 *                     (the same schedule, its own lr, no layer decay; the same-compute row lengthens it)
 * @param budget       optimizer steps of every pretraining run (the same compute budget for each variant)
 * @param seeds        runs per variant, seeds 0 .. seeds - 1
 * @param ftTrainLimit training images for fine-tuning (0 = all); probeTrainLimit likewise for the linear probe,
 *                     knnBank for the kNN memory bank; evalLimit held-out images evaluated (0 = all)
 * @param speedSteps   timed steps per setting in the speed check
 */
public record StudyOptions(String config, Path data, Path out, int budget, int batch, double blr, int seeds,
                           List<Double> maskRatios, List<Integer> decoderDepths, List<Boolean> normPix, List<String> maskings,
                           Set<Claim> claims, Finetune.Settings finetune, Finetune.Settings scratchFinetune, int ftTrainLimit, int probeEpochs, int probeTrainLimit,
                           int knnBank, int evalLimit, int speedSteps) {
    /** The base of every ablation: mask 0.75, the config's decoder depth, norm-pix targets, random masking. */
    public static final double BASE_RATIO = 0.75;
    /** The linear probe's lr (bin/mae probe's default, blr 1.0 at batch 256) and the kNN's k and temperature (as bin/mae probe). */
    static final double LINEAR_LR = 1.0, KNN_T = 0.07;
    static final int KNN_K = 20;

    public StudyOptions {
        MaeConfig.named(config);
        if (budget < 1) throw new IllegalArgumentException("--budget must be at least 1 step, got " + budget);
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (!(blr > 0)) throw new IllegalArgumentException("--blr must be positive, got " + blr);
        if (seeds < 1 || seeds > 100) throw new IllegalArgumentException("--seeds must lie in 1..100, got " + seeds);
        if (claims.isEmpty()) throw new IllegalArgumentException("--claims names no claim");
        if (ftTrainLimit < 0 || probeTrainLimit < 0 || knnBank < 0 || evalLimit < 0)
            throw new IllegalArgumentException("image limits must not be negative (0 = all)");
        if (probeEpochs < 1) throw new IllegalArgumentException("--probe-epochs must be at least 1, got " + probeEpochs);
        if (speedSteps < 1) throw new IllegalArgumentException("--speed-steps must be at least 1, got " + speedSteps);
        MaeConfig cfg = MaeConfig.named(config);
        for (double r : maskRatios)
            if (!(r > 0 && r < 1) || cfg.lenKeep(r) < 1 || cfg.lenKeep(r) >= cfg.numPatches())
                throw new IllegalArgumentException("--mask-ratios: " + r + " keeps " + cfg.lenKeep(r) + " of " + cfg.numPatches() + " patches (need at least one kept and one removed)");
        for (int d : decoderDepths) if (d < 1 || d > 32) throw new IllegalArgumentException("--decoder-depths: " + d + " is outside 1..32");
        for (String m : maskings) mae.model.MaskNoise.parse(m);
        if (claims.contains(Claim.MASK_RATIO) && maskRatios.isEmpty()) throw new IllegalArgumentException("--mask-ratios is empty");
        if (claims.contains(Claim.DECODER_DEPTH) && decoderDepths.isEmpty()) throw new IllegalArgumentException("--decoder-depths is empty");
        if (claims.contains(Claim.TARGETS) && normPix.isEmpty()) throw new IllegalArgumentException("--norm-pix is empty");
        if (claims.contains(Claim.MASKING) && maskings.isEmpty()) throw new IllegalArgumentException("--masking is empty");
        maskRatios = List.copyOf(maskRatios);
        decoderDepths = List.copyOf(decoderDepths);
        normPix = List.copyOf(normPix);
        maskings = List.copyOf(maskings);
        claims = Set.copyOf(EnumSet.copyOf(claims));
    }

    public MaeConfig baseConfig() { return MaeConfig.named(config); }

    public Variant base() { return new Variant(BASE_RATIO, baseConfig().decoderDepth(), true, "random"); }

    /** The rows of a claim's table (scratch: the MAE row; speed: none). */
    public List<Variant> variants(Claim c) {
        Variant b = base();
        List<Variant> v = new ArrayList<>();
        switch (c) {
            case MASK_RATIO -> maskRatios.forEach(r -> v.add(b.withMaskRatio(r)));
            case DECODER_DEPTH -> decoderDepths.forEach(d -> v.add(b.withDecoderDepth(d)));
            case TARGETS -> normPix.forEach(n -> v.add(b.withNormPix(n)));
            case MASKING -> maskings.forEach(m -> v.add(b.withMasking(m)));
            case SCRATCH -> v.add(b);
            case SPEED -> { }
        }
        return v;
    }

    /** Every pretraining run the study needs, each once, in the order of the claims. */
    public List<Variant> allVariants() {
        Set<Variant> all = new LinkedHashSet<>();
        for (Claim c : Claim.values()) if (claims.contains(c)) all.addAll(variants(c));
        return new ArrayList<>(all);
    }

    /** The evaluation protocol: a run evaluated under another one is evaluated again. */
    public Map<String, Object> protocol() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("finetune", finetune.toJson());
        m.put("finetune_from_scratch", scratchFinetune.toJson());
        m.put("finetune_train_images", ftTrainLimit);
        m.put("linear_probe", ordered("feature", "cls", "epochs", probeEpochs, "lr", LINEAR_LR, "batch", 256, "train_images", probeTrainLimit));
        m.put("knn", ordered("feature", "mean", "k", KNN_K, "temperature", KNN_T, "bank", knnBank));
        m.put("eval_images", evalLimit);
        return m;
    }

    /** A JSON object with its keys in the given order. */
    static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }
}
