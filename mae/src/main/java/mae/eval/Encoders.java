package mae.eval;

import mae.data.Normalization;
import mae.data.Preprocess;
import mae.model.MaeConfig;
import mae.model.WeightFiles;
import mae.model.Weights;
import mae.tensor.Rng;
import mae.vit.Params;
import mae.vit.VisionTransformer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Encoders for evaluation: from a checkpoint (full or encoder-only), or randomly initialized for the baseline. */
public final class Encoders {
    private Encoders() {}

    /** An encoder and what its checkpoint says about the data it was trained on. */
    public record Loaded(VisionTransformer encoder, MaeConfig config, Normalization normalization, Preprocess preprocess) {}

    public static Loaded load(Path weights, MaeConfig override) throws IOException {
        return load(WeightFiles.read(weights, WeightFiles.Options.of(override)));
    }

    /**
     * The encoder of a file read by {@link WeightFiles} (full or encoder-only; a fine-tuned classifier gives the
     * global-pool encoder, its head is left out).
     */
    public static Loaded load(WeightFiles.Loaded f) {
        MaeConfig cfg = f.config();
        List<String> ignored = new ArrayList<>(Weights.DECODER_PREFIXES);
        ignored.addAll(Weights.CLASSIFIER_PREFIXES);
        if (!f.globalPool()) Weights.requireFits(cfg, f.tensors(), f.file(), false, ignored);   // before the encoder is allocated
        cfg.requireHeap(false, 1, "encoder");
        VisionTransformer enc = new VisionTransformer(new Params(), cfg.imgSize(), cfg.patchSize(), cfg.inChans(), cfg.embedDim(), cfg.depth(),
                cfg.numHeads(), cfg.mlpRatio(), null, f.globalPool());
        Weights.assign(enc.params, f.tensors(), f.file(), ignored);
        return new Loaded(enc, cfg, f.normalization(), f.preprocess());
    }

    /** The paper's initialization, for the random-init baseline. */
    public static VisionTransformer create(MaeConfig cfg, long seed) {
        cfg.requireHeap(false, 1, "encoder");
        return new VisionTransformer(new Params(), cfg.imgSize(), cfg.patchSize(), cfg.inChans(), cfg.embedDim(), cfg.depth(),
                cfg.numHeads(), cfg.mlpRatio(), new Rng(seed));
    }

}
