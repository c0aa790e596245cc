package mae.cli;

import mae.model.MaeConfig;
import picocli.CommandLine;

/** The model configs as the --config (--model) help lists them, and the official model names read as ours. */
public final class Configs {
    private Configs() {}

    /** Every name of {@link MaeConfig#NAMED}, with what it is (ConfigsHelpTest keeps the two in step). */
    public static final String KNOWN = "fmnist (28 px gray, patch 4, encoder 192 x 6, 3.1 M parameters), tiny (28 px, for tests and smoke runs), "
            + "mae_vit_base_patch16, mae_vit_large_patch16, mae_vit_huge_patch14 (224 px RGB, the paper's ViT-B/16, L/16, H/14)";

    /**
     * A config name as given: ours, or the official fine-tuning and probing scripts' model name (vit_base_patch16 is
     * the encoder of mae_vit_base_patch16).
     */
    static final class Name implements CommandLine.ITypeConverter<String> {
        @Override public String convert(String v) {
            String s = v.trim();
            return !MaeConfig.NAMED.containsKey(s) && MaeConfig.NAMED.containsKey("mae_" + s) ? "mae_" + s : s;
        }
    }
}
