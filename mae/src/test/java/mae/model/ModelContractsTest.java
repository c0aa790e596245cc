package mae.model;

import mae.data.Normalization;
import mae.eval.Encoders;
import mae.optim.AdamW;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The model's metadata, checkpoints of weights and optimizer moments, and the reconstruction pictures: each
 * checked against what it is for (round trips, refusals that name the file and the tensor, pixel values).
 */
class ModelContractsTest {
    @TempDir Path dir;

    static void refused(Executable e, String... words) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        for (String w : words) assertTrue(x.getMessage().contains(w), "'" + x.getMessage() + "' should say " + w);
    }

    @Test void config_metadata_round_trips_and_names_what_is_wrong() {
        MaeConfig c = MaeConfig.named("tiny");
        Map<String, String> m = c.toMetadata();
        assertEquals("tiny", m.get("config_name"));
        assertEquals("28", m.get("img_size"));
        assertEquals("true", m.get("norm_pix_loss"));
        assertEquals(c, MaeConfig.fromMetadata(m, "f"));
        Map<String, String> python = new LinkedHashMap<>(m);
        python.put("norm_pix_loss", "False");
        python.remove("config_name");
        MaeConfig back = MaeConfig.fromMetadata(python, "f");
        assertFalse(back.normPixLoss());
        assertEquals("custom", back.name());
        python.put("norm_pix_loss", "True");
        assertTrue(MaeConfig.fromMetadata(python, "f").normPixLoss());
        python.put("norm_pix_loss", "yes");
        refused(() -> MaeConfig.fromMetadata(python, "f.safetensors"), "f.safetensors: metadata norm_pix_loss is 'yes'");
        python.put("norm_pix_loss", "true");
        python.put("depth", "two");
        refused(() -> MaeConfig.fromMetadata(python, "f"), "metadata depth = 'two' is not an integer");
        python.put("depth", " 2 ");
        assertEquals(2, MaeConfig.fromMetadata(python, "f").depth(), "spaces around a number are fine");
        python.put("mlp_ratio", "four");
        refused(() -> MaeConfig.fromMetadata(python, "f.st"), "f.st: metadata mlp_ratio = 'four' is not a number");
        python.remove("patch_size");
        refused(() -> MaeConfig.fromMetadata(python, "f"), "lacks the config key 'patch_size'");
        refused(() -> MaeConfig.named("huge"), "unknown config 'huge'", "tiny");
        assertEquals(12, c.lenKeep(0.25));
        assertEquals(16, c.numPatches());
        assertEquals(49, c.patchDim());
        assertEquals(MaskNoise.RANDOM, MaskNoise.parse("Random"));
        assertEquals(MaskNoise.BLOCK, MaskNoise.parse("block"));
        assertEquals(MaskNoise.GRID, MaskNoise.parse("GRID"));
        refused(() -> MaskNoise.parse("spiral"), "unknown strategy 'spiral'");
    }

    @Test void weights_round_trip_and_loading_names_every_problem(@TempDir Path tmp) throws Exception {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 7);
        assertSame(mae.tensor.Device.CPU, m.device());
        Path f = tmp.resolve("w.safetensors");
        Weights.save(f, m, Map.of("norm_mean", "0.5", "norm_std", "0.25"));
        MaeModel back = Weights.load(f, null);
        for (String n : m.params.all().keySet())
            assertArrayEquals(m.params.get(n).value().toArray(), back.params.get(n).value().toArray(), n);
        LinkedHashMap<String, Entry> e = Weights.entries(m.params);
        assertEquals(List.copyOf(m.params.all().keySet()), List.copyOf(e.keySet()));
        assertTrue(e.containsKey("pos_embed"), "frozen parameters are saved too");
        Safetensors.Contents c = Safetensors.read(f);
        assertEquals("0.5", c.metadata().get("norm_mean"));
        assertEquals("tiny", c.metadata().get("config_name"));

        Encoders.Loaded enc = Encoders.load(f, null);
        assertArrayEquals(m.encoder.params.get("blocks.1.attn.qkv.weight").value().toArray(), enc.encoder().params.get("blocks.1.attn.qkv.weight").value().toArray());
        assertEquals(new Normalization(new float[]{0.5f}, new float[]{0.25f}).toString(), enc.normalization().toString());
        assertEquals(MaeConfig.named("tiny"), enc.config());
        assertEquals(MaeConfig.named("tiny"), Encoders.load(f, MaeConfig.named("tiny")).config());
        assertArrayEquals(Encoders.create(MaeConfig.named("tiny"), 3).params.get("cls_token").value().toArray(),
                Encoders.create(MaeConfig.named("tiny"), 3).params.get("cls_token").value().toArray());

        // an encoder alone: Encoders read it, the full model refuses it
        Map<String, Entry> encoderOnly = new LinkedHashMap<>(e);
        encoderOnly.keySet().removeIf(k -> k.startsWith("decoder") || k.equals("mask_token"));
        Path g = tmp.resolve("enc.safetensors");
        Safetensors.write(g, MaeConfig.named("tiny").toMetadata(), encoderOnly);
        assertNotNull(Encoders.load(g, null).encoder());
        assertNull(Encoders.load(g, null).normalization(), "no normalization in the metadata");
        refused(() -> Weights.load(g, null), "holds an encoder only");
        Map<String, Entry> predOnly = new LinkedHashMap<>(encoderOnly);
        predOnly.put("decoder_pred.weight", e.get("decoder_pred.weight"));
        Safetensors.write(g, MaeConfig.named("tiny").toMetadata(), predOnly);
        refused(() -> Weights.load(g, null), "missing tensor 'decoder_embed.weight'");

        Map<String, Entry> bad = new LinkedHashMap<>(e);
        bad.put("norm.weight", Entry.f32(new int[]{3}, new float[3]));
        bad.put("norm.bias", Entry.i64(new int[]{32}, new long[32]));
        bad.remove("cls_token");
        bad.put("extra.thing", Entry.f32(new int[]{1}, new float[1]));
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> Weights.assign(new MaeModel(MaeConfig.named("tiny"), 0).params, bad, Path.of("ck.safetensors"), List.of()));
        assertTrue(x.getMessage().startsWith("ck.safetensors: "), x.getMessage());
        assertTrue(x.getMessage().contains("missing tensor 'cls_token' of shape [1,1,32]"), x.getMessage());
        assertTrue(x.getMessage().contains("tensor 'norm.weight' has shape [3], the config needs [32]"), x.getMessage());
        assertTrue(x.getMessage().contains("tensor 'norm.bias' is I64, expected a float type"), x.getMessage());
        assertTrue(x.getMessage().contains("unexpected tensor 'extra.thing' of shape [1]"), x.getMessage());
        // more than five problems: five shown, the rest counted
        Map<String, Entry> empty = new LinkedHashMap<>();
        x = assertThrows(IllegalArgumentException.class, () -> Weights.assign(new MaeModel(MaeConfig.named("tiny"), 0).params, empty, Path.of("e"), List.of()));
        int n = new MaeModel(MaeConfig.named("tiny"), 0).params.all().size();
        assertTrue(x.getMessage().endsWith("; and " + (n - 5) + " more"), x.getMessage());
        assertEquals(5, x.getMessage().split("missing tensor").length - 1);
        Map<String, Entry> six = new LinkedHashMap<>(e);
        List<String> names = List.copyOf(six.keySet()).subList(0, 5);
        names.forEach(six::remove);
        x = assertThrows(IllegalArgumentException.class, () -> Weights.assign(new MaeModel(MaeConfig.named("tiny"), 0).params, six, Path.of("e"), List.of()));
        assertFalse(x.getMessage().contains("more"), "exactly five problems: all shown");
        Map<String, Entry> withDecoder = new LinkedHashMap<>(e);
        Weights.assign(Encoders.create(MaeConfig.named("tiny"), 0).params, withDecoder, Path.of("e"), Weights.DECODER_PREFIXES);
    }

    @Test void optimizer_moments_round_trip_and_loading_checks_each(@TempDir Path tmp) {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 1);
        AdamW opt = new AdamW(m.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
        for (var p : m.params.trainable().values()) p.backward(Tensor.randn(new Rng(2), p.shape()));
        opt.step(1e-3f);
        LinkedHashMap<String, Entry> s = opt.state();
        AdamW other = new AdamW(new MaeModel(MaeConfig.named("tiny"), 1).params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
        other.load(s, 1, "opt.safetensors");
        assertEquals(1, other.steps());
        for (String k : s.keySet()) assertArrayEquals(s.get(k).floats(), other.state().get(k).floats(), k);
        Map<String, Entry> missing = new LinkedHashMap<>(s);
        missing.remove("exp_avg_sq.norm.bias");
        refused(() -> other.load(missing, 1, "opt.safetensors"), "opt.safetensors: missing optimizer tensor 'exp_avg_sq.norm.bias'");
        Map<String, Entry> shaped = new LinkedHashMap<>(s);
        shaped.put("exp_avg.norm.bias", Entry.f32(new int[]{2, 16}, new float[32]));
        refused(() -> other.load(shaped, 1, "o"), "optimizer tensor 'exp_avg.norm.bias' has shape [2, 16], expected [32]");
        // a parameter held as a view is stepped through a copy and replaced
        var w = mae.autograd.Var.param(Tensor.of(new float[]{1, 2, 3, 4}, 2, 2).transpose(0, 1));
        LinkedHashMap<String, mae.autograd.Var> one = new LinkedHashMap<>();
        one.put("v.weight", w);
        AdamW o = new AdamW(one, 0.9f, 0.95f, 1e-8f, 0f);
        w.backward(Tensor.of(new float[]{1, 1, 1, 1}, 2, 2));
        o.step(0.5f);
        assertArrayEquals(new float[]{0.5f, 2.5f, 1.5f, 3.5f}, w.value().toArray(), 1e-6f);
        assertTrue(w.value().isContiguous());
    }

    @Test void normalization_metadata_and_statistics() {
        Normalization n = new Normalization(new float[]{0.5f, 0.25f}, new float[]{0.2f, 0.125f});
        Map<String, String> m = n.toMetadata();
        assertEquals("0.5,0.25", m.get("norm_mean"));
        assertEquals("0.2,0.125", m.get("norm_std"));
        Normalization back = Normalization.fromMetadata(m);
        assertArrayEquals(n.mean(), back.mean());
        assertArrayEquals(n.std(), back.std());
        assertNull(Normalization.fromMetadata(Map.of("other", "0.5")), "no normalization in the metadata");
        refused(() -> Normalization.fromMetadata(Map.of("norm_mean", "0.5"), "f.st", 1), "f.st: metadata has norm_mean but no norm_std");
        refused(() -> Normalization.fromMetadata(Map.of("norm_std", "0.5"), "f.st", 1), "f.st: metadata has norm_std but no norm_mean");
        refused(() -> Normalization.fromMetadata(Map.of("norm_mean", "0.5,x", "norm_std", "1,1"), "f.st", 2), "f.st: metadata norm_mean = '0.5,x' is not a comma-separated list of numbers");
        refused(() -> Normalization.fromMetadata(m, "f.st", 3), "norm_mean has 2 and norm_std 2 values, but the model has 3 input channels");
        assertArrayEquals(n.std(), Normalization.fromMetadata(m, "f.st", 2).std());
        assertArrayEquals(new float[]{0.5f, 0.25f}, Normalization.fromMetadata(Map.of("norm_mean", " 0.5 , 0.25", "norm_std", "1,1")).mean());
        assertEquals("Normalization[mean [0.5, 0.25], std [0.2, 0.125]]", n.toString());
        assertEquals(2, n.channels());
    }

    /** Pictures in [0, 1]: inputs mapped back, removed patches NaN (drawn hatched), the reconstruction pasted over them. */
    @Test void reconstruction_pictures(@TempDir Path tmp) throws Exception {
        for (boolean normPix : new boolean[]{false, true}) {
            MaeModel m = new MaeModel(MaeConfig.named("tiny").withNormPix(normPix), 2);
            Normalization norm = new Normalization(new float[]{0.3f}, new float[]{0.2f});
            Tensor imgs = Tensor.randn(new Rng(3), 2, 1, 28, 28);
            float[] noise = new float[2 * 16];
            for (int i = 0; i < 16; i++) { noise[i] = i / 16f; noise[16 + i] = 1 - i / 16f; }
            Reconstruction.Pictures p = Reconstruction.of(m, imgs, Tensor.of(noise, 2, 16), 0.75, norm);
            float[] x = imgs.toArray(), orig = p.original().toArray(), masked = p.masked().toArray(), pasted = p.pasted().toArray();
            float[] rec = p.reconstruction().toArray();
            MaeModel.Output o = m.forward(imgs, Tensor.of(noise, 2, 16), 0.75);
            Tensor pred = o.pred().value();
            if (normPix) {
                Tensor t = MaeModel.patchify(imgs, 7);
                pred = pred.mul(t.var(new int[]{-1}, true, true).add(1e-6f).sqrt()).add(t.mean(new int[]{-1}, true));
            }
            float[] recWant = Reconstruction.pixels(MaeModel.unpatchify(pred, 7, 1), norm).toArray();
            assertArrayEquals(recWant, rec, 1e-5f, "the prediction (de-normalized per patch with norm-pix) as pixels");
            assertEquals(o.loss().value().item(), p.loss(), 1e-6f);
            for (int i = 0; i < 2; i++)
                for (int y = 0; y < 28; y++)
                    for (int xx = 0; xx < 28; xx++) {
                        int at = (i * 28 + y) * 28 + xx, patch = (y / 7) * 4 + xx / 7;
                        float want = Math.max(0, Math.min(1, x[at] * 0.2f + 0.3f));
                        assertEquals(want, orig[at], 1e-6f);
                        boolean removed = (i == 0 ? patch >= 4 : patch < 12);       // image 0 keeps patches 0-3, image 1 patches 12-15
                        if (removed) assertTrue(Float.isNaN(masked[at]), "masked, image " + i + " patch " + patch + " is NaN");
                        else assertEquals(want, masked[at], 1e-6f, "masked, image " + i + " patch " + patch);
                        assertEquals(removed ? rec[at] : want, pasted[at], 1e-6f, "pasted, image " + i + " patch " + patch);
                    }
        }
        Tensor px = Reconstruction.pixels(Tensor.of(new float[]{-10, 0, 10, 1}, 1, 1, 2, 2), new Normalization(new float[]{0.5f}, new float[]{0.25f}));
        assertArrayEquals(new float[]{0, 0.5f, 1, 0.75f}, px.toArray(), "clipped to [0, 1]");

        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 2);
        Reconstruction.Pictures p = Reconstruction.of(m, Tensor.randn(new Rng(4), 3, 1, 28, 28), Tensor.rand(new Rng(5), 3, 16), 0.5,
                new Normalization(new float[]{0.5f}, new float[]{0.5f}));
        Path png = tmp.resolve("r.png");
        Reconstruction.write(png, p);
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
        assertNotNull(img);
        assertTrue(img.getWidth() >= 4 * 28 * 4 && img.getHeight() >= 3 * 28 * 4, "4 columns, 3 rows, 28 px scaled by 4: " + img.getWidth() + "x" + img.getHeight());
        assertTrue(Files.size(png) > 0);
    }

    /** Exactly the removed patches of each image become NaN, in every channel; a 3-channel model's pictures too. */
    @Test void removed_patches_are_NaN_in_every_channel_of_their_own_image() {
        int N = 2, C = 3, H = 4, W = 4, p = 2;
        float[] px = new float[N * C * H * W];
        for (int i = 0; i < px.length; i++) px[i] = i / (float) px.length;
        float[] mask = {0, 1, 0, 0,   1, 0, 0, 1};            // image 0 removes patch 1 (top right), image 1 patches 0 and 3
        float[] v = Reconstruction.removedAsNaN(Tensor.of(px, N, C, H, W), Tensor.of(mask, N, 4), p).toArray();
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) {
                        int at = ((n * C + c) * H + y) * W + x, patch = (y / p) * 2 + x / p;
                        if (mask[n * 4 + patch] == 1) assertTrue(Float.isNaN(v[at]), "image " + n + " channel " + c + " (" + y + ", " + x + ")");
                        else assertEquals(px[at], v[at], "image " + n + " channel " + c + " (" + y + ", " + x + ")");
                    }
        MaeConfig rgb = new MaeConfig("rgb", 8, 4, 3, 16, 1, 2, 8, 1, 2, 2f, false);
        MaeModel m = new MaeModel(rgb, 1);
        Normalization norm = new Normalization(new float[]{0.4f, 0.5f, 0.6f}, new float[]{0.2f, 0.25f, 0.3f});
        Tensor imgs = Tensor.randn(new Rng(2), 2, 3, 8, 8);
        Reconstruction.Pictures pic = Reconstruction.of(m, imgs, Tensor.of(new float[]{0.1f, 0.9f, 0.2f, 0.3f, 0.8f, 0.1f, 0.2f, 0.3f}, 2, 4), 0.5, norm);
        float[] masked = pic.masked().toArray(), orig = pic.original().toArray();
        int nan = 0;
        for (int i = 0; i < masked.length; i++) {
            if (Float.isNaN(masked[i])) nan++;
            else assertEquals(orig[i], masked[i], 1e-6f);
        }
        assertEquals(2 * 2 * 3 * 16, nan, "two of four patches per image, 3 channels, 16 pixels each");
    }
}
