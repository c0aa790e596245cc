package mae.model;

import mae.model.WeightFiles.Statements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What {@link WeightFiles#infer} makes of shapes and statements at its edges: a statement that contradicts a shape
 * is refused naming both, head counts are said, known or guessed (with a note), the decoder is told by either of its
 * tensors, and shapes that are not a ViT are refused naming the tensor.
 */
class WeightFilesInferenceTest {
    static final Path F = Path.of("w.pth");

    static Map<String, int[]> base() { return new LinkedHashMap<>(WeightFilesTest.official(16, 768, 2, 512, 1, true, false)); }

    static void refused(Executable e, String... words) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        for (String w : words) assertTrue(x.getMessage().contains(w), "'" + x.getMessage() + "' should say " + w);
    }

    /** Statements with one field set (index as in the record), said by "cfg.json". */
    static Statements says(int field, Object v) {
        Object[] a = new Object[14];
        a[field] = v;
        a[13] = "cfg.json";
        return new Statements((Integer) a[0], (Integer) a[1], (Integer) a[2], (Integer) a[3], (Integer) a[4], (Integer) a[5], (Integer) a[6],
                (Integer) a[7], (Integer) a[8], (Integer) a[9], (Integer) a[10], (Boolean) a[11], null, "cfg.json");
    }

    static MaeConfig infer(Map<String, int[]> s, Statements st, List<String> notes) { return WeightFiles.infer(s, st, F, notes); }

    @Test void the_shapes_alone_give_the_config() {
        List<String> notes = new ArrayList<>();
        MaeConfig c = infer(base(), Statements.NONE, notes);
        assertEquals(new MaeConfig("inferred", 224, 16, 3, 768, 2, 12, 512, 1, 16, 4f, false), c);
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(notes.get(0).startsWith("norm-pix off: the file does not say"), notes.get(0));
    }

    /** Every statement that contradicts a shape is refused, naming where it was said and both values. */
    @Test void a_statement_contradicting_the_shapes_is_refused() {
        Object[][] cases = {{0, 112, "image size 112, the tensors' shapes say 224"}, {1, 14, "patch size 14, the tensors' shapes say 16"},
                {2, 1, "channels 1, the tensors' shapes say 3"}, {3, 1024, "width 1024, the tensors' shapes say 768"},
                {4, 12, "depth 12, the tensors' shapes say 2"}, {9, 3072 + 1, "MLP width 3073, the tensors' shapes say 3072"},
                {6, 256, "decoder width 256, the tensors' shapes say 512"}, {7, 8, "decoder depth 8, the tensors' shapes say 1"},
                {10, 1024, "decoder MLP width 1024, the tensors' shapes say 2048"}};
        for (Object[] k : cases) {
            refused(() -> infer(base(), says((Integer) k[0], k[1]), new ArrayList<>()), "w.pth: cfg.json says " + k[2]);
        }
        Object[][] agree = {{0, 224}, {1, 16}, {2, 3}, {3, 768}, {4, 2}, {9, 3072}, {6, 512}, {7, 1}, {10, 2048}};
        for (Object[] k : agree) assertEquals(768, infer(base(), says((Integer) k[0], k[1]), new ArrayList<>()).embedDim(), "agrees: field " + k[0]);
    }

    @Test void head_counts_are_said_known_or_guessed_with_a_note() {
        assertEquals(8, infer(base(), says(5, 8), new ArrayList<>()).numHeads(), "said");
        refused(() -> infer(base(), says(5, 5), new ArrayList<>()), "w.pth: cfg.json says 5 encoder heads, which do not divide the width 768");
        assertEquals(4, infer(base(), says(8, 4), new ArrayList<>()).decoderNumHeads(), "said");
        refused(() -> infer(base(), says(8, 3), new ArrayList<>()), "cfg.json says 3 decoder heads, which do not divide the width 512");

        List<String> notes = new ArrayList<>();
        MaeConfig c = infer(WeightFilesTest.official(16, 128, 1, 64, 1, true, false), Statements.NONE, notes);
        assertEquals(2, c.numHeads());
        assertEquals(1, c.decoderNumHeads());
        assertTrue(notes.contains("The encoder's head count is not in the file and 128 is not a released width: 2 heads of width 64 assumed "
                + "(pass --config FILE.json with num_heads to change it)."), notes.toString());
        assertTrue(notes.contains("The decoder's head count is not in the file and 64 is not a released width: 1 head of width 64 assumed "
                + "(pass --config FILE.json with decoder_num_heads to change it)."), notes.toString());
        notes.clear();
        assertEquals(1, infer(WeightFilesTest.official(16, 48, 1, 32, 1, true, false), Statements.NONE, notes).numHeads(), "narrower than 64: one head");
        assertTrue(notes.get(0).contains("48 is not a released width: 1 head of width 48 assumed"), notes.toString());
        refused(() -> infer(WeightFilesTest.official(16, 100, 1, 64, 1, true, false), Statements.NONE, new ArrayList<>()),
                "cannot tell the encoder's head count from its width 100", "with num_heads");
        refused(() -> infer(WeightFilesTest.official(16, 128, 1, 96, 1, true, false), Statements.NONE, new ArrayList<>()),
                "cannot tell the decoder's head count from its width 96", "with decoder_num_heads");
        assertEquals(16, infer(WeightFilesTest.official(14, 1280, 1, 512, 1, false, false), Statements.NONE, new ArrayList<>()).numHeads(), "ViT-H");
    }

    @Test void the_image_size_comes_from_the_position_embedding_or_what_is_said() {
        Map<String, int[]> s = base();
        s.put("pos_embed", new int[]{1, 2, 768});
        s.put("decoder_pos_embed", new int[]{1, 2, 512});
        assertEquals(16, infer(s, Statements.NONE, new ArrayList<>()).imgSize(), "one patch");
        s.put("pos_embed", new int[]{1, 1, 768});
        refused(() -> infer(s, Statements.NONE, new ArrayList<>()), "w.pth: pos_embed [1,1,768] is not (1, 1 + g*g, 768) for a square grid of patches");
        s.put("pos_embed", new int[]{1, 1 + 12, 768});
        refused(() -> infer(s, Statements.NONE, new ArrayList<>()), "is not (1, 1 + g*g, 768)");
        s.put("pos_embed", new int[]{2, 1 + 16, 768});
        refused(() -> infer(s, Statements.NONE, new ArrayList<>()), "is not (1, 1 + g*g, 768)");
        s.put("pos_embed", new int[]{1, 1 + 16, 767});
        refused(() -> infer(s, Statements.NONE, new ArrayList<>()), "is not (1, 1 + g*g, 768)");
        s.remove("pos_embed");
        List<String> notes = new ArrayList<>();
        assertEquals(224, infer(s, Statements.NONE, notes).imgSize());
        assertTrue(notes.contains("The file has no position embedding to tell the image size: 224 px (the released models' size)."), notes.toString());
        notes.clear();
        assertEquals(448, infer(s, says(0, 448), notes).imgSize());
        assertTrue(notes.contains("The file has no position embedding to tell the image size: 448 px as cfg.json says."), notes.toString());
    }

    @Test void the_blocks_and_the_mlp_ratio() {
        Map<String, int[]> s = WeightFilesTest.official(16, 768, 0, 512, 0, true, false);
        MaeConfig c = infer(s, Statements.NONE, new ArrayList<>());
        assertEquals(0, c.depth());
        assertEquals(0, c.decoderDepth());
        assertEquals(4f, c.mlpRatio(), "no block to tell: ratio 4");
        Map<String, int[]> two = base();
        for (String b : List.of("blocks.0", "blocks.1", "decoder_blocks.0")) {
            int D = b.startsWith("dec") ? 512 : 768;
            two.put(b + ".mlp.fc1.weight", new int[]{2 * D, D});
        }
        assertEquals(2f, infer(two, Statements.NONE, new ArrayList<>()).mlpRatio(), "fc1 twice the width: ratio 2");
        two.put("decoder_blocks.0.mlp.fc1.weight", new int[]{3 * 512, 512});
        refused(() -> infer(two, Statements.NONE, new ArrayList<>()), "the decoder's MLP width 1536 for width 512 is not the encoder's ratio 2.0");
        Map<String, int[]> odd = WeightFilesTest.official(16, 7, 1, 64, 1, false, false);
        odd.put("blocks.0.mlp.fc1.weight", new int[]{31, 7});
        refused(() -> infer(odd, Statements.NONE, new ArrayList<>()), "MLP width 31 is not a ratio of the width 7");
        Map<String, int[]> gap = base();
        gap.put("blocks.3.norm1.weight", new int[]{768});
        refused(() -> infer(gap, Statements.NONE, new ArrayList<>()), "blocks.* indices run 0 .. 3 with 3 blocks; expected 0 .. 2");
    }

    @Test void the_decoder_is_told_by_either_of_its_tensors() {
        Map<String, int[]> s = WeightFilesTest.official(16, 768, 1, 256, 1, true, false);
        s.remove("decoder_pred.weight");
        assertEquals(256, infer(s, Statements.NONE, new ArrayList<>()).decoderEmbedDim(), "decoder_embed alone");
        Map<String, int[]> t = WeightFilesTest.official(16, 768, 1, 256, 1, true, false);
        t.remove("decoder_embed.weight");
        refused(() -> infer(t, Statements.NONE, new ArrayList<>()), "w.pth: no tensor 'decoder_embed.weight'");
        Map<String, int[]> u = WeightFilesTest.official(16, 768, 1, 256, 1, true, false);
        u.put("decoder_embed.weight", new int[]{256, 767});
        refused(() -> infer(u, Statements.NONE, new ArrayList<>()), "decoder_embed.weight [256,767] does not take the encoder's width 768");
        u.put("decoder_embed.weight", new int[]{256, 768});
        u.put("decoder_pred.weight", new int[]{16 * 16 * 3 + 1, 256});
        refused(() -> infer(u, Statements.NONE, new ArrayList<>()), "'decoder_pred.weight' has shape [769,256], the other tensors need [768,256]");
        MaeConfig enc = infer(WeightFilesTest.official(16, 768, 1, 0, 0, false, false), Statements.NONE, new ArrayList<>());
        assertEquals(List.of(512, 8, 16), List.of(enc.decoderEmbedDim(), enc.decoderDepth(), enc.decoderNumHeads()), "an encoder gets the released decoder");
    }

    @Test void shapes_that_are_not_a_vit_are_refused_naming_the_tensor() {
        Map<String, int[]> s = base();
        s.remove("patch_embed.proj.weight");
        refused(() -> infer(s, Statements.NONE, new ArrayList<>()), "w.pth: no tensor 'patch_embed.proj.weight' (not an MAE or ViT checkpoint");
        s.put("patch_embed.proj.weight", new int[]{768, 3, 16});
        refused(() -> infer(s, Statements.NONE, new ArrayList<>()), "'patch_embed.proj.weight' has shape [768,3,16], expected 4 dimensions");
        s.put("patch_embed.proj.weight", new int[]{768, 3, 16, 0});
        refused(() -> infer(s, Statements.NONE, new ArrayList<>()), "'patch_embed.proj.weight' has shape [768,3,16,0], with an empty dimension");
        s.put("patch_embed.proj.weight", new int[]{768, 3, 16, 8});
        refused(() -> infer(s, Statements.NONE, new ArrayList<>()), "has a non-square 16 x 8 kernel");
        s.put("patch_embed.proj.weight", new int[]{768, 2, 16, 16});
        refused(() -> infer(s, Statements.NONE, new ArrayList<>()), "takes 2 channels; images have 1 or 3");
        s.put("patch_embed.proj.weight", new int[]{768, 1, 16, 16});
        s.put("decoder_pred.weight", new int[]{256, 512});
        assertEquals(1, infer(s, Statements.NONE, new ArrayList<>()).inChans(), "one channel");
        s.put("cls_token", new int[]{1, 1, 767});
        refused(() -> infer(s, Statements.NONE, new ArrayList<>()), "'cls_token' has shape [1,1,767], the other tensors need [1,1,768]");
    }

    @Test void norm_pix_as_said_else_as_the_released_files() {
        List<String> notes = new ArrayList<>();
        assertTrue(WeightFiles.normPix(Statements.NONE, true, Path.of("dir/mae_pretrain_vit_base_full.pth"), notes));
        assertTrue(notes.get(0).startsWith("norm-pix on: the file does not say"), notes.toString());
        notes.clear();
        assertFalse(WeightFiles.normPix(Statements.NONE, true, Path.of("mae_visualize_vit_base.pth"), notes));
        assertTrue(notes.get(0).startsWith("norm-pix off: the file does not say"), notes.toString());
        notes.clear();
        assertTrue(WeightFiles.normPix(Statements.NONE, false, Path.of("mae_visualize_vit_base.pth"), notes), "an encoder: the paper's default");
        assertEquals(List.of(), notes);
        assertFalse(WeightFiles.normPix(says(11, false), true, Path.of("mae_pretrain_vit_base_full.pth"), notes));
        assertEquals(List.of("norm-pix off as cfg.json says."), notes);
        notes.clear();
        assertTrue(WeightFiles.normPix(says(11, true), false, Path.of("x.pth"), notes));
        assertEquals(List.of(), notes, "no note for an encoder");
    }

    @Test void describe_names_every_part_of_the_config() {
        assertEquals("tiny: 28 px, patch 7, 1 channel; encoder 32 wide x 2 blocks, 2 heads; decoder 16 x 1, 2 heads; MLP ratio 4.0; norm-pix on",
                WeightFiles.describe(MaeConfig.named("tiny"), true));
        MaeConfig c = new MaeConfig("x", 224, 16, 3, 64, 1, 1, 512, 8, 16, 2f, false);
        assertEquals("x: 224 px, patch 16, 3 channels; encoder 64 wide x 1 blocks, 1 head (no decoder); MLP ratio 2.0; norm-pix off",
                WeightFiles.describe(c, false));
    }

    /** This engine's own files: their config, replaced by a named one, or norm-pix switched with a note. */
    @Test void own_files_keep_their_config_unless_told(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("own.safetensors");
        Weights.save(f, new MaeModel(MaeConfig.named("tiny"), 1), Map.of());
        WeightFiles.Loaded l = WeightFiles.read(f, WeightFiles.Options.NONE);
        assertEquals(MaeConfig.named("tiny"), l.config());
        assertEquals("this engine's safetensors", l.source());
        assertEquals(List.of(), l.notes());
        WeightFiles.Loaded off = WeightFiles.read(f, new WeightFiles.Options(null, null, false));
        assertFalse(off.config().normPixLoss());
        assertEquals(List.of("norm-pix off as asked (the file says true)."), off.notes());
        WeightFiles.Loaded same = WeightFiles.read(f, new WeightFiles.Options(null, null, true));
        assertEquals(List.of(), same.notes(), "norm-pix as the file says: no note");
        MaeConfig other = MaeConfig.named("tiny").withNormPix(false);
        assertEquals(other, WeightFiles.read(f, WeightFiles.Options.of(other)).config());
        Path json = tmp.resolve("c.json");
        Files.writeString(json, "{}");
        refused(() -> WeightFiles.read(f, new WeightFiles.Options(null, json, null)), "carries its own config; --config FILE.json is for files without one");
    }

    @Test void norm_pix_notes_say_on_or_off() throws Exception {
        List<String> notes = new ArrayList<>();
        assertTrue(WeightFiles.normPix(says(11, true), true, Path.of("x.pth"), notes));
        assertEquals(List.of("norm-pix on as cfg.json says."), notes);
    }

    @Test void own_files_switched_to_norm_pix_on(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("own.safetensors");
        Weights.save(f, new MaeModel(MaeConfig.named("tiny").withNormPix(false), 1), Map.of());
        WeightFiles.Loaded on = WeightFiles.read(f, new WeightFiles.Options(null, null, true));
        assertTrue(on.config().normPixLoss());
        assertEquals(List.of("norm-pix on as asked (the file says false)."), on.notes());
        assertFalse(WeightFiles.read(f, null).config().normPixLoss(), "no options: the file's own");
    }

    /** The format is told by the first bytes: a zip's local header or end record, else safetensors. */
    @Test void files_are_told_apart_by_their_first_bytes(@TempDir Path tmp) throws Exception {
        assertEquals(tmp + ": is a directory, not a checkpoint file (.safetensors, .pth or .bin)", refusedMessage(() -> WeightFiles.read(tmp, null)));
        assertEquals(tmp.resolve("none.pth") + ": no such file", refusedMessage(() -> WeightFiles.read(tmp.resolve("none.pth"), null)));
        for (byte[] head : new byte[][]{{'P', 'K', 3, 4}, {'P', 'K', 5, 6}, {'P', 'K', 3, 6}, {'P', 'K', 5, 4}, {'P', 'K', 1, 2}, {'P', 'K', 3}, {'Q', 'K', 3, 4}, {'P', 'J', 3, 4}}) {
            Path f = tmp.resolve("f.bin");
            java.nio.file.Files.write(f, java.util.Arrays.copyOf(head, head.length == 3 ? 3 : 40));
            Exception e = assertThrows(Exception.class, () -> WeightFiles.read(f, null));
            boolean zip = head.length == 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && (head[3] == 4 || head[3] == 6);
            assertEquals(zip ? "TorchCheckpointException" : "SafetensorsException", e.getClass().getSimpleName(), java.util.Arrays.toString(head) + ": " + e);
        }
    }

    static String refusedMessage(Executable e) { return assertThrows(IllegalArgumentException.class, e).getMessage(); }
}
