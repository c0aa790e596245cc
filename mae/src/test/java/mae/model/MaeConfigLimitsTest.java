package mae.model;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Every limit of a config, just inside (accepted) and just outside (refused, naming the metadata key and the range). */
class MaeConfigLimitsTest {
    /** tiny's values, with those given (by index: img, patch, chans, dim, depth, heads, ddim, ddepth, dheads) replaced. */
    static MaeConfig cfg(float ratio, int... v) {
        int[] t = {28, 7, 1, 32, 2, 2, 16, 1, 2};
        System.arraycopy(v, 0, t, 0, v.length);
        return new MaeConfig("t", t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], ratio, true);
    }

    static void refused(Runnable r, String msg) {
        String m = assertThrows(IllegalArgumentException.class, r::run).getMessage();
        assertTrue(m.startsWith("config t: ") && m.contains(msg), "'" + m + "' should say " + msg);
    }

    @Test void each_size_is_refused_just_outside_its_range() {
        refused(() -> cfg(4, 0), "img_size 0 is outside 1..4096");
        refused(() -> cfg(4, 4097, 17), "img_size 4097 is outside 1..4096");
        cfg(4, 4096, 16, 1, 32, 0, 2, 16, 0, 2);                     // 256 x 256 = 65536 patches, the most
        refused(() -> cfg(4, 4096, 8, 1, 32, 0, 2, 16, 0, 2), "img_size 4096 / patch_size 8 gives 262144 patches, more than 65536");
        refused(() -> cfg(4, 28, 0), "patch_size 0 is outside 1..28");
        refused(() -> cfg(4, 28, 29), "patch_size 29 is outside 1..28");
        assertEquals(1, cfg(4, 28, 28).numPatches());
        assertEquals(784, cfg(4, 28, 1, 1, 32, 0, 2, 16, 0, 2).numPatches());
        refused(() -> cfg(4, 28, 7, 0), "in_chans 0 is outside 1..64");
        refused(() -> cfg(4, 28, 7, 65), "in_chans 65 is outside 1..64");
        assertEquals(64, cfg(4, 28, 7, 64).inChans());
        refused(() -> cfg(4, 28, 7, 1, 0, 2, 1), "embed_dim 0 is outside 1..16384");
        refused(() -> cfg(4, 28, 7, 1, 16385, 0, 1), "embed_dim 16385 is outside 1..16384");
        assertEquals(16384, cfg(1, 28, 7, 1, 16384, 0, 1).embedDim());
        refused(() -> cfg(4, 28, 7, 1, 32, -1), "depth -1 is outside 0..256");
        refused(() -> cfg(4, 28, 7, 1, 32, 257), "depth 257 is outside 0..256");
        assertEquals(256, cfg(4, 28, 7, 1, 32, 256).depth());
        refused(() -> cfg(4, 28, 7, 1, 32, 2, 0), "num_heads 0 is outside 1..32");
        refused(() -> cfg(4, 28, 7, 1, 32, 2, 33), "num_heads 33 is outside 1..32");
        assertEquals(32, cfg(4, 28, 7, 1, 32, 2, 32).numHeads());
        refused(() -> cfg(4, 28, 7, 1, 32, 2, 3), "embed_dim 32 is not divisible by num_heads 3");
        refused(() -> cfg(4, 28, 7, 1, 32, 2, 2, 0, 1, 1), "decoder_embed_dim 0 is outside 1..16384");
        refused(() -> cfg(4, 28, 7, 1, 32, 2, 2, 16385, 0, 1), "decoder_embed_dim 16385 is outside 1..16384");
        assertEquals(16384, cfg(1, 28, 7, 1, 32, 0, 2, 16384, 0, 1).decoderEmbedDim());
        refused(() -> cfg(4, 28, 7, 1, 32, 2, 2, 16, -1), "decoder_depth -1 is outside 0..256");
        refused(() -> cfg(4, 28, 7, 1, 32, 2, 2, 16, 257), "decoder_depth 257 is outside 0..256");
        assertEquals(256, cfg(4, 28, 7, 1, 32, 2, 2, 16, 256).decoderDepth());
        refused(() -> cfg(4, 28, 7, 1, 32, 2, 2, 16, 1, 0), "decoder_num_heads 0 is outside 1..16");
        refused(() -> cfg(4, 28, 7, 1, 32, 2, 2, 16, 1, 17), "decoder_num_heads 17 is outside 1..16");
        assertEquals(16, cfg(4, 28, 7, 1, 32, 2, 2, 16, 1, 16).decoderNumHeads());
        refused(() -> cfg(4, 28, 7, 1, 32, 2, 2, 16, 1, 3), "decoder_embed_dim 16 is not divisible by decoder_num_heads 3");
        refused(() -> cfg(4, 30, 7), "image size 30 (img_size) is not divisible by patch size 7 (patch_size)");
    }

    @Test void the_mlp_ratio_is_positive_at_most_64_and_gives_a_width() {
        refused(() -> cfg(0), "mlp_ratio 0.0 is outside (0, 64]");
        refused(() -> cfg(Float.NaN), "mlp_ratio NaN is outside (0, 64]");
        refused(() -> cfg(64.5f), "mlp_ratio 64.5 is outside (0, 64]");
        assertEquals(64f, cfg(64).mlpRatio());
        refused(() -> cfg(1 / 32f), "mlp_ratio 0.03125 gives an MLP of width 0");     // 16 x 1/32 < 1 (the decoder is narrower)
        assertEquals(1, (int) (16 * cfg(1 / 16f).mlpRatio()), "16 x 1/16: width 1");
    }

    @Test void too_many_parameters_are_refused_before_allocation() {
        refused(() -> cfg(4, 28, 7, 1, 16384, 2, 1), "parameters, more than the 2147483648 allowed");
        refused(() -> cfg(64, 28, 7, 1, 16384, 1, 1), "parameter blocks.0.mlp.fc1.weight would have 17179869184 values, more than a Java array holds (embed_dim, mlp_ratio)");
    }

    @Test void the_keys_each_parameter_follows_from() {
        assertEquals(List.of("img_size", "patch_size", "embed_dim"), MaeConfig.keysOf("pos_embed"));
        assertEquals(List.of("img_size", "patch_size", "decoder_embed_dim"), MaeConfig.keysOf("decoder_pos_embed"));
        assertEquals(List.of("embed_dim", "in_chans", "patch_size"), MaeConfig.keysOf("patch_embed.proj.weight"));
        assertEquals(List.of("decoder_embed_dim", "embed_dim"), MaeConfig.keysOf("decoder_embed.weight"));
        assertEquals(List.of("patch_size", "in_chans", "decoder_embed_dim"), MaeConfig.keysOf("decoder_pred.bias"));
        assertEquals(List.of("embed_dim", "mlp_ratio"), MaeConfig.keysOf("blocks.3.mlp.fc2.weight"));
        assertEquals(List.of("decoder_embed_dim", "mlp_ratio"), MaeConfig.keysOf("decoder_blocks.0.mlp.fc1.bias"));
        assertEquals(List.of("decoder_embed_dim"), MaeConfig.keysOf("mask_token"));
        assertEquals(List.of("embed_dim"), MaeConfig.keysOf("cls_token"));
    }

    @Test void named_configs_with_another_decoder_depth() {
        MaeConfig d3 = MaeConfig.named("tiny-dec3");
        assertEquals("tiny-dec3", d3.name());
        assertEquals(3, d3.decoderDepth());
        assertEquals(MaeConfig.named("tiny").withNormPix(true).embedDim(), d3.embedDim());
        assertEquals(MaeConfig.named("tiny"), MaeConfig.named("tiny-dec1"), "the named config's own depth: its own name");
        assertEquals("tiny", d3.withDecoderDepth(1).name());
        assertEquals("tiny-dec5", d3.withDecoderDepth(5).name());
        assertEquals("t-dec1", new MaeConfig("t", 28, 7, 1, 32, 2, 2, 16, 2, 2, 4f, true).withDecoderDepth(1).name(), "not a named config: always suffixed");
        for (String bad : new String[]{"huge-dec2", "tiny-dec100", "tiny-decx", "tiny-dec"})
        {
            String m = assertThrows(IllegalArgumentException.class, () -> MaeConfig.named(bad)).getMessage();
            assertTrue(m.startsWith("unknown config '" + bad + "' (known: ") && m.contains("tiny") && m.endsWith("; NAME-decN for another decoder depth)"), m);
        }
    }

    @Test void a_config_larger_than_half_the_heap_is_refused_naming_the_sizes() {
        MaeConfig h = MaeConfig.named("mae_vit_huge_patch14");
        long n = h.parameterCount(true), max = Runtime.getRuntime().maxMemory();
        int copies = (int) Math.min(Integer.MAX_VALUE, max / (4 * n) + 1);        // just past all of the heap
        String m = assertThrows(IllegalArgumentException.class, () -> h.requireHeap(true, copies, "pretrain")).getMessage();
        String gb = String.format(java.util.Locale.ROOT, "%.1f", 4.0 * n * copies / 1e9), heap = String.format(java.util.Locale.ROOT, "%.1f", max / 1e9);
        assertEquals("pretrain: config mae_vit_huge_patch14 has " + n + " parameters (" + gb + " GB with what they need), more than half of the Java heap ("
                + heap + " GB; raise -Xmx, e.g. MAE_JAVA_OPTS=-Xmx16g)", m);
        MaeConfig.named("tiny").requireHeap(true, 4, "pretrain");               // a few MB: fine
        h.requireHeap(false, (int) (max / 2 / (4 * h.parameterCount(false))), "forward");   // just within half the heap
    }

    /** Metadata errors name the file once: a bad value as itself, a value outside the limits through the config's message. */
    @Test void metadata_errors_name_the_file_once() {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>(MaeConfig.named("tiny").toMetadata());
        m.put("depth", "two");
        assertEquals("f.st: metadata depth = 'two' is not an integer", assertThrows(IllegalArgumentException.class, () -> MaeConfig.fromMetadata(m, "f.st")).getMessage());
        m.put("depth", "1000");
        assertEquals("f.st: metadata: config tiny: depth 1000 is outside 0..256", assertThrows(IllegalArgumentException.class, () -> MaeConfig.fromMetadata(m, "f.st")).getMessage());
    }
}
