package mae.data;

import java.util.Arrays;

/** Per-channel normalization {@code (x - mean[c]) / std[c]}. */
public record Normalization(float[] mean, float[] std) {
    /** The ImageNet statistics used by the MAE paper for RGB images. */
    public static final Normalization IMAGENET = new Normalization(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});

    public Normalization {
        if (mean.length != std.length || mean.length == 0) {
            throw new IllegalArgumentException("normalization: mean has " + mean.length + " channels, std " + std.length);
        }
        for (int ch = 0; ch < std.length; ch++) {
            if (!(std[ch] > 0) || !Float.isFinite(std[ch]) || !Float.isFinite(mean[ch])) {
                throw new IllegalArgumentException("normalization: channel " + ch + " has mean " + mean[ch] + ", std " + std[ch] + " (std must be positive and finite)");
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    public int channels() { return mean.length; }

    /** As checkpoint metadata: norm_mean / norm_std, comma-separated, in this order. */
    public java.util.Map<String, String> toMetadata() {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("norm_mean", join(mean));
        m.put("norm_std", join(std));
        return m;
    }

    /** From checkpoint metadata written by {@link #toMetadata}; null when absent. */
    public static Normalization fromMetadata(java.util.Map<String, String> meta) {
        return fromMetadata(meta, "checkpoint metadata", -1);
    }

    /**
     * From a checkpoint's metadata; null when absent. Errors name the file and the key: a value that is not a
     * comma-separated list of numbers, a std that is not positive, or (channels > 0) a count of values other than
     * the model's input channels.
     */
    public static Normalization fromMetadata(java.util.Map<String, String> meta, String file, int channels) {
        String m = meta.get("norm_mean"), s = meta.get("norm_std");
        if (m == null && s == null) return null;
        if (m == null || s == null) throw new IllegalArgumentException(file + ": metadata has " + (m == null ? "norm_std but no norm_mean" : "norm_mean but no norm_std"));
        float[] mean = floats(m, "norm_mean", file), std = floats(s, "norm_std", file);
        if (channels > 0 && (mean.length != channels || std.length != channels))
            throw new IllegalArgumentException(file + ": metadata norm_mean has " + mean.length + " and norm_std " + std.length + " values, but the model has "
                    + channels + " input channel" + (channels == 1 ? "" : "s") + " (in_chans)");
        try {
            return new Normalization(mean, std);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": metadata norm_mean / norm_std: " + e.getMessage().replaceFirst("^normalization: ", ""));
        }
    }

    private static float[] floats(String s, String key, String file) {
        String[] p = s.split(",", -1);
        if (p.length > 4096) throw new IllegalArgumentException(file + ": metadata " + key + " has " + p.length + " values, expected one per channel");
        float[] f = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            try {
                f[i] = Float.parseFloat(p[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": metadata " + key + " = '" + (s.length() > 100 ? s.substring(0, 100) + "..." : s)
                        + "' is not a comma-separated list of numbers");
            }
        }
        return f;
    }

    private static String join(float[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) sb.append(i > 0 ? "," : "").append(v[i]);
        return sb.toString();
    }

    /** Mean and (population) standard deviation of each channel over all pixels of {@code d}; two passes, in double. */
    public static Normalization of(Dataset d) {
        float[] mean = new float[d.c()], std = new float[d.c()];
        double count = (double) d.n() * d.h() * d.w();
        for (int ch = 0; ch < d.c(); ch++) {
            double m = channelSum(d, ch, 0, false) / count;
            mean[ch] = (float) m;
            std[ch] = (float) Math.sqrt(channelSum(d, ch, m, true) / count);
            if (!(std[ch] > 0)) throw new IllegalArgumentException(d.source() + ": channel " + ch + " is constant (std 0), cannot normalize");
        }
        return new Normalization(mean, std);
    }

    /** Sum over every pixel of channel ch of (x - centre), or of its square. */
    private static double channelSum(Dataset d, int ch, double centre, boolean squares) {
        int hw = d.h() * d.w();
        float[] x = d.images();
        double sum = 0;
        for (int i = 0; i < d.n(); i++) {
            int start = d.offset(i) + ch * hw;
            for (int p = start; p < start + hw; p++) {
                double v = x[p] - centre;
                sum += squares ? v * v : v;
            }
        }
        return sum;
    }

    @Override public String toString() { return "Normalization[mean " + Arrays.toString(mean) + ", std " + Arrays.toString(std) + "]"; }
}
