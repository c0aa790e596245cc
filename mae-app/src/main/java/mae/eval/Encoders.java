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
import java.util.Map;

/** Encoders for evaluation: from a checkpoint (full or encoder-only), or randomly initialized for the baseline. */
public final class Encoders {
    private Encoders() {}

    /** An encoder and what its checkpoint says about the data it was trained on. */
    public record Loaded(VisionTransformer encoder, MaeConfig config, Normalization normalization) {}

    public static Loaded load(Path weights, MaeConfig override) throws IOException {
        Safetensors.Contents c = Safetensors.read(weights);
        MaeConfig cfg = override != null ? override : MaeConfig.fromMetadata(c.metadata(), weights.toString());
        VisionTransformer enc = create(cfg, 0);
        Weights.assign(enc.params, c.tensors(), weights, Weights.DECODER_PREFIXES);
        return new Loaded(enc, cfg, normalization(c.metadata()));
    }

    /** The paper's initialization, for the random-init baseline. */
    public static VisionTransformer create(MaeConfig cfg, long seed) {
        return new VisionTransformer(new Params(), cfg.imgSize(), cfg.patchSize(), cfg.inChans(), cfg.embedDim(), cfg.depth(),
                cfg.numHeads(), cfg.mlpRatio(), new Rng(seed));
    }

    /** norm_mean / norm_std metadata ("0.28,..."), written by pretraining; null when absent. */
    public static Normalization normalization(Map<String, String> meta) {
        String m = meta.get("norm_mean"), s = meta.get("norm_std");
        if (m == null || s == null) return null;
        return new Normalization(floats(m), floats(s));
    }

    public static Map<String, String> metadata(Normalization n) {
        return Map.of("norm_mean", join(n.mean()), "norm_std", join(n.std()));
    }

    private static float[] floats(String s) {
        String[] p = s.split(",");
        float[] f = new float[p.length];
        for (int i = 0; i < p.length; i++) f[i] = Float.parseFloat(p[i].trim());
        return f;
    }

    private static String join(float[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) sb.append(i > 0 ? "," : "").append(v[i]);
        return sb.toString();
    }
}
