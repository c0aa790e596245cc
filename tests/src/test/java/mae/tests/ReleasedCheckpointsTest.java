package mae.tests;

import mae.autograd.Grad;
import mae.autograd.Var;
import mae.data.ImageFolder;
import mae.data.Preprocess;
import mae.eval.Encoders;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.model.WeightFiles;
import mae.tensor.Tensor;
import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Released checkpoints, in files made the way the real ones are (tests/reference/make_released_fixtures.py): the
 * official .pth layouts, Hugging Face ViTMAE (model.safetensors and pytorch_model.bin, config.json beside), timm's
 * encoder. Each loads; the three layouts of one model give bit-identical outputs; the forward pass matches the
 * float64 reference as the golden tests do (max |ours - reference| <= 1e-4 max |reference| per tensor).
 */
class ReleasedCheckpointsTest {
    static final Path R = Path.of("src/test/resources/released");
    static final Path OFFICIAL = R.resolve("official/mae_visualize_tiny.pth"), HF_ST = R.resolve("hf/model.safetensors"),
            HF_BIN = R.resolve("hf/pytorch_model.bin"), HF_CONFIG = R.resolve("hf/config.json"), TIMM = R.resolve("timm/model.safetensors"),
            ENCODER = R.resolve("official/mae_pretrain_tiny.pth"), HF_ENCODER = R.resolve("hf-encoder/model.safetensors"),
            FINETUNED = R.resolve("official/mae_finetuned_tiny.pth"), TRAINING = R.resolve("official/checkpoint-tiny.pth");
    /** The fixtures' model: 32 px, patch 8, RGB, 64 x 2 with 4 heads, decoder 32 x 1 with 2 heads, raw pixels. */
    static final MaeConfig TINY = new MaeConfig("inferred", 32, 8, 3, 64, 2, 4, 32, 1, 2, 4f, false);

    @TempDir Path tmp;

    static ExplainFixture.Result cli(Path home, String... args) { return ExplainFixture.run(home, args); }

    private Map<String, Entry> forward(Path weights, String... extra) throws Exception {
        Path out = Files.createTempFile(tmp, "out", ".safetensors");
        String[] args = {"forward", "--weights", weights.toString(), "--inputs", R.resolve("inputs.safetensors").toString(), "--out", out.toString()};
        String[] all = java.util.Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        ExplainFixture.Result r = cli(tmp, all);
        assertEquals(0, r.rc(), r.err());
        return Safetensors.read(out).tensors();
    }

    static double relErr(float[] got, float[] want) { return GoldenParityTest.relErr(got, want); }

    @Test void the_three_layouts_give_bit_identical_outputs_that_match_the_float64_reference() throws Exception {
        Map<String, Entry> want = Safetensors.read(R.resolve("expected.safetensors")).tensors();
        Map<String, Entry> official = forward(OFFICIAL, "--config", HF_CONFIG.toString()); // the .pth says no head count: config.json does
        Map<String, Entry> hfSafetensors = forward(HF_ST), hfBin = forward(HF_BIN);      // config.json read from beside them
        Path converted = tmp.resolve("converted.safetensors");
        assertEquals(0, cli(tmp, "convert", HF_BIN.toString(), converted.toString()).rc());
        Map<String, Entry> fromConverted = forward(converted);
        for (String t : want.keySet()) {
            for (Map<String, Entry> other : List.of(hfSafetensors, hfBin, fromConverted)) {
                assertArrayEquals(official.get(t).shape(), other.get(t).shape(), t);
                if (want.get(t).floats() != null) assertArrayEquals(official.get(t).floats(), other.get(t).floats(), t + ": bit-identical");
                else assertArrayEquals(official.get(t).longs(), other.get(t).longs(), t);
            }
            if (want.get(t).floats() != null) {
                double err = relErr(official.get(t).floats(), want.get(t).floats());
                assertTrue(err <= GoldenParityTest.TOL, t + " relative error " + err);
            } else assertArrayEquals(want.get(t).longs(), official.get(t).longs(), t);
        }
        assertArrayEquals(want.get("mask").floats(), official.get("mask").floats());
    }

