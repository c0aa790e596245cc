package mae.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An MAE architecture. Travels in the safetensors {@code __metadata__} as string values under the keys
 * below, so a checkpoint carries the model it was made for.
 */
public record MaeConfig(String name, int imgSize, int patchSize, int inChans, int embedDim, int depth, int numHeads,
                        int decoderEmbedDim, int decoderDepth, int decoderNumHeads, float mlpRatio, boolean normPixLoss) {

    public static final List<String> KEYS = List.of("img_size", "patch_size", "in_chans", "embed_dim", "depth", "num_heads",
            "decoder_embed_dim", "decoder_depth", "decoder_num_heads", "mlp_ratio", "norm_pix_loss");

    public MaeConfig {
        if (imgSize <= 0 || patchSize <= 0 || inChans <= 0 || embedDim <= 0 || depth < 0 || numHeads <= 0
                || decoderEmbedDim <= 0 || decoderDepth < 0 || decoderNumHeads <= 0 || !(mlpRatio > 0))
            throw new IllegalArgumentException("config " + name + ": every size must be positive");
        if (imgSize % patchSize != 0)
            throw new IllegalArgumentException("config " + name + ": image size " + imgSize + " is not divisible by patch size " + patchSize);
        if (embedDim % numHeads != 0)
            throw new IllegalArgumentException("config " + name + ": embed_dim " + embedDim + " is not divisible by num_heads " + numHeads);
        if (decoderEmbedDim % decoderNumHeads != 0)
            throw new IllegalArgumentException("config " + name + ": decoder_embed_dim " + decoderEmbedDim + " is not divisible by decoder_num_heads " + decoderNumHeads);
    }

    /** The published configs and this project's small default. */
    public static final Map<String, MaeConfig> NAMED = new LinkedHashMap<>();
    static {
        NAMED.put("fmnist", new MaeConfig("fmnist", 28, 4, 1, 192, 6, 3, 128, 2, 4, 4f, true));
        NAMED.put("tiny", new MaeConfig("tiny", 28, 7, 1, 32, 2, 2, 16, 1, 2, 4f, true)); // for tests and smoke runs
        NAMED.put("mae_vit_base_patch16", new MaeConfig("mae_vit_base_patch16", 224, 16, 3, 768, 12, 12, 512, 8, 16, 4f, true));
        NAMED.put("mae_vit_large_patch16", new MaeConfig("mae_vit_large_patch16", 224, 16, 3, 1024, 24, 16, 512, 8, 16, 4f, true));
        NAMED.put("mae_vit_huge_patch14", new MaeConfig("mae_vit_huge_patch14", 224, 14, 3, 1280, 32, 16, 512, 8, 16, 4f, true));
    }

    public static MaeConfig named(String n) {
        MaeConfig c = NAMED.get(n);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.+)-dec(\\d{1,2})").matcher(n);
        if (c == null && m.matches() && NAMED.containsKey(m.group(1))) return NAMED.get(m.group(1)).withDecoderDepth(Integer.parseInt(m.group(2)));
        if (c == null) throw new IllegalArgumentException("unknown config '" + n + "' (known: " + String.join(", ", NAMED.keySet()) + "; NAME-decN for another decoder depth)");
        return c;
    }

    public int grid() { return imgSize / patchSize; }
    public int numPatches() { return grid() * grid(); }
    public int patchDim() { return patchSize * patchSize * inChans; }

    /** Tokens kept at a mask ratio: int(L * (1 - ratio)) in double, as the reference computes it. */
    public int lenKeep(double maskRatio) { return (int) (numPatches() * (1 - maskRatio)); }

    /** This config with another decoder depth, named BASE-decN ({@link #named} reads such a name back). */
    public MaeConfig withDecoderDepth(int d) {
        String base = name.replaceFirst("-dec\\d+$", "");
        return new MaeConfig(NAMED.containsKey(base) && NAMED.get(base).decoderDepth == d ? base : base + "-dec" + d, imgSize, patchSize, inChans,
                embedDim, depth, numHeads, decoderEmbedDim, d, decoderNumHeads, mlpRatio, normPixLoss);
    }

    public MaeConfig withNormPix(boolean on) {
        return new MaeConfig(name, imgSize, patchSize, inChans, embedDim, depth, numHeads, decoderEmbedDim, decoderDepth, decoderNumHeads, mlpRatio, on);
    }

    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("img_size", "" + imgSize);
        m.put("patch_size", "" + patchSize);
        m.put("in_chans", "" + inChans);
        m.put("embed_dim", "" + embedDim);
        m.put("depth", "" + depth);
        m.put("num_heads", "" + numHeads);
        m.put("decoder_embed_dim", "" + decoderEmbedDim);
        m.put("decoder_depth", "" + decoderDepth);
        m.put("decoder_num_heads", "" + decoderNumHeads);
        m.put("mlp_ratio", "" + mlpRatio);
        m.put("norm_pix_loss", "" + normPixLoss);
        if (name != null) m.put("config_name", name);
        return m;
    }

    /** Reads the config from a checkpoint's metadata; the error names the file and the key at fault. */
    public static MaeConfig fromMetadata(Map<String, String> m, String file) {
        for (String k : KEYS)
            if (!m.containsKey(k)) throw new IllegalArgumentException(file + ": metadata lacks the config key '" + k + "' (pass --config NAME for a checkpoint without one)");
        try {
            String npl = m.get("norm_pix_loss");
            if (!npl.equals("true") && !npl.equals("false") && !npl.equals("True") && !npl.equals("False"))
                throw new IllegalArgumentException(file + ": metadata norm_pix_loss is '" + npl + "', expected true or false");
            return new MaeConfig(m.getOrDefault("config_name", "custom"), i(m, "img_size", file), i(m, "patch_size", file), i(m, "in_chans", file),
                    i(m, "embed_dim", file), i(m, "depth", file), i(m, "num_heads", file), i(m, "decoder_embed_dim", file),
                    i(m, "decoder_depth", file), i(m, "decoder_num_heads", file), Float.parseFloat(m.get("mlp_ratio")),
                    npl.equalsIgnoreCase("true"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": metadata value is not a number: " + e.getMessage());
        }
    }

    private static int i(Map<String, String> m, String k, String file) {
        try {
            return Integer.parseInt(m.get(k).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": metadata " + k + " = '" + m.get(k) + "' is not an integer");
        }
    }
}
