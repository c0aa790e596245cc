package mae.vit;

import mae.autograd.Trace;
import mae.autograd.Var;
import mae.tensor.Device;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The ViT's parameters, shape checks, position embedding, feature outputs, and the stages it reports to a trace. */
class VitContractsTest {
    static void refused(Executable e, String... words) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        for (String w : words) assertTrue(x.getMessage().contains(w), "'" + x.getMessage() + "' should say " + w);
    }

    @Test void parameters_are_registered_once_found_by_name_and_counted() {
        Params p = new Params();
        p.add("w", Tensor.zeros(2, 3));
        p.addFrozen("pos", Tensor.zeros(1, 4));
        refused(() -> p.add("w", Tensor.zeros(1)), "parameter w registered twice");
        refused(() -> p.addFrozen("pos", Tensor.zeros(1)), "parameter pos registered twice");
        refused(() -> p.addFrozen("w", Tensor.zeros(1)), "registered twice");
        refused(() -> p.get("nope"), "no parameter named nope");
        assertTrue(p.has("w"));
        assertFalse(p.has("nope"));
        assertTrue(p.isFrozen("pos"));
        assertFalse(p.isFrozen("w"));
        assertEquals(List.of("w"), List.copyOf(p.trainable().keySet()));
        assertEquals(6, p.count(), "trainable elements only");
        refused(() -> p.set("w", Tensor.zeros(3, 2)), "parameter w: expected shape [2,3], got [3,2]");
        p.set("w", Tensor.full(Device.CPU, 2f, 2, 3));
        assertEquals(2f, p.get("w").value().get(1, 2));
        assertSame(p, p.to(Device.CPU));
        Params q = new Params();
        q.add("w", Tensor.zeros(2, 3));
        q.addFrozen("pos", Tensor.full(Device.CPU, 5f, 1, 4));
        p.copyFrom(q);
        assertEquals(0f, p.get("w").value().get(1, 2));
        assertEquals(5f, p.get("pos").value().get(0, 3));
        q.get("w").value().fill(7f);
        assertEquals(0f, p.get("w").value().get(0, 0), "copied, not shared");
    }

    /** MAE's get_2d_sincos_pos_embed: the column's 1-d embedding, then the row's; sin then cos; a zero cls row. */
    @Test void position_embedding_is_maes_sin_cos_grid() {
        int D = 8, g = 3;
        Tensor e = PosEmbed.sincos2d(D, g, true);
        assertArrayEquals(new int[]{1, 1 + g * g, D}, e.shape());
        for (int d = 0; d < D; d++) assertEquals(0f, e.get(0, 0, d), "cls row");
        int i = 2, j = 1, r = 1 + i * g + j;
        for (int k = 0; k < 2; k++) {
            double w = 1.0 / Math.pow(10000, k / 2.0);
            assertEquals(Math.sin(j * w), e.get(0, r, k), 1e-6);
            assertEquals(Math.cos(j * w), e.get(0, r, 2 + k), 1e-6);
            assertEquals(Math.sin(i * w), e.get(0, r, 4 + k), 1e-6);
            assertEquals(Math.cos(i * w), e.get(0, r, 6 + k), 1e-6);
        }
        assertArrayEquals(new int[]{1, g * g, D}, PosEmbed.sincos2d(D, g, false).shape());
        assertEquals(e.get(0, r, 5), PosEmbed.sincos2d(D, g, false).get(0, r - 1, 5));
        refused(() -> PosEmbed.sincos2d(6, g, true), "divisible by 4, got 6");
    }

    @Test void the_encoder_checks_its_shapes_gives_features_and_names_its_stages() {
        refused(() -> new VisionTransformer(new Params(), 10, 3, 1, 8, 1, 2, 2f, new Rng(1)), "image size 10 is not divisible by patch size 3");
        refused(() -> new Layers.Attention(new Params(), "blocks.0.attn", 10, 3, new Rng(1)), "blocks.0.attn: width 10 is not divisible by 3 heads");
        VisionTransformer vit = new VisionTransformer(new Params(), 8, 4, 2, 8, 2, 2, 2f, new Rng(1));
        assertEquals(4, vit.numPatches());
        refused(() -> vit.checkImages(Tensor.zeros(1, 2, 8), "imgs"), "imgs: expected shape [N,2,8,8], got [1,2,8]");
        refused(() -> vit.checkImages(Tensor.zeros(1, 1, 8, 8), "imgs"), "got [1,1,8,8]");
        refused(() -> vit.checkImages(Tensor.zeros(1, 2, 4, 8), "x"), "x: expected");
        refused(() -> vit.checkImages(Tensor.zeros(1, 2, 8, 4), "x"), "x: expected");
        vit.checkImages(Tensor.zeros(3, 2, 8, 8), "imgs");
        Var imgs = Var.constant(Tensor.randn(new Rng(2), 3, 2, 8, 8));
        Trace t = Trace.start();
        Var all;
        try {
            all = vit.forwardFeatures(imgs);
        } finally {
            t.stop();
        }
        assertArrayEquals(new int[]{3, 5, 8}, all.shape());
        assertEquals(List.of("patch embedding", "+ position embedding", "+ cls", "encoder block 0", "encoder block 1", "encoder norm"),
                t.stages().stream().map(Trace.Stage::name).toList());
        Var cls = vit.clsFeature(imgs);
        assertArrayEquals(new int[]{3, 8}, cls.shape());
        assertArrayEquals(all.value().narrow(1, 0, 1).squeeze(1).toArray(), cls.value().toArray(), "the cls token of the features");
    }

    /** The global-pool variant (fine-tuned classifiers): fc_norm instead of the final norm, which transform then skips. */
    @Test void the_global_pool_variant_has_fc_norm_and_no_final_norm() {
        Params ps = new Params(), plain = new Params();
        VisionTransformer g = new VisionTransformer(ps, 8, 4, 1, 8, 1, 2, 2f, new Rng(3), true);
        VisionTransformer n = new VisionTransformer(plain, 8, 4, 1, 8, 1, 2, 2f, new Rng(3), false);
        assertTrue(g.globalPool());
        assertFalse(n.globalPool());
        assertNull(g.norm);
        assertNotNull(g.fcNorm);
        assertTrue(ps.all().containsKey("fc_norm.weight") && !ps.all().containsKey("norm.weight"), ps.all().keySet().toString());
        assertTrue(plain.all().containsKey("norm.weight") && !plain.all().containsKey("fc_norm.weight"));
        Var x = Var.constant(Tensor.randn(new Rng(4), 2, 5, 8).mul(3).add(1));
        Var blocksOnly = g.blocks.get(0).forward(x);
        assertArrayEquals(blocksOnly.value().toArray(), g.transform(x).value().toArray(), 0f, "no norm after the blocks");
        float[] normed = n.transform(x).value().toArray();
        for (int t = 0; t < 10; t++) {                     // the plain variant's tokens come out normalized (weight 1, bias 0)
            double m = 0;
            for (int d = 0; d < 8; d++) m += normed[t * 8 + d] / 8.0;
            assertEquals(0, m, 1e-5, "token " + t);
        }
    }
}
