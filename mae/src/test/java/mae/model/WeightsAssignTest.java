package mae.model;

import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Weights.assign and requireFits: every problem named (the first five, then a count), nothing changed until all is checked. */
class WeightsAssignTest {
    static final Path F = Path.of("w.safetensors");

    @Test void non_finite_values_anywhere_are_refused_with_their_index() {
        assertEquals(-1, Weights.nonFinite(new float[]{0, 1, -3e38f}));
        assertEquals(0, Weights.nonFinite(new float[]{Float.NaN, 1}));
        assertEquals(2, Weights.nonFinite(new float[]{0, 1, Float.NEGATIVE_INFINITY, Float.NaN}));
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 1);
        float[] before = m.params.get("norm.bias").value().toArray();
        LinkedHashMap<String, Entry> t = Weights.entries(new MaeModel(MaeConfig.named("tiny"), 2).params);
        float[] nan = new float[32];
        nan[0] = Float.NaN;
        t.put("norm.bias", Entry.f32(new int[]{32}, nan));
        String msg = assertThrows(IllegalArgumentException.class, () -> Weights.assign(m.params, t, F, List.of())).getMessage();
        assertEquals("w.safetensors: tensor 'norm.bias' holds NaN at index 0 (weights must be finite numbers)", msg);
        assertArrayEquals(before, m.params.get("norm.bias").value().toArray(), "nothing assigned");
        t.remove("norm.bias");
        t.put("extra", Entry.f32(new int[]{1}, new float[1]));
        t.put("decoder_x", Entry.f32(new int[]{1}, new float[1]));
        msg = assertThrows(IllegalArgumentException.class, () -> Weights.assign(m.params, t, F, List.of("decoder_"))).getMessage();
        assertEquals("w.safetensors: missing tensor 'norm.bias' of shape [32]; unexpected tensor 'extra' of shape [1]", msg);
    }

    @Test void require_fits_names_each_missing_or_misshaped_tensor_with_its_config_keys() {
        MaeConfig c = MaeConfig.named("tiny");
        LinkedHashMap<String, Entry> t = Weights.entries(new MaeModel(c, 2).params);
        Weights.requireFits(c, t, F, true, List.of());
        t.remove("blocks.1.norm1.weight");
        t.put("pos_embed", Entry.f32(new int[]{1, 5, 32}, new float[160]));
        t.remove("decoder_blocks.0.mlp.fc1.bias");
        t.put("blocks.2.norm1.weight", Entry.f32(new int[]{32}, new float[32]));
        t.put("decoder_blocks.1.norm1.weight", Entry.f32(new int[]{16}, new float[16]));
        t.put("head.weight", Entry.f32(new int[]{10, 32}, new float[320]));
        String msg = assertThrows(IllegalArgumentException.class, () -> Weights.requireFits(c, t, F, true, List.of("head."))).getMessage();
        assertEquals("w.safetensors: tensor 'pos_embed' has shape [1,5,32], the config needs [1,17,32] (img_size 28, patch_size 7, embed_dim 32); "
                + "missing tensor 'blocks.1.norm1.weight' of shape [32] (depth 2); "
                + "missing tensor 'decoder_blocks.0.mlp.fc1.bias' of shape [64] (decoder_depth 1); "
                + "unexpected tensor 'blocks.2.norm1.weight' of shape [32] (depth 2); "
                + "unexpected tensor 'decoder_blocks.1.norm1.weight' of shape [16] (decoder_depth 1)", msg);
        t.put("x1", Entry.f32(new int[]{1}, new float[1]));
        msg = assertThrows(IllegalArgumentException.class, () -> Weights.requireFits(c, t, F, true, List.of("head."))).getMessage();
        assertTrue(msg.endsWith("; and 1 more"), msg);
        LinkedHashMap<String, Entry> enc = Weights.entries(new MaeModel(c, 2).params);
        enc.keySet().removeIf(k -> k.startsWith("decoder_") || k.equals("mask_token"));
        Weights.requireFits(c, enc, F, false, List.of());
        String e = assertThrows(IllegalArgumentException.class, () -> Weights.requireFits(c, enc, F, true, List.of())).getMessage();
        assertTrue(e.startsWith("w.safetensors: missing tensor 'decoder_embed.weight' of shape [16,32] (decoder_embed_dim 16, embed_dim 32); ")
                && e.contains("missing tensor 'mask_token' of shape [1,1,16] (decoder_embed_dim 16)") && e.endsWith("; and 15 more"), e);
    }
}
