package mae.model;

import mae.tensor.Shapes;
import mae.tensor.io.Safetensors.Entry;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one table from the tensor names of released MAE checkpoints to the official MAE names this engine uses
 * (those of facebookresearch/mae: models_mae.py for the pretraining model, models_vit.py for the fine-tuned
 * classifiers). Each {@link #ROWS row} reads: in files of this layout, a tensor named like the pattern is the
 * official tensor (or its q, k or v third). In patterns and names, {@code {n}} is a block index and {@code {wb}}
 * is {@code weight} or {@code bias}, the same in both columns of a row.
 *
 * <ul>
 * <li>{@link Layout#OFFICIAL}: the official {@code .pth} files (encoders {@code mae_pretrain_vit_*.pth}, full models
 *     {@code mae_visualize_vit_*.pth} and {@code mae_pretrain_vit_*_full.pth}, fine-tuned classifiers
 *     {@code mae_finetuned_vit_*.pth}), this engine's own safetensors, and timm's {@code vit_*_patch16_224.mae}
 *     encoders, whose state dict uses exactly these names (timm's VisionTransformer with {@code num_classes=0}:
 *     no head, and no fc_norm with the default cls-token pool). Each name maps to itself.</li>
 * <li>{@link Layout#HF}: Hugging Face ViTMAE ({@code facebook/vit-mae-base|large|huge}, written by transformers'
 *     {@code convert_vit_mae_to_pytorch.py} from the official {@code mae_visualize_vit_*.pth}): the fused
 *     {@code qkv} projection is split into {@code query}, {@code key} and {@code value}, whose weights and biases
 *     are the first, second and last third of its rows. A {@code ViTMAEModel} (the encoder alone) saves the same
 *     names without the leading {@code vit.}; {@link #plan} adds it back.</li>
 * </ul>
 * Names matching no row of the file's layout are errors that name them (a checkpoint of another model is not
 * loaded by accident).
 */
public final class NameMap {
    private NameMap() {}

    /** Where a file's names come from. */
    public enum Layout {
        OFFICIAL("official MAE names (facebookresearch/mae .pth, timm .mae, this engine)"),
        HF("Hugging Face ViTMAE names");

        public final String description;

        Layout(String description) { this.description = description; }
    }

    /** Which part of the official tensor a row's tensor is: all of it, or the q, k or v third of qkv (along dim 0). */
    public enum Part { ALL, Q, K, V }

    /** One line of the table. */
    public record Row(Layout layout, String pattern, String official, Part part) {
        Pattern regex() {
            return Pattern.compile(pattern.replace(".", "\\.").replace("{n}", "(?<n>0|[1-9][0-9]{0,5})").replace("{wb}", "(?<wb>weight|bias)"));
        }

        /** The official name for a name this row matched. */
        String official(Matcher m) {
            String s = official;
            if (pattern.contains("{n}")) s = s.replace("{n}", m.group("n"));
            if (pattern.contains("{wb}")) s = s.replace("{wb}", m.group("wb"));
            return s;
        }
    }

    private static Row same(String name) { return new Row(Layout.OFFICIAL, name, name, Part.ALL); }

    private static Row hf(String pattern, String official) { return new Row(Layout.HF, pattern, official, Part.ALL); }

    private static Row hf(String pattern, String official, Part part) { return new Row(Layout.HF, pattern, official, part); }

    /** The table: official names first (each maps to itself), then Hugging Face ViTMAE's. */
    public static final List<Row> ROWS = List.of(
            // ---- official MAE (models_mae.py, models_vit.py); timm .mae encoders use the encoder rows
            same("cls_token"),
            same("pos_embed"),                                  // fixed 2D sin-cos, cls row first
            same("patch_embed.proj.{wb}"),                      // conv (D, C, p, p)
            same("blocks.{n}.norm1.{wb}"),
            same("blocks.{n}.attn.qkv.{wb}"),                   // (3D, D): q, k, v rows
            same("blocks.{n}.attn.proj.{wb}"),
            same("blocks.{n}.norm2.{wb}"),
            same("blocks.{n}.mlp.fc1.{wb}"),
            same("blocks.{n}.mlp.fc2.{wb}"),
            same("norm.{wb}"),                                  // pretraining encoders; absent from global-pool classifiers
            same("fc_norm.{wb}"),                               // fine-tuned classifiers: norm after the mean pool
            same("head.{wb}"),                                  // fine-tuned classifiers: the ImageNet-1k head
            same("mask_token"),
            same("decoder_pos_embed"),
            same("decoder_embed.{wb}"),
            same("decoder_blocks.{n}.norm1.{wb}"),
            same("decoder_blocks.{n}.attn.qkv.{wb}"),
            same("decoder_blocks.{n}.attn.proj.{wb}"),
            same("decoder_blocks.{n}.norm2.{wb}"),
            same("decoder_blocks.{n}.mlp.fc1.{wb}"),
            same("decoder_blocks.{n}.mlp.fc2.{wb}"),
            same("decoder_norm.{wb}"),
            same("decoder_pred.{wb}"),
            // ---- Hugging Face ViTMAEForPreTraining (modeling_vit_mae.py)
            hf("vit.embeddings.cls_token", "cls_token"),
            hf("vit.embeddings.position_embeddings", "pos_embed"),
            hf("vit.embeddings.patch_embeddings.projection.{wb}", "patch_embed.proj.{wb}"),
            hf("vit.encoder.layer.{n}.layernorm_before.{wb}", "blocks.{n}.norm1.{wb}"),
            hf("vit.encoder.layer.{n}.attention.attention.query.{wb}", "blocks.{n}.attn.qkv.{wb}", Part.Q),
            hf("vit.encoder.layer.{n}.attention.attention.key.{wb}", "blocks.{n}.attn.qkv.{wb}", Part.K),
            hf("vit.encoder.layer.{n}.attention.attention.value.{wb}", "blocks.{n}.attn.qkv.{wb}", Part.V),
            hf("vit.encoder.layer.{n}.attention.output.dense.{wb}", "blocks.{n}.attn.proj.{wb}"),
            hf("vit.encoder.layer.{n}.layernorm_after.{wb}", "blocks.{n}.norm2.{wb}"),
            hf("vit.encoder.layer.{n}.intermediate.dense.{wb}", "blocks.{n}.mlp.fc1.{wb}"),
            hf("vit.encoder.layer.{n}.output.dense.{wb}", "blocks.{n}.mlp.fc2.{wb}"),
            hf("vit.layernorm.{wb}", "norm.{wb}"),
            hf("decoder.mask_token", "mask_token"),
            hf("decoder.decoder_pos_embed", "decoder_pos_embed"),
            hf("decoder.decoder_embed.{wb}", "decoder_embed.{wb}"),
            hf("decoder.decoder_layers.{n}.layernorm_before.{wb}", "decoder_blocks.{n}.norm1.{wb}"),
            hf("decoder.decoder_layers.{n}.attention.attention.query.{wb}", "decoder_blocks.{n}.attn.qkv.{wb}", Part.Q),
            hf("decoder.decoder_layers.{n}.attention.attention.key.{wb}", "decoder_blocks.{n}.attn.qkv.{wb}", Part.K),
            hf("decoder.decoder_layers.{n}.attention.attention.value.{wb}", "decoder_blocks.{n}.attn.qkv.{wb}", Part.V),
            hf("decoder.decoder_layers.{n}.attention.output.dense.{wb}", "decoder_blocks.{n}.attn.proj.{wb}"),
            hf("decoder.decoder_layers.{n}.layernorm_after.{wb}", "decoder_blocks.{n}.norm2.{wb}"),
            hf("decoder.decoder_layers.{n}.intermediate.dense.{wb}", "decoder_blocks.{n}.mlp.fc1.{wb}"),
            hf("decoder.decoder_layers.{n}.output.dense.{wb}", "decoder_blocks.{n}.mlp.fc2.{wb}"),
            hf("decoder.decoder_norm.{wb}", "decoder_norm.{wb}"),
            hf("decoder.decoder_pred.{wb}", "decoder_pred.{wb}"));

    private static final List<Pattern> REGEXES = ROWS.stream().map(Row::regex).toList();

    /** A name of a file matched to its row: the official name and the part. */
    public record Match(Row row, String official, Part part) {}

    /** The row of {@code layout} that {@code name} matches, or null. */
    public static Match match(Layout layout, String name) {
        for (int i = 0; i < ROWS.size(); i++) {
            Row r = ROWS.get(i);
            if (r.layout() != layout) continue;
            Matcher m = REGEXES.get(i).matcher(name);
            if (m.matches()) return new Match(r, r.official(m), r.part());
        }
        return null;
    }

    /** Hugging Face when any name starts as ViTMAE's do; else official. */
    public static Layout detect(Collection<String> names) {
        for (String n : names)
            if (n.startsWith("vit.") || n.startsWith("decoder.") || n.startsWith("embeddings.") || n.startsWith("encoder.layer.")) return Layout.HF;
        return Layout.OFFICIAL;
    }

    /**
     * How a file's tensors become the official ones: for each official name (in the order the file first names
     * it), the file's tensor names it is made of: one, or q, k and v in that order.
     */
    public record Plan(Layout layout, LinkedHashMap<String, List<String>> sources) {
        /** The official tensors' shapes (q, k and v stacked along dim 0); shapes that cannot stack are errors. */
        public LinkedHashMap<String, int[]> shapes(Map<String, int[]> fileShapes, Path file) {
            LinkedHashMap<String, int[]> out = new LinkedHashMap<>();
            sources.forEach((official, src) -> out.put(official, stacked(official, src, fileShapes, file)));
            return out;
        }

        /** The official tensors, q, k and v stacked (a copy); single tensors are passed through unchanged. */
        public LinkedHashMap<String, Entry> tensors(Map<String, Entry> fileTensors, Path file) {
            LinkedHashMap<String, Entry> out = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> e : sources.entrySet()) {
                List<String> src = e.getValue();
                if (src.size() == 1) { out.put(e.getKey(), fileTensors.get(src.get(0))); continue; }
                Map<String, int[]> shapes = new LinkedHashMap<>();
                for (String s : src) shapes.put(s, fileTensors.get(s).shape());
                int[] shape = stacked(e.getKey(), src, shapes, file);
                float[] all = new float[Math.toIntExact(Shapes.numel(shape))];
                int at = 0;
                for (String s : src) {
                    float[] part = fileTensors.get(s).floats();
                    if (part == null) throw new IllegalArgumentException(file + ": tensor '" + s + "' is " + fileTensors.get(s).dtype() + ", expected a float type");
                    System.arraycopy(part, 0, all, at, part.length);
                    at += part.length;
                }
                out.put(e.getKey(), Entry.f32(shape, all));
            }
            return out;
        }

        private static int[] stacked(String official, List<String> src, Map<String, int[]> shapes, Path file) {
            int[] first = shapes.get(src.get(0));
            if (src.size() == 1) return first;
            for (String s : src)
                if (!java.util.Arrays.equals(shapes.get(s), first) || first.length == 0)
                    throw new IllegalArgumentException(file + ": '" + src.get(0) + "' " + Shapes.str(first) + ", '" + src.get(1) + "' "
                            + Shapes.str(shapes.get(src.get(1))) + " and '" + src.get(2) + "' " + Shapes.str(shapes.get(src.get(2)))
                            + " must have one shape to stack into '" + official + "'");
            int[] out = first.clone();
            out[0] = Math.multiplyExact(3, first[0]);
            return out;
        }
    }

    /**
     * The plan for a file's names. Errors (one line naming the file): names no row of the layout knows, two names
     * for one official tensor, a q, k or v without the other two.
     */
    public static Plan plan(Collection<String> fileNames, Path file) {
        Layout layout = detect(fileNames);
        boolean bareEncoder = layout == Layout.HF && fileNames.stream().noneMatch(n -> n.startsWith("vit."));
        LinkedHashMap<String, String[]> parts = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>(), problems = new ArrayList<>();
        for (String name : fileNames) {
            String lookup = bareEncoder && !name.startsWith("decoder.") ? "vit." + name : name;
            Match m = match(layout, lookup);
            if (m == null) { unknown.add(name); continue; }
            String[] slot = parts.computeIfAbsent(m.official(), k -> new String[m.part() == Part.ALL ? 1 : 3]);
            int i = m.part() == Part.ALL ? 0 : m.part().ordinal() - 1;
            if (slot.length != (m.part() == Part.ALL ? 1 : 3) || slot[i] != null)
                problems.add("'" + name + "' and '" + (slot[i] != null ? slot[i] : String.join("', '", nonNull(slot))) + "' both give '" + m.official() + "'");
            else slot[i] = name;
        }
        if (!unknown.isEmpty())
            problems.add(0, unknown.size() + " tensor name" + (unknown.size() > 1 ? "s" : "") + " that no row of the " + layout.description
                    + " table knows: '" + String.join("', '", unknown.subList(0, Math.min(5, unknown.size()))) + "'" + (unknown.size() > 5 ? ", ..." : ""));
        LinkedHashMap<String, List<String>> sources = new LinkedHashMap<>();
        parts.forEach((official, slot) -> {
            if (slot.length == 3 && (slot[0] == null || slot[1] == null || slot[2] == null))
                problems.add("'" + official + "' needs query, key and value, the file has only '" + String.join("', '", nonNull(slot)) + "'");
            else sources.put(official, List.of(slot));
        });
        if (!problems.isEmpty())
            throw new IllegalArgumentException(file + ": " + String.join("; ", problems.subList(0, Math.min(3, problems.size())))
                    + (problems.size() > 3 ? "; and " + (problems.size() - 3) + " more" : ""));
        return new Plan(layout, sources);
    }

    private static List<String> nonNull(String[] a) {
        List<String> out = new ArrayList<>();
        for (String s : a) if (s != null) out.add(s);
        return out;
    }
}
