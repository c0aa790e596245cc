package mae.data;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How a picture of any size becomes a model input of size x size pixels in [0, 1] (the per-channel
 * normalization follows separately).
 *
 * <ul>
 * <li>plain ({@code cropPct} 0): the whole image resized to size x size with antialiased bilinear resampling. What
 *     this engine's own checkpoints use (their images are as square as Fashion-MNIST's).</li>
 * <li>centre crop: the evaluation transform of the official repository (util/datasets.py, {@code build_transform}
 *     for eval): the shorter side resized to {@code int(size / cropPct)} (256 for 224 at crop_pct 224/256 = 0.875)
 *     with PIL's bicubic filter, then the centre size x size cut out. What the released ImageNet models expect;
 *     with the ImageNet mean and std.</li>
 * </ul>
 * A checkpoint says which in its metadata ({@code crop_pct}, {@code interpolation}); without them it is plain.
 */
public record Preprocess(int size, double cropPct, boolean bicubic) {
    /** The official evaluation crop: 224 / 256. */
    public static final double OFFICIAL_CROP_PCT = 0.875;

    public Preprocess {
        if (size <= 0) throw new IllegalArgumentException("preprocess: size " + size + " must be positive");
        if (!(cropPct == 0 || (cropPct > 0.05 && cropPct <= 1)))
            throw new IllegalArgumentException("preprocess: crop_pct " + cropPct + " must be 0 (no crop) or in (0.05, 1]");
    }

    public static Preprocess plain(int size) { return new Preprocess(size, 0, false); }

    /** The official repository's evaluation transform for released ImageNet models. */
    public static Preprocess official(int size) { return new Preprocess(size, OFFICIAL_CROP_PCT, true); }

    public boolean crops() { return cropPct > 0; }

    /** As checkpoint metadata; empty for plain (so this engine's own files are unchanged). */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        if (crops()) {
            m.put("crop_pct", Double.toString(cropPct));
            m.put("interpolation", bicubic ? "bicubic" : "bilinear");
        }
        return m;
    }

    /** From checkpoint metadata written by {@link #toMetadata}; plain when it says nothing. */
    public static Preprocess fromMetadata(Map<String, String> meta, int size) {
        String crop = meta.get("crop_pct");
        if (crop == null) return plain(size);
        double pct;
        try {
            pct = Double.parseDouble(crop.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("metadata crop_pct '" + crop + "' is not a number");
        }
        String interp = meta.getOrDefault("interpolation", "bicubic").trim().toLowerCase(Locale.ROOT);
        if (!interp.equals("bicubic") && !interp.equals("bilinear"))
            throw new IllegalArgumentException("metadata interpolation '" + interp + "' is neither bicubic nor bilinear");
        return new Preprocess(size, pct, interp.equals("bicubic"));
    }

    /** The side the shorter image side is resized to before the crop: int(size / cropPct). */
    public int resizeTo() { return crops() ? (int) (size / cropPct) : size; }

    /** [c, h, w] pixels in [0, 1] -> [c, size, size]. */
    public float[] apply(float[] chw, int c, int h, int w) {
        if (!crops()) {
            if (h == size && w == size) return chw;
            float[] out = new float[c * size * size];
            Resample.resize(chw, 0, c, h, w, out, 0, size, size);
            return out;
        }
        int[] hw = resized(h, w);
        int nh = hw[0], nw = hw[1];
        float[] resized;
        if (nh == h && nw == w) resized = chw;
        else {
            resized = new float[c * nh * nw];
            if (bicubic) Resample.resizeBicubic(chw, 0, c, h, w, resized, 0, nh, nw);
            else Resample.resize(chw, 0, c, h, w, resized, 0, nh, nw);
        }
        int top = (int) Math.rint((nh - size) / 2.0), left = (int) Math.rint((nw - size) / 2.0); // torchvision's center_crop
        float[] out = new float[c * size * size];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < size; y++)
                System.arraycopy(resized, (ch * nh + top + y) * nw + left, out, (ch * size + y) * size, size);
        for (int i = 0; i < out.length; i++) out[i] = Math.max(0f, Math.min(1f, out[i])); // bicubic overshoots; PIL clips to 0..255
        return out;
    }

    /** torchvision's Resize(int): the shorter side to {@link #resizeTo}, the longer one in proportion (truncated). */
    int[] resized(int h, int w) {
        int s = resizeTo();
        if (h <= w) return new int[]{s, Math.max(s, (int) ((long) s * w / h))};
        return new int[]{Math.max(s, (int) ((long) s * h / w)), s};
    }

    /** A note for a picture of w x h pixels, or null when nothing changes it. */
    public String describe(int w, int h) {
        if (!crops()) {
            if (w == size && h == size) return null;
            return "The image is " + w + " x " + h + " px; it was resized to " + size + " x " + size
                    + " px (the model's input size) with antialiased bilinear resampling.";
        }
        int[] r = resized(h, w);
        return String.format(Locale.ROOT, "The image is %d x %d px; as in the official evaluation transform it was resized to %d x %d px (shorter side %d = %d / %s, %s) and its centre %d x %d px cut out.",
                w, h, r[1], r[0], resizeTo(), size, Double.toString(cropPct), bicubic ? "bicubic" : "bilinear", size, size);
    }
}
