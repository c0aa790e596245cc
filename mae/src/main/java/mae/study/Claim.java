package mae.study;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The paper's measured claims that the study checks, each with what the paper reports (ImageNet-1K, ViT-L,
 * fine-tune top-1 unless said; quoted in this project's words with the table or figure number) and why it
 * should hold. The numbers are there to compare the trend, not the values: the study trains a 3 M-parameter ViT
 * on 28-pixel images for minutes, the paper a 300 M-parameter one on 224-pixel images for days.
 */
public enum Claim {
    MASK_RATIO("mask-ratio", "A high mask ratio (75%) is best",
            "Figure 5: fine-tuning accuracy rises from 83.0 at 10% masking to 84.9 at 75%; the linear probe is far more sensitive"
                    + " to the ratio and peaks near 75% (73.5).",
            "With few patches removed, a missing patch can be filled in by copying its neighbours, so the task teaches little;"
                    + " with most removed, the encoder has to model the whole object from a few pieces. Removing more also makes"
                    + " pretraining cheaper, since the encoder sees only the visible patches."),
    DECODER_DEPTH("decoder-depth", "A light decoder is enough",
            "Table 1a: fine-tuning 84.8 / 84.9 / 84.9 / 84.9 with 1 / 2 / 4 / 8 decoder blocks; the linear probe gains with depth:"
                    + " 65.5 / 70.0 / 71.9 / 73.5. Table 1b: a 512-wide decoder is best.",
            "A deeper decoder takes over more of the reconstruction, so the encoder's last layers can stay abstract, which the"
                    + " linear probe (frozen features) sees; fine-tuning retrains those layers anyway, so for it one block suffices."),
    TARGETS("targets", "Normalized-pixel targets help",
            "Table 1d: fine-tuning 84.9 with raw pixels, 85.4 with each patch normalized by its own mean and variance (PCA"
                    + " coefficients 84.6, dVAE tokens 85.3).",
            "Normalizing each target patch removes its brightness and contrast, which are easy to predict from the neighbours,"
                    + " and leaves its shape: the loss then weighs edges and texture rather than flat areas."),
    MASKING("masking", "Random masking beats block and grid masking",
            "Table 1f (and the pictures of Figure 6): random at 75%: 84.9 fine-tune / 73.5 linear; block at 50%: 83.9 / 72.3;"
                    + " block at 75%: 82.8 / 63.9; grid at 75%: 84.0 / 66.0.",
            "Removing large blocks makes the task too hard (whole parts gone, blurry reconstructions); a regular grid makes it"
                    + " too easy (every removed patch has visible neighbours to interpolate from). Random masking lies in between."),
    SCRATCH("scratch", "MAE pre-training beats training from scratch",
            "Section 4 (its ViT-L baseline): ViT-L trained from scratch reaches 82.5 with the authors' improved supervised recipe (76.5 with"
                    + " the original one); MAE pre-training then fine-tuning reaches 84.9.",
            "A large ViT overfits ImageNet when trained on labels alone; pretraining on the masked-patch task gives it a start that"
                    + " labels alone do not. The comparison is only fair when the from-scratch model gets as much compute and as good"
                    + " a recipe as pretraining plus fine-tuning: here it gets the same schedule and augmentation, the learning rate at which it"
                    + " trains best (lower than the pretrained encoder's) and no layer-wise decay (which only protects pretrained layers),"
                    + " and, in a second row, as many extra epochs as pretraining cost in multiply-adds."),
    SPEED("speed", "Encoding only the visible patches makes pre-training several times cheaper",
            "Table 1c: an encoder without mask tokens is both better (84.9 vs 84.2) and needs 3.3x fewer FLOPs than one that also"
                    + " encodes the mask tokens; Table 2: 2.8x to 4.1x faster pre-training in wall-clock time.",
            "At 75% masking the encoder processes a quarter of the patches; attention costs grow with the square of the token count,"
                    + " so the encoder's work drops by 4x or more, while the light decoder still sees every position.");

    public final String id, title, paper, why;

    Claim(String id, String title, String paper, String why) {
        this.id = id;
        this.title = title;
        this.paper = paper;
        this.why = why;
    }

    public static Claim parse(String s) {
        for (Claim c : values()) if (c.id.equals(s.trim().toLowerCase(Locale.ROOT))) return c;
        List<String> ids = new ArrayList<>();
        for (Claim c : values()) ids.add(c.id);
        throw new IllegalArgumentException("--claims: unknown claim '" + s + "' (known: " + String.join(", ", ids) + ")");
    }

    /** The paper's (fine-tune, linear) top-1 for a row of this claim, either may be NaN; null when the paper has no such row. */
    public double[] paperFigures(Variant v, boolean scratch) {
        double ft = Double.NaN, lin = Double.NaN;
        switch (this) {
            case MASK_RATIO -> {
                if (near(v.maskRatio(), 0.75)) { ft = 84.9; lin = 73.5; }
                else if (near(v.maskRatio(), 0.1)) ft = 83.0;
            }
            case DECODER_DEPTH -> {
                switch (v.decoderDepth()) {
                    case 1 -> { ft = 84.8; lin = 65.5; }
                    case 2 -> { ft = 84.9; lin = 70.0; }
                    case 4 -> { ft = 84.9; lin = 71.9; }
                    case 8 -> { ft = 84.9; lin = 73.5; }
                    default -> { }
                }
            }
            case TARGETS -> ft = v.normPix() ? 85.4 : 84.9;
            case MASKING -> {
                if (v.masking().equals("random") && near(v.maskRatio(), 0.75)) { ft = 84.9; lin = 73.5; }
                else if (v.masking().equals("block") && near(v.maskRatio(), 0.75)) { ft = 82.8; lin = 63.9; }
                else if (v.masking().equals("block") && near(v.maskRatio(), 0.5)) { ft = 83.9; lin = 72.3; }
                else if (v.masking().equals("grid") && near(v.maskRatio(), 0.75)) { ft = 84.0; lin = 66.0; }
            }
            case SCRATCH -> ft = scratch ? 82.5 : 84.9;
            default -> { }
        }
        return Double.isNaN(ft) && Double.isNaN(lin) ? null : new double[]{ft, lin};
    }

    /** Where the paper's number for this claim comes from. */
    public String paperSource() {
        return switch (this) {
            case MASK_RATIO -> "Fig. 5";
            case DECODER_DEPTH -> "Table 1a";
            case TARGETS -> "Table 1d";
            case MASKING -> "Table 1f";
            case SCRATCH -> "Sec. 4";
            case SPEED -> "Table 1c, Table 2";
        };
    }

    private static boolean near(double a, double b) { return Math.abs(a - b) < 1e-9; }
}
