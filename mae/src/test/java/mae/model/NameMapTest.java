package mae.model;

import mae.model.NameMap.Layout;
import mae.model.NameMap.Part;
import mae.model.NameMap.Row;
import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/** The name table, row by row: each row maps its own names, and only its own; together they cover the model. */
class NameMapTest {
    private static final Path FILE = Path.of("f.pth");

    /** A name a row's pattern matches: {n} and {wb} filled in. */
    private static String sample(String template, int n, String wb) { return template.replace("{n}", "" + n).replace("{wb}", wb); }

    @Test void every_row_maps_its_names_to_its_official_name_and_no_other_row_matches_them() {
        int checked = 0;
        for (Row r : NameMap.ROWS)
            for (int n : new int[]{0, 7, 23})
                for (String wb : new String[]{"weight", "bias"}) {
                    String name = sample(r.pattern(), n, wb);
                    NameMap.Match m = NameMap.match(r.layout(), name);
                    assertNotNull(m, r + ": " + name);
                    assertSame(r, m.row(), name + " matched another row first");
                    assertEquals(sample(r.official(), n, wb), m.official(), name);
                    assertEquals(r.part(), m.part(), name);
                    long matching = NameMap.ROWS.stream().filter(o -> o.layout() == r.layout() && NameMap.match(r.layout(), name) != null
                            && o.regex().matcher(name).matches()).count();
                    assertEquals(1, matching, name + " matches " + matching + " rows");
                    checked++;
                }
        assertEquals(NameMap.ROWS.size() * 6, checked);
    }

    @Test void the_official_rows_cover_every_parameter_and_every_official_name_has_its_hugging_face_rows() {
        MaeModel m = MaeModel.forLoading(new MaeConfig("t", 32, 8, 3, 64, 2, 4, 32, 2, 2, 4f, false), false);
        Set<String> hfOfficial = new TreeSet<>();
        for (Row r : NameMap.ROWS)
            if (r.layout() == Layout.HF)
                for (String wb : new String[]{"weight", "bias"}) for (int n : new int[]{0, 1}) hfOfficial.add(sample(r.official(), n, wb));
        for (String name : m.params.all().keySet()) {
            NameMap.Match o = NameMap.match(Layout.OFFICIAL, name);
            assertNotNull(o, "no official row for " + name);
            assertEquals(name, o.official());
            assertTrue(hfOfficial.contains(name), "no Hugging Face row gives " + name);
        }
        // the classifier's tensors: official rows only (ViTMAE has no fine-tuned classifier layout)
        for (String name : List.of("fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias")) {
            assertEquals(name, NameMap.match(Layout.OFFICIAL, name).official());
            assertFalse(hfOfficial.contains(name), name);
        }
    }

    @Test void hugging_face_query_key_value_stack_into_qkv_rows_in_that_order() {
        Map<String, Entry> t = new LinkedHashMap<>();
        String p = "vit.encoder.layer.0.attention.attention.";
        t.put(p + "value.weight", Entry.f32(new int[]{2, 2}, new float[]{9, 10, 11, 12}));   // file order need not be q, k, v
        t.put(p + "query.weight", Entry.f32(new int[]{2, 2}, new float[]{1, 2, 3, 4}));
        t.put(p + "key.weight", Entry.f32(new int[]{2, 2}, new float[]{5, 6, 7, 8}));
        t.put(p + "query.bias", Entry.f32(new int[]{2}, new float[]{1, 2}));
        t.put(p + "key.bias", Entry.f32(new int[]{2}, new float[]{3, 4}));
        t.put(p + "value.bias", Entry.f32(new int[]{2}, new float[]{5, 6}));
        NameMap.Plan plan = NameMap.plan(t.keySet(), FILE);
        assertEquals(Layout.HF, plan.layout());
        assertEquals(List.of(p + "query.weight", p + "key.weight", p + "value.weight"), plan.sources().get("blocks.0.attn.qkv.weight"));
        Map<String, Entry> out = plan.tensors(t, FILE);
        assertArrayEquals(new int[]{6, 2}, out.get("blocks.0.attn.qkv.weight").shape());
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, out.get("blocks.0.attn.qkv.weight").floats());
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, out.get("blocks.0.attn.qkv.bias").floats());
    }

    @Test void a_ViTMAEModel_encoder_without_the_vit_prefix_maps_too() {
        NameMap.Plan plan = NameMap.plan(List.of("embeddings.cls_token", "encoder.layer.3.layernorm_after.bias", "layernorm.weight"), FILE);
        assertEquals(Layout.HF, plan.layout());
        assertEquals(List.of("cls_token", "blocks.3.norm2.bias", "norm.weight"), new ArrayList<>(plan.sources().keySet()));
    }

    @Test void official_names_map_to_themselves_in_file_order() {
        NameMap.Plan plan = NameMap.plan(List.of("pos_embed", "cls_token", "blocks.11.mlp.fc2.bias", "fc_norm.weight", "head.bias"), FILE);
        assertEquals(Layout.OFFICIAL, plan.layout());
        assertEquals(List.of("pos_embed", "cls_token", "blocks.11.mlp.fc2.bias", "fc_norm.weight", "head.bias"), new ArrayList<>(plan.sources().keySet()));
    }

    @Test void unknown_duplicate_and_incomplete_names_are_one_line_errors() {
        String m = assertThrows(IllegalArgumentException.class, () -> NameMap.plan(List.of("cls_token", "blocks.0.attn.q_bias", "model.head"), FILE)).getMessage();
        assertTrue(m.startsWith("f.pth: 2 tensor names that no row of the official MAE names"), m);
        assertTrue(m.contains("'blocks.0.attn.q_bias', 'model.head'"), m);
        m = assertThrows(IllegalArgumentException.class, () -> NameMap.plan(List.of("vit.encoder.layer.0.attention.attention.query.weight",
                "vit.encoder.layer.0.attention.attention.key.weight"), FILE)).getMessage();
        assertTrue(m.contains("'blocks.0.attn.qkv.weight' needs query, key and value, the file has only"), m);
        m = assertThrows(IllegalArgumentException.class, () -> NameMap.plan(List.of("vit.layernorm.weight", "layernorm.weight"), FILE)).getMessage();
        assertTrue(m.contains("both give 'norm.weight'") || m.contains("no row"), m);
        // an index of seven digits is no block of any released model: not a name of the table
        m = assertThrows(IllegalArgumentException.class, () -> NameMap.plan(List.of("blocks.1234567.norm1.weight"), FILE)).getMessage();
        assertTrue(m.contains("'blocks.1234567.norm1.weight'"), m);
        assertFalse(m.contains("\n"));
    }

    @Test void stacking_needs_one_shape() {
        Map<String, int[]> s = new LinkedHashMap<>();
        String p = "decoder.decoder_layers.2.attention.attention.";
        s.put(p + "query.weight", new int[]{4, 4});
        s.put(p + "key.weight", new int[]{4, 4});
        s.put(p + "value.weight", new int[]{3, 4});
        NameMap.Plan plan = NameMap.plan(s.keySet(), FILE);
        String m = assertThrows(IllegalArgumentException.class, () -> plan.shapes(s, FILE)).getMessage();
        assertTrue(m.contains("must have one shape to stack into 'decoder_blocks.2.attn.qkv.weight'"), m);
        s.put(p + "value.weight", new int[]{4, 4});
        assertArrayEquals(new int[]{12, 4}, plan.shapes(s, FILE).get("decoder_blocks.2.attn.qkv.weight"));
        assertEquals(Part.Q, NameMap.match(Layout.HF, p + "query.weight").part());
    }
}
