package mae.explain;

import mae.autograd.Trace;
import mae.model.MaeConfig;

import java.util.Locale;

/** What each traced stage's shape means in the paper's symbols, and what it did in this run. */
final class Stages {
    private Stages() {}

    /** The output shape in symbols (N images, L patches, keep visible, D / Dd widths, P = p*p*C). */
    static String symbolic(String stage) {
        if (stage.startsWith("encoder block") || stage.equals("+ cls") || stage.equals("encoder norm")) return "(N, 1+keep, D)";
        if (stage.startsWith("decoder block")) return "(N, 1+L, Dd)";
        switch (stage) {
            case "patch embedding": case "+ position embedding": return "(N, L, D)";
            case "masking": return "(N, keep, D)";
            case "decoder embedding": return "(N, 1+keep, Dd)";
            case "mask tokens": return "(N, L, Dd), shuffled";
            case "unshuffle": case "+ decoder position embedding": return "(N, 1+L, Dd)";
            case "prediction": return "(N, L, P)";
            case "per-patch loss": return "(N, L)";
            case "loss": return "()";
            default: return "";
        }
    }

    /** The stage in this run's numbers. */
    static String detail(Trace.Stage s, Explainer.Pass p, Explainer.Explanation e) {
        MaeConfig c = e.cfg();
        int L = c.numPatches(), keep = p.masking().lenKeep(), D = c.embedDim(), Dd = c.decoderEmbedDim();
        String n = s.name();
        if (n.startsWith("encoder block")) return (1 + keep) + " tokens attend to each other: " + c.numHeads() + " heads of " + D / c.numHeads() + ", MLP " + D + " -> " + (int) (D * c.mlpRatio()) + " -> " + D;
        if (n.startsWith("decoder block")) return (1 + L) + " tokens: " + c.decoderNumHeads() + " heads of " + Dd / c.decoderNumHeads() + ", MLP " + Dd + " -> " + (int) (Dd * c.mlpRatio()) + " -> " + Dd;
        switch (n) {
            case "patch embedding": return L + " patches of " + c.patchSize() + "x" + c.patchSize() + "x" + c.inChans() + " = " + c.patchDim() + " values -> " + D;
            case "+ position embedding": return "rows 1.." + L + " of pos_embed";
            case "masking": return "keeps " + keep + " of " + L + " patches (mask ratio " + Report.num(p.ratio()) + ", " + Report.name(p) + ")";
            case "+ cls": return "1 + " + keep + " = " + (1 + keep) + " tokens";
            case "encoder norm": return "the latent: " + (1 + keep) + " tokens of " + D;
            case "decoder embedding": return D + " -> " + Dd + " on " + (1 + keep) + " tokens";
            case "mask tokens": return (L - keep) + " copies of mask_token after the " + keep + " visible tokens";
            case "unshuffle": return "back in patch order with cls in front: 1 + " + L + " = " + (1 + L) + " tokens";
            case "+ decoder position embedding": return "all " + (1 + L) + " rows of decoder_pos_embed";
            case "prediction": return Dd + " -> " + c.patchDim() + " values per patch, cls row dropped";
            case "per-patch loss": return L + " losses, one per patch" + (c.normPixLoss() ? " (norm-pix targets)" : "");
            case "loss": return String.format(Locale.ROOT, "mean over the %d removed patches = %.4f", L - keep, s.output().item());
            default: return "";
        }
    }

}
