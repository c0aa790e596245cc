package mae.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Config inference from shapes alone: state dicts with the exact shapes of the released ViT-B/16, ViT-L/16 and
 * ViT-H/14 (names and shapes only, no data: a ViT-H is 2.5 GB), under the official, Hugging Face, timm and
 * fine-tuned layouts.
 */
class WeightFilesTest {
    /** The shapes of a released model, written from the architecture (models_mae.py, models_vit.py), not from our model. */
    static Map<String, int[]> official(int p, int D, int depth, int Dd, int ddepth, boolean decoder, boolean finetuned) {
        int L = (224 / p) * (224 / p);
        Map<String, int[]> s = new LinkedHashMap<>();
        s.put("cls_token", new int[]{1, 1, D});
        s.put("pos_embed", new int[]{1, 1 + L, D});
        s.put("patch_embed.proj.weight", new int[]{D, 3, p, p});
        s.put("patch_embed.proj.bias", new int[]{D});
        for (int i = 0; i < depth; i++) block(s, "blocks." + i, D);
        if (finetuned) {
            s.put("fc_norm.weight", new int[]{D});
            s.put("fc_norm.bias", new int[]{D});
            s.put("head.weight", new int[]{1000, D});
            s.put("head.bias", new int[]{1000});
        } else {
            s.put("norm.weight", new int[]{D});
            s.put("norm.bias", new int[]{D});
        }
        if (!decoder) return s;
        s.put("mask_token", new int[]{1, 1, Dd});
        s.put("decoder_pos_embed", new int[]{1, 1 + L, Dd});
        s.put("decoder_embed.weight", new int[]{Dd, D});
        s.put("decoder_embed.bias", new int[]{Dd});
        for (int i = 0; i < ddepth; i++) block(s, "decoder_blocks." + i, Dd);
        s.put("decoder_norm.weight", new int[]{Dd});
        s.put("decoder_norm.bias", new int[]{Dd});
        s.put("decoder_pred.weight", new int[]{p * p * 3, Dd});
        s.put("decoder_pred.bias", new int[]{p * p * 3});
        return s;
    }

    private static void block(Map<String, int[]> s, String b, int D) {
        s.put(b + ".norm1.weight", new int[]{D});
        s.put(b + ".norm1.bias", new int[]{D});
        s.put(b + ".attn.qkv.weight", new int[]{3 * D, D});
        s.put(b + ".attn.qkv.bias", new int[]{3 * D});
        s.put(b + ".attn.proj.weight", new int[]{D, D});
        s.put(b + ".attn.proj.bias", new int[]{D});
        s.put(b + ".norm2.weight", new int[]{D});
        s.put(b + ".norm2.bias", new int[]{D});
        s.put(b + ".mlp.fc1.weight", new int[]{4 * D, D});
        s.put(b + ".mlp.fc1.bias", new int[]{4 * D});
        s.put(b + ".mlp.fc2.weight", new int[]{D, 4 * D});
        s.put(b + ".mlp.fc2.bias", new int[]{D});
    }

