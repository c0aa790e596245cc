package mae.model;

import mae.model.WeightFiles.Statements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** What a config.json or a checkpoint's args say: every key read, both spellings, values checked, later statements winning. */
class ConfigStatementsTest {
    @TempDir Path tmp;

    Path json(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    static String refused(org.junit.jupiter.api.function.Executable e) { return assertThrows(IllegalArgumentException.class, e).getMessage(); }

    @Test void hugging_face_keys_and_ours_are_read() throws IOException {
        Statements hf = Statements.fromJson(json("hf.json", "{\"image_size\": [224, 224], \"patch_size\": 16, \"num_channels\": 3, \"hidden_size\": 768,"
                + " \"num_hidden_layers\": 12, \"num_attention_heads\": 12, \"decoder_hidden_size\": 512, \"decoder_num_hidden_layers\": 8,"
                + " \"decoder_num_attention_heads\": 16, \"intermediate_size\": 3072, \"decoder_intermediate_size\": 2048, \"norm_pix_loss\": \"True\"}"));
        assertEquals(List.of(224, 16, 3, 768, 12, 12, 512, 8, 16, 3072, 2048), List.of(hf.imgSize(), hf.patchSize(), hf.inChans(), hf.embedDim(), hf.depth(),
                hf.numHeads(), hf.decoderEmbedDim(), hf.decoderDepth(), hf.decoderNumHeads(), hf.mlpHidden(), hf.decoderMlpHidden()));
        assertEquals(Boolean.TRUE, hf.normPix());
        assertEquals(tmp.resolve("hf.json").toString(), hf.from());
        Statements ours = Statements.fromJson(json("ours.json", "{\"img_size\": 28, \"in_chans\": 1, \"embed_dim\": 32, \"depth\": 2, \"num_heads\": 2,"
                + " \"decoder_embed_dim\": 16, \"decoder_depth\": 1, \"decoder_num_heads\": 2, \"norm_pix_loss\": false}"));
        assertEquals(List.of(28, 1, 32, 2, 2, 16, 1, 2), List.of(ours.imgSize(), ours.inChans(), ours.embedDim(), ours.depth(), ours.numHeads(),
                ours.decoderEmbedDim(), ours.decoderDepth(), ours.decoderNumHeads()));
        assertNull(ours.patchSize());
        assertEquals(Boolean.FALSE, ours.normPix());
        assertNull(Statements.fromJson(json("empty.json", "{}")).normPix());
    }

    @Test void bad_values_name_the_file_and_the_key() throws IOException {
        Path a = json("a.json", "{\"patch_size\": \"16\"}");
        assertEquals(a + ": \"patch_size\" is a string, expected an integer", refused(() -> Statements.fromJson(a)));
        Path b = json("b.json", "{\"image_size\": [224, 192]}");
        assertTrue(refused(() -> Statements.fromJson(b)).startsWith(b + ": \"image_size\" is "));
        Path c = json("c.json", "{\"hidden_size\": 0}");
        assertEquals(c + ": \"hidden_size\" is 0, outside 1 .. 2^20", refused(() -> Statements.fromJson(c)));
        Path d = json("d.json", "{\"hidden_size\": 1048577}");
        assertEquals(d + ": \"hidden_size\" is 1048577, outside 1 .. 2^20", refused(() -> Statements.fromJson(d)));
        assertEquals(1048576, Statements.fromJson(json("e.json", "{\"hidden_size\": 1048576}")).embedDim());
        assertEquals(1, Statements.fromJson(json("f.json", "{\"depth\": 1}")).depth());
        Path g = json("g.json", "{\"norm_pix_loss\": \"yes\"}");
        assertEquals(g + ": \"norm_pix_loss\" is a string, expected true or false", refused(() -> Statements.fromJson(g)));
        Path h = json("h.json", "{\"norm_pix_loss\": 1}");
        assertTrue(refused(() -> Statements.fromJson(h)).endsWith("expected true or false"));
        assertEquals(Boolean.FALSE, Statements.fromJson(json("i.json", "{\"norm_pix_loss\": \"FALSE\"}")).normPix());
        Path bad = json("bad.json", "{\"a\": ");
        assertTrue(refused(() -> Statements.fromJson(bad)).startsWith(bad + ": malformed JSON: "));
        Path big = tmp.resolve("big.json");
        Files.write(big, new byte[(1 << 20) + 1]);
        assertEquals(big + ": " + ((1 << 20) + 1) + " bytes, more than a config file holds", refused(() -> Statements.fromJson(big)));
        Path most = tmp.resolve("most.json");
        Files.writeString(most, "{}" + " ".repeat((1 << 20) - 2));
        assertNull(Statements.fromJson(most).imgSize(), "exactly 1 MiB is read");
    }

    @Test void args_name_a_config_and_later_statements_win() throws IOException {
        Statements a = Statements.fromArgs(Map.of("model", "mae_vit_base_patch16", "input_size", 224L, "norm_pix_loss", true), "ck (args)");
        assertEquals(List.of(224, 16, 3, 768, 12, 12, 512, 8, 16), List.of(a.imgSize(), a.patchSize(), a.inChans(), a.embedDim(), a.depth(), a.numHeads(),
                a.decoderEmbedDim(), a.decoderDepth(), a.decoderNumHeads()));
        assertEquals(Boolean.TRUE, a.normPix());
        assertEquals("mae_vit_base_patch16", a.arch());
        Statements unknown = Statements.fromArgs(Map.of("model", "my_vit", "input_size", 96L), "ck (args)");
        assertEquals(96, unknown.imgSize());
        assertNull(unknown.embedDim(), "an unknown model name says nothing of the widths");
        assertNull(unknown.normPix());
        assertEquals("my_vit", unknown.arch());
        Statements none = Statements.fromArgs(Map.of("model", 5L, "input_size", "224", "norm_pix_loss", "true"), "x");
        assertNull(none.arch());
        assertNull(none.imgSize());
        assertNull(none.normPix());
        assertTrue(refused(() -> Statements.fromArgs(Map.of("input_size", 0L), "ck (args)")).contains("\"input_size\" is 0"));

        Statements json = Statements.fromJson(json("c.json", "{\"image_size\": 448, \"num_attention_heads\": 8}"));
        Statements both = a.with(json);
        assertEquals(448, both.imgSize(), "the later statement wins");
        assertEquals(8, both.numHeads());
        assertEquals(768, both.embedDim(), "what the later one leaves unsaid stays");
        assertEquals(Boolean.TRUE, both.normPix());
        assertEquals("ck (args) and " + tmp.resolve("c.json"), both.from());
        assertEquals(tmp.resolve("c.json").toString(), Statements.NONE.with(json).from());
        assertEquals("ck (args)", a.with(Statements.NONE).from());
    }

    /** config.json beside a hub-named file is read (with a note); beside any other name it is not; a given one always is. */
    @Test void a_config_beside_a_hub_file_is_read() throws IOException {
        json("config.json", "{\"hidden_size\": 64}");
        List<String> notes = new ArrayList<>();
        assertEquals(64, Statements.of(tmp.resolve("model.safetensors"), Map.of(), null, notes).embedDim());
        assertEquals(List.of("Config statements read from " + tmp.resolve("config.json") + "."), notes);
        assertEquals(64, Statements.of(tmp.resolve("pytorch_model.bin"), Map.of(), null, new ArrayList<>()).embedDim());
        notes.clear();
        assertNull(Statements.of(tmp.resolve("other.safetensors"), Map.of(), null, notes).embedDim());
        assertEquals(List.of(), notes);
        Path given = json("given.json", "{\"hidden_size\": 128}");
        assertEquals(128, Statements.of(tmp.resolve("model.safetensors"), Map.of(), given, new ArrayList<>()).embedDim(), "the given one, not the one beside");
        assertNull(Statements.of(tmp.resolve("model.safetensors"), Map.of("args", "not args"), null, new ArrayList<>()).arch());
    }
}
