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

    /** Sane limits for a config from a file (the published ViT-H/14 is far inside them), checked by the constructor. */
    public static final int MAX_IMG_SIZE = 4096, MAX_CHANS = 64, MAX_WIDTH = 16384, MAX_DEPTH = 256, MAX_PATCHES = 65536;
    public static final float MAX_MLP_RATIO = 64;
    /** At most 2^31 parameters (8 GB of float32) in all, and each tensor a Java array. */
    public static final long MAX_PARAMETERS = 1L << 31, MAX_TENSOR = Integer.MAX_VALUE - 8;

    public MaeConfig {
        check(name, imgSize, patchSize, inChans, embedDim, depth, numHeads, decoderEmbedDim, decoderDepth, decoderNumHeads, mlpRatio);
        // Each dimension is bounded above, so these products cannot overflow a long.
        long total = 0;
        for (Map.Entry<String, int[]> e : shapes(imgSize, patchSize, inChans, embedDim, depth, decoderEmbedDim, decoderDepth, mlpRatio, true).entrySet()) {
            long n = numel(e.getValue());
            if (n > MAX_TENSOR) throw new IllegalArgumentException("config " + name + ": parameter " + e.getKey() + " would have " + n
                    + " values, more than a Java array holds (" + String.join(", ", keysOf(e.getKey())) + ")");
            total += n;
        }
        if (total > MAX_PARAMETERS)
            throw new IllegalArgumentException("config " + name + ": " + total + " parameters, more than the " + MAX_PARAMETERS + " allowed (embed_dim, depth, decoder_embed_dim, decoder_depth, mlp_ratio)");
    }

    /**
     * Every size inside its limit before anything is allocated; the error names the metadata key, e.g.
     * "config custom: depth 100000 is outside 0..256".
     */
    private static void check(String name, int imgSize, int patchSize, int inChans, int embedDim, int depth, int numHeads,
                              int decoderEmbedDim, int decoderDepth, int decoderNumHeads, float mlpRatio) {
        String c = "config " + name + ": ";
        within(c, "img_size", imgSize, 1, MAX_IMG_SIZE);
        within(c, "patch_size", patchSize, 1, imgSize);
        within(c, "in_chans", inChans, 1, MAX_CHANS);
        within(c, "embed_dim", embedDim, 1, MAX_WIDTH);
        within(c, "depth", depth, 0, MAX_DEPTH);
        within(c, "num_heads", numHeads, 1, embedDim);
        within(c, "decoder_embed_dim", decoderEmbedDim, 1, MAX_WIDTH);
        within(c, "decoder_depth", decoderDepth, 0, MAX_DEPTH);
        within(c, "decoder_num_heads", decoderNumHeads, 1, decoderEmbedDim);
        if (!(mlpRatio > 0 && mlpRatio <= MAX_MLP_RATIO))
            throw new IllegalArgumentException(c + "mlp_ratio " + mlpRatio + " is outside (0, " + (int) MAX_MLP_RATIO + "]");
        if ((int) (Math.min(embedDim, decoderEmbedDim) * mlpRatio) < 1)
            throw new IllegalArgumentException(c + "mlp_ratio " + mlpRatio + " gives an MLP of width 0");
        if (imgSize % patchSize != 0)
            throw new IllegalArgumentException(c + "image size " + imgSize + " (img_size) is not divisible by patch size " + patchSize + " (patch_size)");
        long grid = imgSize / patchSize;
        if (grid * grid > MAX_PATCHES)
            throw new IllegalArgumentException(c + "img_size " + imgSize + " / patch_size " + patchSize + " gives " + grid * grid + " patches, more than " + MAX_PATCHES);
        if (embedDim % numHeads != 0)
            throw new IllegalArgumentException(c + "embed_dim " + embedDim + " is not divisible by num_heads " + numHeads);
        if (decoderEmbedDim % decoderNumHeads != 0)
            throw new IllegalArgumentException(c + "decoder_embed_dim " + decoderEmbedDim + " is not divisible by decoder_num_heads " + decoderNumHeads);
    }

    private static void within(String c, String key, int v, int min, int max) {
        if (v < min || v > max) throw new IllegalArgumentException(c + key + " " + v + " is outside " + min + ".." + max);
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

    /**
     * The shape of every parameter a model of this config has, under the official names and in the model's
     * order (encoder; then the decoder when asked for), computed without allocating the model: what a checkpoint
     * of this config must hold.
     */
    public java.util.LinkedHashMap<String, int[]> parameterShapes(boolean decoder) {
        return shapes(imgSize, patchSize, inChans, embedDim, depth, decoderEmbedDim, decoderDepth, mlpRatio, decoder);
    }

    private static java.util.LinkedHashMap<String, int[]> shapes(int imgSize, int patchSize, int inChans, int E, int depth,
                                                               int Dd, int decoderDepth, float mlpRatio, boolean decoder) {
        java.util.LinkedHashMap<String, int[]> m = new java.util.LinkedHashMap<>();
        int g = imgSize / patchSize, L = g * g, P = patchSize * patchSize * inChans;
        m.put("cls_token", new int[]{1, 1, E});
        m.put("pos_embed", new int[]{1, L + 1, E});
        m.put("patch_embed.proj.weight", new int[]{E, inChans, patchSize, patchSize});
        m.put("patch_embed.proj.bias", new int[]{E});
        for (int i = 0; i < depth; i++) block(m, "blocks." + i, E, (int) (E * mlpRatio));
        m.put("norm.weight", new int[]{E});
        m.put("norm.bias", new int[]{E});
        if (!decoder) return m;
        m.put("decoder_embed.weight", new int[]{Dd, E});
        m.put("decoder_embed.bias", new int[]{Dd});
        m.put("mask_token", new int[]{1, 1, Dd});
        m.put("decoder_pos_embed", new int[]{1, L + 1, Dd});
        for (int i = 0; i < decoderDepth; i++) block(m, "decoder_blocks." + i, Dd, (int) (Dd * mlpRatio));
        m.put("decoder_norm.weight", new int[]{Dd});
        m.put("decoder_norm.bias", new int[]{Dd});
        m.put("decoder_pred.weight", new int[]{P, Dd});
        m.put("decoder_pred.bias", new int[]{P});
        return m;
    }

    private static void block(java.util.Map<String, int[]> m, String n, int D, int H) {
        m.put(n + ".norm1.weight", new int[]{D});
        m.put(n + ".norm1.bias", new int[]{D});
        m.put(n + ".attn.qkv.weight", new int[]{3 * D, D});
        m.put(n + ".attn.qkv.bias", new int[]{3 * D});
        m.put(n + ".attn.proj.weight", new int[]{D, D});
        m.put(n + ".attn.proj.bias", new int[]{D});
        m.put(n + ".norm2.weight", new int[]{D});
        m.put(n + ".norm2.bias", new int[]{D});
        m.put(n + ".mlp.fc1.weight", new int[]{H, D});
        m.put(n + ".mlp.fc1.bias", new int[]{H});
        m.put(n + ".mlp.fc2.weight", new int[]{D, H});
        m.put(n + ".mlp.fc2.bias", new int[]{D});
    }

    /** Parameters of the encoder (and decoder), counted without allocating; MAX_PARAMETERS bounds it. */
    public long parameterCount(boolean decoder) {
        long n = 0;
        for (int[] s : parameterShapes(decoder).values()) n += numel(s);
        return n;
    }

    /** The metadata keys a parameter's shape follows from: what to name when a file's tensor does not fit. */
    public static java.util.List<String> keysOf(String parameter) {
        boolean dec = parameter.startsWith("decoder_") || parameter.equals("mask_token");
        String width = dec ? "decoder_embed_dim" : "embed_dim";
        if (parameter.equals("pos_embed") || parameter.equals("decoder_pos_embed")) return java.util.List.of("img_size", "patch_size", width);
        if (parameter.equals("patch_embed.proj.weight")) return java.util.List.of("embed_dim", "in_chans", "patch_size");
        if (parameter.equals("decoder_embed.weight")) return java.util.List.of("decoder_embed_dim", "embed_dim");
        if (parameter.startsWith("decoder_pred.")) return java.util.List.of("patch_size", "in_chans", "decoder_embed_dim");
        if (parameter.contains(".mlp.")) return java.util.List.of(width, "mlp_ratio");
        return java.util.List.of(width);
    }

    /** The value of a metadata key in this config, as toMetadata writes it. */
    public String value(String key) { return toMetadata().get(key); }

    /**
     * Refuses a config whose parameters (and the AdamW moments when training) would not fit in half of this
     * JVM's heap, before a model is allocated: one line instead of minutes of allocation and an OutOfMemoryError.
     */
    public void requireHeap(boolean decoder, int copies, String what) {
        long bytes = 4L * parameterCount(decoder) * copies, max = Runtime.getRuntime().maxMemory();
        if (bytes > max / 2)
            throw new IllegalArgumentException(what + ": config " + name + " has " + parameterCount(decoder) + " parameters (" + gb(bytes)
                    + " GB with what they need), more than half of the Java heap (" + gb(max) + " GB; raise -Xmx, e.g. MAE_JAVA_OPTS=-Xmx16g)");
    }

    private static String gb(long bytes) { return String.format(java.util.Locale.ROOT, "%.1f", bytes / 1e9); }

    private static long numel(int[] s) {
        long n = 1;
        for (int d : s) n *= d;
        return n;
    }

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

    /**
     * Reads the config from a checkpoint's metadata; the error names the file and the key at fault. The config is
     * only checked against the limits here: {@code Weights.requireFits} checks it against the file's tensors.
     */
    public static MaeConfig fromMetadata(Map<String, String> m, String file) {
        for (String k : KEYS)
            if (!m.containsKey(k)) throw new IllegalArgumentException(file + ": metadata lacks the config key '" + k + "' (pass --config NAME for a checkpoint without one)");
        String npl = m.get("norm_pix_loss").trim();
        if (!npl.equalsIgnoreCase("true") && !npl.equalsIgnoreCase("false"))
            throw new IllegalArgumentException(file + ": metadata norm_pix_loss is '" + m.get("norm_pix_loss") + "', expected true or false");
        float mlp;
        try {
            mlp = Float.parseFloat(m.get("mlp_ratio").trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": metadata mlp_ratio = '" + m.get("mlp_ratio") + "' is not a number");
        }
        try {
            return new MaeConfig(m.getOrDefault("config_name", "custom"), i(m, "img_size", file), i(m, "patch_size", file), i(m, "in_chans", file),
                    i(m, "embed_dim", file), i(m, "depth", file), i(m, "num_heads", file), i(m, "decoder_embed_dim", file),
                    i(m, "decoder_depth", file), i(m, "decoder_num_heads", file), mlp, npl.equalsIgnoreCase("true"));
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith(file + ": ")) throw e;
            throw new IllegalArgumentException(file + ": metadata: " + e.getMessage());
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