    /** The same state dict under Hugging Face ViTMAE's names (convert_vit_mae_to_pytorch.py's renaming). */
    static Map<String, int[]> huggingFace(Map<String, int[]> official) {
        Map<String, int[]> s = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : official.entrySet()) {
            String n = e.getKey();
            int[] shape = e.getValue();
            if (n.contains(".attn.qkv.")) {
                int[] third = shape.clone();
                third[0] /= 3;
                String base = hf(n.replace("attn.qkv.", "attention.attention.QKV."));
                for (String part : List.of("query", "key", "value")) s.put(base.replace("QKV", part), third);
            } else s.put(hf(n), shape);
        }
        return s;
    }

    private static String hf(String n) {
        Map<String, String> fixed = Map.of("cls_token", "vit.embeddings.cls_token", "pos_embed", "vit.embeddings.position_embeddings",
                "mask_token", "decoder.mask_token", "decoder_pos_embed", "decoder.decoder_pos_embed",
                "norm.weight", "vit.layernorm.weight", "norm.bias", "vit.layernorm.bias");
        if (fixed.containsKey(n)) return fixed.get(n);
        n = n.replace("decoder_blocks.", "decoder.decoder_layers.").replace("patch_embed.proj.", "vit.embeddings.patch_embeddings.projection.");
        if (n.startsWith("blocks.")) n = "vit.encoder.layer." + n.substring("blocks.".length());
        n = n.replace("attn.proj.", "attention.output.dense.").replace("norm1.", "layernorm_before.").replace("norm2.", "layernorm_after.")
                .replace("mlp.fc1.", "intermediate.dense.").replace("mlp.fc2.", "output.dense.");
        if (n.startsWith("decoder_")) n = "decoder." + n;
        return n;
    }

    @ParameterizedTest
    @CsvSource({"mae_vit_base_patch16, 16, 768, 12", "mae_vit_large_patch16, 16, 1024, 24", "mae_vit_huge_patch14, 14, 1280, 32"})
    void released_shapes_give_the_released_configs(String name, int p, int D, int depth) {
        MaeConfig want = MaeConfig.named(name);
        List<String> notes = new ArrayList<>();
        Map<String, int[]> full = official(p, D, depth, 512, 8, true, false);
        // a visualization model (mae_visualize_vit_*.pth): raw-pixel targets
        assertEquals(want.withNormPix(false), WeightFiles.inferConfig(full, "mae_visualize_vit_x.pth", notes));
        assertTrue(notes.stream().anyMatch(n -> n.startsWith("norm-pix off: the file does not say")), notes.toString());
        assertTrue(notes.stream().noneMatch(n -> n.contains("head count")), "the families' heads are known: " + notes);
        // the pretraining checkpoints with their decoder predict normalized pixels
        assertEquals(want, WeightFiles.inferConfig(full, "mae_pretrain_vit_x_full.pth", new ArrayList<>()));
        // Hugging Face names: the same config
        assertEquals(want.withNormPix(false), WeightFiles.inferFromFileShapes(huggingFace(full), "pytorch_model.bin", new ArrayList<>()));
        // encoders (mae_pretrain_vit_*.pth; timm's .mae under the same names) and fine-tuned classifiers
        MaeConfig encoder = WeightFiles.inferConfig(official(p, D, depth, 0, 0, false, false), "mae_pretrain_vit_x.pth", new ArrayList<>());
        assertEquals(want, encoder);
        assertEquals(want, WeightFiles.inferConfig(official(p, D, depth, 0, 0, false, true), "mae_finetuned_vit_x.pth", new ArrayList<>()));
        assertEquals(224, encoder.imgSize());
        assertEquals(224 / p, encoder.grid());
    }

    @Test void a_width_that_is_no_released_family_gets_64_wide_heads_with_a_note() {
        List<String> notes = new ArrayList<>();
        MaeConfig c = WeightFiles.inferConfig(official(16, 640, 3, 256, 2, true, false), "x.pth", notes);
        assertEquals(10, c.numHeads());
        assertEquals(4, c.decoderNumHeads());
        assertEquals(3, c.depth());
        assertEquals(2, c.decoderDepth());
        assertEquals("inferred", c.name());
        assertTrue(notes.stream().anyMatch(n -> n.contains("10 heads of width 64 assumed")), notes.toString());
        String m = assertThrows(IllegalArgumentException.class, () -> WeightFiles.inferConfig(official(16, 200, 1, 0, 0, false, false), "y.pth", new ArrayList<>())).getMessage();
        assertTrue(m.contains("cannot tell the encoder's head count from its width 200"), m);
    }

    @Test void inconsistent_shapes_are_one_line_errors() {
        Map<String, int[]> s = official(16, 768, 2, 512, 1, true, false);
        s.put("pos_embed", new int[]{1, 1 + 195, 768});
        assertError(s, "pos_embed [1,196,768] is not (1, 1 + g*g, 768) for a square grid");
        s = official(16, 768, 2, 512, 1, true, false);
        s.remove("blocks.1.norm1.weight");
        s.put("blocks.5.norm1.weight", new int[]{768});
        assertError(s, "blocks.* indices run 0 .. 5 with 3 blocks; expected 0 .. 2");
        s = official(16, 768, 2, 512, 1, true, false);
        s.put("decoder_pred.weight", new int[]{16 * 16 * 3, 256});
        assertError(s, "'decoder_pred.weight' has shape [768,256], the other tensors need [768,512]");
        s = official(16, 768, 2, 512, 1, true, false);
        s.put("patch_embed.proj.weight", new int[]{768, 3, 16, 8});
        assertError(s, "non-square 16 x 8 kernel");
        s.put("patch_embed.proj.weight", new int[]{768, 4, 16, 16});
        assertError(s, "takes 4 channels; images have 1 or 3");
        s.remove("patch_embed.proj.weight");
        assertError(s, "no tensor 'patch_embed.proj.weight'");
        s = official(16, 768, 2, 512, 1, true, false);
        s.put("decoder_blocks.0.mlp.fc1.weight", new int[]{1024, 512});
        assertError(s, "the decoder's MLP width 1024 for width 512 is not the encoder's ratio 4.0");
    }

    private static void assertError(Map<String, int[]> s, String part) {
        String m = assertThrows(IllegalArgumentException.class, () -> WeightFiles.inferConfig(s, "bad.pth", new ArrayList<>())).getMessage();
        assertTrue(m.startsWith("bad.pth: ") && m.contains(part), m);
        assertFalse(m.contains("\n"), m);
    }
}
