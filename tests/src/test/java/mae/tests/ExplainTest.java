package mae.tests;

import mae.autograd.Trace;
import mae.data.Datasets;
import mae.data.Normalization;
import mae.explain.AttentionMaps;
import mae.explain.Explainer;
import mae.model.MaeConfig;
import mae.model.MaskNoise;
import mae.tensor.io.Safetensors;
import mae.train.Checkpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.*;

/** bin/mae explain without a browser: the report's stages, shapes, multiply-adds and pictures, and bad input. */
class ExplainTest {
    static final MaeConfig TINY = MaeConfig.named("tiny");

    /** Multiply-adds of a pre-norm block on T tokens of width W, MLP 4W: qkv, proj, fc1, fc2 and q k^T, p v. */
    static long block(int T, int W) { return 12L * T * W * W + 2L * T * T * W; }

    static List<String> images(String html) {
        List<String> srcs = new ArrayList<>();
        Matcher m = Pattern.compile("<img src=\"([^\"]+)\"").matcher(html);
        while (m.find()) srcs.add(m.group(1));
        return srcs;
    }

    @Test void the_report_lists_every_stage_with_the_shapes_and_pictures_of_the_run(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("report");
        ExplainFixture.Result r = ExplainFixture.explain("--index", "5", "--data", ExplainFixture.DATA, "--masking", "random,block,grid", "--out", out.toString());
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("wrote " + out.resolve("index.html")), r.out());
        String html = Files.readString(out.resolve("index.html"), StandardCharsets.UTF_8);
        String stages = html.substring(html.indexOf("<table id=\"stages\">"), html.indexOf("</table>", html.indexOf("<table id=\"stages\">")));
        LinkedHashMap<String, String> want = new LinkedHashMap<>();   // L = 16, keep = 4, D = 32, Dd = 16, P = 49
        want.put("patch embedding", "[1,16,32]");
        want.put("+ position embedding", "[1,16,32]");
        want.put("masking", "[1,4,32]");
        want.put("+ cls", "[1,5,32]");
        want.put("encoder block 0", "[1,5,32]");
        want.put("encoder block 1", "[1,5,32]");
        want.put("encoder norm", "[1,5,32]");
        want.put("decoder embedding", "[1,5,16]");
        want.put("mask tokens", "[1,16,16]");
        want.put("unshuffle", "[1,17,16]");
        want.put("+ decoder position embedding", "[1,17,16]");
        want.put("decoder block 0", "[1,17,16]");
        want.put("prediction", "[1,16,49]");
        want.put("per-patch loss", "[1,16]");
        for (var w : want.entrySet()) {
            int at = stages.indexOf("<td>" + w.getKey() + "</td>");
            assertTrue(at > 0, "stage " + w.getKey() + " in the table");
            String row = stages.substring(at, stages.indexOf("</tr>", at));
            assertTrue(row.contains(">" + w.getValue() + "<"), w.getKey() + " has shape " + w.getValue() + ": " + row);
        }
        for (String s : images(html)) {
            BufferedImage img = ImageIO.read(out.resolve(s).toFile());
            assertNotNull(img, s + " decodes");
            assertTrue(img.getWidth() > 0 && img.getHeight() > 0);
        }
        assertTrue(images(html).size() >= 25, "pictures: " + images(html));
        assertFalse(html.contains("http://") || html.contains("https://"), "no external URLs");
        assertTrue(html.contains("id=\"saving\""));
    }

    @Test void multiply_adds_come_from_the_trace_and_show_the_saving_of_encoding_visible_patches_only() throws Exception {
        Explainer.Explanation e = explanation(0.75);
        Explainer.Pass p = e.main();
        int L = 16, keep = 4, D = 32, Dd = 16, P = 49;
        assertEquals((long) L * P * D, p.trace().stage("patch embedding").macs());
        assertEquals(block(1 + keep, D), p.trace().stage("encoder block 0").macs());
        assertEquals((long) (1 + keep) * D * Dd, p.trace().stage("decoder embedding").macs());
        assertEquals(block(1 + L, Dd), p.trace().stage("decoder block 0").macs());
        assertEquals((long) (1 + L) * Dd * P, p.trace().stage("prediction").macs());
        for (Trace.Stage s : p.trace().stages()) assertTrue(s.macs() >= 0 && s.shape() != null, s.name());
        long enc = p.macs("encoder"), all = e.encoderMacsAllPatches();
        assertEquals((long) L * P * D + 2 * block(1 + keep, D), enc);
        assertEquals((long) L * P * D + 2 * block(1 + L, D), all);
        double saving = (double) all / enc;
        assertTrue(saving > 3 && saving < 4.2, "encoder at mask 0.75 is 3-4x cheaper than at mask 0: " + saving);
        assertEquals(List.of(0.25, 0.5, 0.75, 0.9), e.sweep().stream().map(Explainer.Pass::ratio).toList());
        for (int i = 1; i < e.sweep().size(); i++)
            assertTrue(e.sweep().get(i).macs("encoder") < e.sweep().get(i - 1).macs("encoder"), "fewer visible patches, fewer multiply-adds");
    }

    @Test void attention_maps_are_the_probabilities_the_blocks_used() throws Exception {
        Explainer.Explanation e = explanation(0.5);
        assertEquals(TINY.depth(), e.attention().size());
        for (AttentionMaps.Maps m : e.attention()) {
            assertArrayEquals(new int[]{1, TINY.numHeads(), 1 + 8, 1 + 8}, m.probs().shape());
            assertTrue(m.maxAbsDiff() < 1e-5, "recomputed attention reproduces the block output: " + m.maxAbsDiff());
            float sum = 0;
            for (float v : m.meanRow(0)) sum += v;
            assertEquals(1f, sum, 1e-5f);
        }
    }

    @Test void the_default_checkpoint_is_runs_latest_and_an_image_of_another_size_is_resized_with_a_note(@TempDir Path tmp) throws Exception {
        Path png = tmp.resolve("wide.png");
        BufferedImage img = new BufferedImage(50, 40, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 40; y++) for (int x = 0; x < 50; x++) img.setRGB(x, y, (x * 5) << 16 | (y * 6) << 8 | 0x40);
        ImageIO.write(img, "png", png.toFile());
        ExplainFixture.Result r = ExplainFixture.explain("--image", png.toString(), "--out", tmp.resolve("r").toString());
        assertEquals(0, r.rc(), r.err());
        String html = Files.readString(tmp.resolve("r/index.html"));
        assertTrue(html.contains("The image is 50 x 40 px; it was resized to 28 x 28 px"), "resize note");
        assertTrue(html.contains(ExplainFixture.run().resolve("checkpoints").toString()), "the checkpoint of runs/latest");
    }

    @Test void an_encoder_only_checkpoint_explains_the_encoder_and_says_why_the_rest_is_missing(@TempDir Path tmp) throws Exception {
        Path full = Checkpoints.resolveWeights(ExplainFixture.run()), enc = tmp.resolve("encoder.safetensors");
        Safetensors.Contents c = Safetensors.read(full);
        LinkedHashMap<String, Safetensors.Entry> t = new LinkedHashMap<>(c.tensors());
        t.keySet().removeIf(k -> k.startsWith("decoder_") || k.equals("mask_token"));
        Safetensors.write(enc, c.metadata(), t);
        ExplainFixture.Result r = ExplainFixture.explain("--checkpoint", enc.toString(), "--index", "0", "--data", ExplainFixture.DATA, "--out", tmp.resolve("r").toString());
        assertEquals(0, r.rc(), r.err());
        String html = Files.readString(tmp.resolve("r/index.html"));
        assertTrue(html.contains("id=\"decoder-missing\"") && html.contains("holds the encoder only"), "says why");
        assertTrue(html.contains("<td>encoder block 1</td>") && html.contains("<td>encoder norm</td>"));
        assertFalse(html.contains("<td>decoder embedding</td>") || html.contains("reconstruction-random.png"), "no decoder stages, no reconstruction");
        for (String s : images(html)) assertNotNull(ImageIO.read(tmp.resolve("r").resolve(s).toFile()), s);
    }

    @Test void bad_input_fails_with_one_clear_line(@TempDir Path tmp) throws Exception {
        Path broken = tmp.resolve("broken.png");
        Files.writeString(broken, "this is not a picture");
        ExplainFixture.Result r = ExplainFixture.explain("--image", broken.toString(), "--out", tmp.resolve("r").toString());
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("broken.png") && r.err().contains("not a readable PNG or JPEG image"), r.err());
        r = ExplainFixture.explain("--image", tmp.resolve("missing.png").toString(), "--out", tmp.resolve("r").toString());
        assertTrue(r.rc() == 1 && r.err().contains("does not exist"), r.err());
        r = ExplainFixture.explain("--image", broken.toString(), "--index", "2", "--out", tmp.resolve("r").toString());
        assertTrue(r.rc() == 1 && r.err().contains("not both"), r.err());
        r = ExplainFixture.explain("--index", "999999", "--data", ExplainFixture.DATA, "--out", tmp.resolve("r").toString());
        assertTrue(r.rc() == 1 && r.err().contains("--index 999999 is outside"), r.err());
        r = ExplainFixture.explain("--index", "0", "--data", ExplainFixture.DATA, "--head", "7", "--out", tmp.resolve("r").toString());
        assertTrue(r.rc() == 1 && r.err().contains("--head 7"), r.err());
        r = ExplainFixture.explain("--index", "0", "--data", ExplainFixture.DATA, "--masking", "stripes", "--out", tmp.resolve("r").toString());
        assertTrue(r.rc() == 1 && r.err().contains("unknown strategy 'stripes'"), r.err());
        assertFalse(Files.exists(tmp.resolve("r/index.html")), "no report from bad input");
    }

    static Explainer.Explanation explanation(double ratio) throws Exception {
        Explainer.Checkpoint ck = Explainer.load(Checkpoints.resolveWeights(ExplainFixture.run()), null);
        Normalization norm = ck.normalization();
        assertNotNull(norm, "pretraining writes the normalization into the checkpoint");
        Datasets.Split split = Datasets.load(Path.of(ExplainFixture.DATA), null, 1, 28);
        Explainer.Subject s = Explainer.datasetImage(split.eval(), 1, ck.cfg(), norm);
        return Explainer.explain(ck, s, norm, new Explainer.Request(ratio, List.of(MaskNoise.RANDOM), 0, -1, 0));
    }
}
