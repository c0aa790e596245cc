package mae.study;

import mae.model.MaeConfig;

import java.util.Locale;

/** One pretraining setting of the study: what the paper's ablations vary, everything else held fixed. */
public record Variant(double maskRatio, int decoderDepth, boolean normPix, String masking) {
    public Variant {
        if (!(maskRatio > 0 && maskRatio < 1)) throw new IllegalArgumentException("mask ratio " + maskRatio + " is outside (0, 1)");
        if (decoderDepth < 1 || decoderDepth > 32) throw new IllegalArgumentException("decoder depth " + decoderDepth + " is outside 1..32");
        masking = masking.toLowerCase(Locale.ROOT);
        mae.model.MaskNoise.parse(masking);
    }

    public Variant withMaskRatio(double r) { return new Variant(r, decoderDepth, normPix, masking); }
    public Variant withDecoderDepth(int d) { return new Variant(maskRatio, d, normPix, masking); }
    public Variant withNormPix(boolean on) { return new Variant(maskRatio, decoderDepth, on, masking); }
    public Variant withMasking(String m) { return new Variant(maskRatio, decoderDepth, normPix, m); }

    /** The run folder's name without the seed, e.g. mask0.75-dec2-normpix-random. */
    public String id() { return "mask" + ratio(maskRatio) + "-dec" + decoderDepth + "-" + (normPix ? "normpix" : "pix") + "-" + masking; }

    /** The model config of this variant: the base config with this decoder depth (named BASE-decN when it differs). */
    public MaeConfig config(MaeConfig base) { return base.withDecoderDepth(decoderDepth).withNormPix(normPix); }

    /** A mask ratio as written in names and tables: 0.75, 0.5, 0.9. */
    static String ratio(double r) {
        String s = String.format(Locale.ROOT, "%.4f", r).replaceAll("0+$", "");
        return s.endsWith(".") ? s + "0" : s;
    }

    @Override public String toString() {
        return "mask " + ratio(maskRatio) + ", decoder depth " + decoderDepth + ", " + (normPix ? "norm-pix" : "raw-pixel") + " targets, " + masking + " masking";
    }
}