    @Test void conversion_writes_official_names_the_config_and_the_imagenet_preprocessing() throws Exception {
        Path out = tmp.resolve("vit.safetensors");
        ExplainFixture.Result r = cli(tmp, "convert", R.resolve("hf").toString(), out.toString());    // a downloaded hub folder
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("model: inferred: 32 px, patch 8, 3 channels; encoder 64 wide x 2 blocks, 4 heads; decoder 32 x 1, 2 heads"), r.out());
        Safetensors.Contents c = Safetensors.read(out);
        assertEquals(TINY, MaeConfig.fromMetadata(c.metadata(), out.toString()));
        assertEquals("0.485,0.456,0.406", c.metadata().get("norm_mean"));
        assertEquals("0.875", c.metadata().get("crop_pct"));
        assertEquals("bicubic", c.metadata().get("interpolation"));
        assertEquals("model.safetensors", c.metadata().get("converted_from"));
        assertEquals(List.copyOf(MaeModel.forLoading(TINY, false).params.all().keySet()), List.copyOf(c.tensors().keySet()), "the model's own names and order");
        // the official .pth holds the same values under the same names
        Map<String, Entry> pth = mae.tensor.io.TorchCheckpoint.read(OFFICIAL).tensors();
        for (Map.Entry<String, Entry> e : pth.entrySet())
            assertArrayEquals(e.getValue().floats(), c.tensors().get(e.getKey()).floats(), e.getKey());
    }

    @Test void what_the_file_does_not_say_is_inferred_with_a_note_and_can_be_overridden() throws Exception {
        WeightFiles.Loaded bare = WeightFiles.read(OFFICIAL, WeightFiles.Options.NONE);
        assertEquals(1, bare.config().numHeads(), "64 wide, not a released width: one 64-wide head");
        assertEquals(1, bare.config().decoderNumHeads());
        assertFalse(bare.config().normPixLoss(), "a full model that does not say: the visualization models' raw pixels");
        assertTrue(String.join("\n", bare.notes()).contains("head count is not in the file"), bare.notes().toString());
        assertEquals(TINY, WeightFiles.read(OFFICIAL, WeightFiles.Options.parse(HF_CONFIG.toString(), null)).config());
        assertTrue(WeightFiles.read(OFFICIAL, WeightFiles.Options.parse(HF_CONFIG.toString(), true)).config().normPixLoss());
        // a training checkpoint's args say norm_pix_loss=True
        WeightFiles.Loaded training = WeightFiles.read(TRAINING, WeightFiles.Options.NONE);
        assertTrue(training.config().normPixLoss());
        assertTrue(String.join("\n", training.notes()).contains("(args) says"), training.notes().toString());
        // the loss follows: raw pixels by default, normalized with --norm-pix
        float raw = forward(HF_ST).get("loss").floats()[0], normPix = forward(HF_ST, "--norm-pix").get("loss").floats()[0];
        assertEquals(Safetensors.read(R.resolve("expected.safetensors")).tensors().get("loss").floats()[0], raw, 1e-4f * raw);
        assertNotEquals(raw, normPix);
        // a config.json that contradicts the shapes is an error naming both
        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, "{\"hidden_size\": 96, \"num_attention_heads\": 4}");
        String m = assertThrows(IllegalArgumentException.class, () -> WeightFiles.read(OFFICIAL, WeightFiles.Options.parse(bad.toString(), null))).getMessage();
        assertTrue(m.contains("says width 96, the tensors' shapes say 64"), m);
    }

    @Test void hugging_face_files_without_their_fixed_position_embeddings_get_them_computed() throws Exception {
        Map<String, Entry> t = new java.util.LinkedHashMap<>(Safetensors.read(HF_ST).tensors());
        assertNotNull(t.remove("vit.embeddings.position_embeddings"));
        assertNotNull(t.remove("decoder.decoder_pos_embed"));
        Path dir = Files.createDirectories(tmp.resolve("no-pos"));
        Safetensors.write(dir.resolve("model.safetensors"), Map.of("format", "pt"), t);
        Files.copy(HF_CONFIG, dir.resolve("config.json"));
        WeightFiles.Loaded f = WeightFiles.read(dir.resolve("model.safetensors"), WeightFiles.Options.NONE);
        assertEquals(TINY, f.config(), "the image size from config.json");
        assertTrue(String.join("\n", f.notes()).contains("no encoder position embedding; the fixed 2D sin-cos one (4 x 4 grid) was computed"), f.notes().toString());
        Map<String, Entry> want = Safetensors.read(R.resolve("expected.safetensors")).tensors(), got = forward(dir.resolve("model.safetensors"));
        for (String name : List.of("pred", "latent", "loss"))
            assertTrue(relErr(got.get(name).floats(), want.get(name).floats()) <= GoldenParityTest.TOL, name);
    }

    @Test void encoders_from_timm_the_official_pretrain_file_and_hugging_face_give_the_reference_latent() throws Exception {
        Map<String, Entry> want = Safetensors.read(R.resolve("expected.safetensors")).tensors();
        Safetensors.Contents in = Safetensors.read(R.resolve("inputs.safetensors"));
        Tensor imgs = Tensor.of(in.tensors().get("imgs").floats(), in.tensors().get("imgs").shape());
        Tensor noise = Tensor.of(in.tensors().get("noise").floats(), in.tensors().get("noise").shape());
        float[] first = null;
        for (Path p : List.of(TIMM, ENCODER, HF_ENCODER)) {
            WeightFiles.Loaded f = WeightFiles.read(p, WeightFiles.Options.parse(HF_CONFIG.toString(), null));
            assertFalse(f.hasDecoder(), p.toString());
            Encoders.Loaded e = Encoders.load(f);
            assertEquals(TINY.withNormPix(true).embedDim(), e.config().embedDim());
            MaeModel m = MaeModel.forLoading(e.config(), false);
            e.encoder().params.all().forEach((name, v) -> m.params.set(name, v.value()));
            float[] latent;
            try (Grad.Scope g = Grad.off()) {
                latent = m.forwardEncoder(Var.constant(imgs), m.randomMasking(noise, 0.75)).value().toArray();
            }
            double err = relErr(latent, want.get("latent").floats());
            assertTrue(err <= GoldenParityTest.TOL, p + ": latent relative error " + err);
            if (first == null) first = latent;
            else assertArrayEquals(first, latent, p + ": bit-identical to the timm file");
        }
    }

    @Test void a_fine_tuned_classifier_gives_the_reference_pooled_feature_and_logits() throws Exception {
        Map<String, Entry> want = Safetensors.read(R.resolve("expected_finetuned.safetensors")).tensors();
        WeightFiles.Loaded f = WeightFiles.read(FINETUNED, WeightFiles.Options.parse(HF_CONFIG.toString(), null));
        assertTrue(f.globalPool());
        Encoders.Loaded e = Encoders.load(f);
        assertTrue(e.encoder().globalPool());
        assertNull(e.encoder().norm);
        Safetensors.Contents in = Safetensors.read(R.resolve("inputs.safetensors"));
        Tensor imgs = Tensor.of(in.tensors().get("imgs").floats(), in.tensors().get("imgs").shape());
        try (Grad.Scope g = Grad.off()) {
            Tensor pooled = e.encoder().meanFeature(Var.constant(imgs)).value();
            assertTrue(relErr(pooled.toArray(), want.get("pooled").floats()) <= GoldenParityTest.TOL);
            Entry w = f.tensors().get("head.weight"), b = f.tensors().get("head.bias");       // kept, used by no command
            Tensor logits = pooled.matmul(Tensor.of(w.floats(), w.shape()).transpose(0, 1).contiguous()).add(Tensor.of(b.floats(), b.shape()));
            assertTrue(relErr(logits.toArray(), want.get("logits").floats()) <= GoldenParityTest.TOL);
        }
        Path out = tmp.resolve("ft.safetensors");
        assertEquals(0, cli(tmp, "convert", FINETUNED.toString(), out.toString(), "--config", HF_CONFIG.toString()).rc());
        assertTrue(Safetensors.read(out).tensors().containsKey("head.weight"), "the head is kept in the conversion");
    }

    @Test void pictures_of_any_size_go_through_the_official_crop_as_PIL_makes_it() throws Exception {
        Entry want = Safetensors.read(R.resolve("expected_preprocess.safetensors")).tensors().get("pixels");
        float[] got = ImageFolder.decode(R.resolve("photo.png"), 3, Preprocess.official(32));
        assertArrayEquals(want.shape(), new int[]{3, 32, 32});
        double max = 0;
        for (int i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - want.floats()[i]));
        // PIL resamples 8-bit pixels with fixed-point weights and rounds to 8 bits: within 2 levels of ours
        assertTrue(max <= 2.0 / 255, "max difference " + max * 255 + " levels");
    }

    @Test void every_command_that_takes_a_checkpoint_reads_the_released_files(@TempDir Path work) throws Exception {
        Path photo = R.resolve("photo.png");
        Path rec = work.resolve("rec.png");
        ExplainFixture.Result r = cli(work, "reconstruct", "--checkpoint", HF_BIN.toString(), "--image", photo.toString(), "--out", rec.toString());
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("note: The image is 61 x 45 px; as in the official evaluation transform it was resized to 48 x 36 px"), r.out());
        var img = javax.imageio.ImageIO.read(rec.toFile());
        assertNotNull(img);

        Path report = work.resolve("report");
        r = cli(work, "explain", "--checkpoint", R.resolve("hf").toString(), "--image", photo.toString(), "--masking", "random,grid", "--out", report.toString());
        assertEquals(0, r.rc(), r.err());
        String html = Files.readString(report.resolve("index.html"), StandardCharsets.UTF_8);
        assertTrue(html.contains("4 heads") && html.contains("official evaluation transform"), "config and crop note in the report");
        for (String src : ExplainTest.images(html)) assertTrue(Files.size(report.resolve(src)) > 0, src);

        for (Path encoder : List.of(TIMM, FINETUNED)) {
            Path rep = work.resolve("report-" + encoder.getParent().getFileName());
            r = cli(work, "explain", "--checkpoint", encoder.toString(), "--config", HF_CONFIG.toString(), "--image", photo.toString(), "--out", rep.toString());
            assertEquals(0, r.rc(), encoder + ": " + r.err());
            assertTrue(Files.readString(rep.resolve("index.html")).contains("id=\"decoder-missing\""), encoder.toString());
        }
        r = cli(work, "reconstruct", "--checkpoint", TIMM.toString(), "--image", photo.toString(), "--out", rec.toString());
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("holds an encoder only"), r.err());

        // probe (forward only) and finetune on a folder of photos of any size; results go beside the checkpoint,
        // so the fixtures are copied first
        Path data = work.resolve("photos");
        photos(data);
        Path timm = copy(TIMM, work.resolve("timm")), finetuned = copy(FINETUNED, work.resolve("ft")), encoder = copy(ENCODER, work.resolve("enc"));
        r = cli(work, "probe", "--checkpoint", timm.toString(), "--config", HF_CONFIG.toString(), "--data", data.toString(), "--method", "knn", "--k", "3");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("accuracy: ") && Files.exists(timm.resolveSibling("probe-knn.json")), r.out());
        r = cli(work, "probe", "--checkpoint", finetuned.toString(), "--data", data.toString(), "--epochs", "2");
        assertEquals(0, r.rc(), r.err());
        r = cli(work, "finetune", "--checkpoint", encoder.toString(), "--data", data.toString(), "--epochs", "1", "--batch", "8");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("accuracy: "), r.out());
    }

    static Path copy(Path file, Path dir) throws java.io.IOException {
        Files.createDirectories(dir);
        return Files.copy(file, dir.resolve(file.getFileName()));
    }

    /** 40 small pictures of two kinds (reddish wide ones, bluish tall ones), in class folders. */
    static void photos(Path root) throws Exception {
        java.util.Random rnd = new java.util.Random(5);
        for (int k = 0; k < 2; k++) {
            Path dir = root.resolve(k == 0 ? "red" : "blue");
            Files.createDirectories(dir);
            for (int i = 0; i < 20; i++) {
                int w = k == 0 ? 50 + i : 30, h = k == 0 ? 30 : 50 + i;
                float[] px = new float[3 * h * w];
                for (int j = 0; j < h * w; j++) {
                    px[(k == 0 ? 0 : 2) * h * w + j] = 0.6f + 0.4f * rnd.nextFloat();
                    px[h * w + j] = 0.3f * rnd.nextFloat();
                }
                mae.viz.Png.write(dir.resolve(i + ".png"), px, 3, h, w);
            }
        }
    }
}
