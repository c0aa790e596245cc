package mae.eval;

import mae.data.Normalization;
import mae.model.MaeConfig;
import mae.model.Weights;
import mae.tensor.Rng;
import mae.tensor.io.Safetensors;
import mae.vit.Params;
import mae.vit.VisionTransformer;

import java.io.IOException;
import java.nio.file.Path;

/** Encoders for evaluation: from a checkpoint (full or encoder-only), or randomly initialized for the baseline. */
public final class Encoders {
    private Encoders() {}

    /** An encoder and what its checkpoint says about the data it was trained on. */
    public record Loaded(VisionTransformer encoder, MaeConfig config, Normalization normalization) {}

    public static Loaded load(Path weights, MaeConfig override) throws IOException {
        Safetensors.Contents c = Safetensors.read(weights);
        MaeConfig cfg = override != null ? override : MaeConfig.fromMetadata(c.metadata(), weights.toString());
        Weights.requireFits(cfg, c.tensors(), weights, false, Weights.DECODER_PREFIXES);   // before the encoder is allocated
        VisionTransformer enc = create(cfg, 0);
        Weights.assign(enc.params, c.tensors(), weights, Weights.DECODER_PREFIXES);
        return new Loaded(enc, cfg, Normalization.fromMetadata(c.metadata(), weights.toString(), cfg.inChans()));
    }

    /** The paper's initialization, for the random-init baseline. */
    public static VisionTransformer create(MaeConfig cfg, long seed) {
        cfg.requireHeap(false, 1, "encoder");
        return new VisionTransformer(new Params(), cfg.imgSize(), cfg.patchSize(), cfg.inChans(), cfg.embedDim(), cfg.depth(),
                cfg.numHeads(), cfg.mlpRatio(), new Rng(seed));
    }

}
