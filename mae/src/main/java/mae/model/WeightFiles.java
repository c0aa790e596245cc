package mae.model;

import mae.data.Normalization;
import mae.data.Preprocess;
import mae.tensor.Shapes;
import mae.tensor.io.Json;
import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import mae.tensor.io.TorchCheckpoint;
import mae.vit.PosEmbed;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Any weights file a command takes, as this engine's safetensors contents: tensors under the official MAE names,
 * the config (and, for released ImageNet models, the ImageNet normalization and the official evaluation crop) in
 * the metadata. What {@code bin/mae convert} writes, and what every command that takes {@code --checkpoint} loads.
 *
 * <p>Files: this engine's safetensors (config in {@code __metadata__}: read as they are); and released files,
 * whatever their names ({@link NameMap}): torch.save zip files ({@code .pth}, {@code .bin}, read by
 * {@link TorchCheckpoint} without running code) and safetensors without our config (Hugging Face, timm). The
 * format is told by the file's first bytes, not its name.
 *
 * <p>The config of a released file comes from its tensors' shapes: width D, input channels and patch size from
 * {@code patch_embed.proj.weight} (D, C, p, p); the image size from {@code pos_embed} (1, 1 + (img/p)^2, D);
 * depth from the blocks; the MLP ratio from {@code fc1}; the decoder's width, depth and output from its tensors.
 * Head counts are not in the shapes: they come from what the file says (its {@code args}, or a Hugging Face
 * {@code config.json} beside it or given with {@code --config FILE.json}), else the released family of that width
 * (ViT-B 768: 12, ViT-L 1024: 16, ViT-H 1280: 16; decoder 512: 16), else 64-wide heads. norm-pix comes from the
 * file where it says so, else the released files' own value (see {@link #normPix}); {@code --[no-]norm-pix}
 * overrides it and {@code --config NAME} replaces the whole config. What is inferred is said in {@link Loaded#notes}.
 */
public final class WeightFiles {
    private WeightFiles() {}

    /** Largest config.json read. */
    private static final long MAX_CONFIG_BYTES = 1 << 20;
    /** A released full model that was trained with norm-pix targets: the pretraining checkpoints with their decoder. */
    private static final Pattern NORM_PIX_FILE = Pattern.compile("(?i).*mae_pretrain_vit_.*_full.*");

    /** Released encoders' head counts by width (ViT-Ti, -S, -B, -L, -H); others get 64-wide heads. */
    static final Map<Integer, Integer> ENCODER_HEADS = Map.of(192, 3, 384, 6, 768, 12, 1024, 16, 1280, 16);
    /** Released decoders' head counts by width. */
    static final Map<Integer, Integer> DECODER_HEADS = Map.of(512, 16);
    /** The released decoder, used as the (unused) decoder of an encoder-only config. */
    static final int[] RELEASED_DECODER = {512, 8, 16};

    /**
     * What the user said: a named config that replaces the file's (null: none), a JSON file of config statements
     * (Hugging Face config.json keys or this engine's metadata keys; null: none), norm-pix (null: the file's).
     */
    public record Options(MaeConfig config, Path configJson, Boolean normPix) {
        public static final Options NONE = new Options(null, null, null);

        public static Options of(MaeConfig config) { return new Options(config, null, null); }

        /** {@code --config NAME|FILE.json} and {@code --[no-]norm-pix} as given (either may be null). */
        public static Options parse(String config, Boolean normPix) {
            if (config == null) return new Options(null, null, normPix);
            if (MaeConfig.NAMED.containsKey(config)) return new Options(MaeConfig.named(config), null, normPix);
            if (config.endsWith(".json") || Files.isRegularFile(Path.of(config))) {
                Path p = Path.of(config);
                if (!Files.isRegularFile(p)) throw new IllegalArgumentException("--config " + config + ": no such file");
                return new Options(null, p, normPix);
            }
            return new Options(MaeConfig.named(config), null, normPix); // the unknown-name error lists the names
        }
    }

    /** A file read: where from, what it holds (official names, config in the metadata), its config, and what was inferred. */
    public record Loaded(Path file, String source, Safetensors.Contents contents, MaeConfig config, List<String> notes) {
        public Map<String, Entry> tensors() { return contents.tensors(); }
        public Map<String, String> metadata() { return contents.metadata(); }
        public boolean hasDecoder() { return tensors().containsKey("decoder_embed.weight") || tensors().containsKey("decoder_pred.weight"); }
        /** An official fine-tuned classifier's encoder: fc_norm after the mean pool, no final norm. */
        public boolean globalPool() { return tensors().containsKey("fc_norm.weight") && !tensors().containsKey("norm.weight"); }
        /** The normalization the file names, or null. */
        public Normalization normalization() { return Normalization.fromMetadata(metadata(), file().toString(), config().inChans()); }
        /** How pictures are prepared for this model. */
        public Preprocess preprocess() { return Preprocess.fromMetadata(metadata(), config.imgSize()); }
    }

    // ---------------------------------------------------------------- reading

    /**
     * Reads any supported file; every problem is one line naming the file. While a large file is read, a
     * {@link Warmup} gets the kernels compiled on the other core.
     */
    public static Loaded read(Path file, Options o) throws IOException {
        if (Files.isDirectory(file)) throw new IllegalArgumentException(file + ": is a directory, not a checkpoint file (.safetensors, .pth or .bin)");
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such file");
        try (Warmup w = Warmup.ENABLED && Files.size(file) >= Warmup.MIN_FILE_BYTES ? Warmup.start() : null) {
            return readFile(file, o);
        }
    }

    private static Loaded readFile(Path file, Options o) throws IOException {
        Options opt = o == null ? Options.NONE : o;
        boolean zip = isZip(file);
        Map<String, String> meta;
        LinkedHashMap<String, Entry> tensors;
        Map<String, Object> extras = Map.of();
        if (zip) {
            TorchCheckpoint.Contents c = TorchCheckpoint.read(file);
            meta = Map.of();
            tensors = c.tensors();
            extras = c.extras();
        } else {
            Safetensors.Contents c = Safetensors.read(file);
            meta = c.metadata();
            tensors = c.tensors();
        }
        if (!zip && meta.keySet().containsAll(MaeConfig.KEYS)) return own(file, meta, tensors, opt);

        List<String> notes = new ArrayList<>();
        NameMap.Plan plan = NameMap.plan(tensors.keySet(), file);
        Map<String, int[]> fileShapes = new LinkedHashMap<>();
        tensors.forEach((k, v) -> fileShapes.put(k, v.shape()));
        LinkedHashMap<String, int[]> shapes = plan.shapes(fileShapes, file);
        Statements st = Statements.of(file, extras, opt.configJson(), notes);
        MaeConfig cfg = opt.config() != null ? opt.config() : infer(shapes, st, file, notes);
        if (opt.normPix() != null && opt.normPix() != cfg.normPixLoss()) {
            cfg = cfg.withNormPix(opt.normPix());
            notes.add("norm-pix " + (opt.normPix() ? "on" : "off") + " as asked.");
        }
        LinkedHashMap<String, Entry> official = plan.tensors(tensors, file);
        addFixedPositionEmbeddings(official, cfg, notes);

        Map<String, String> metadata = new LinkedHashMap<>(cfg.toMetadata());
        if (cfg.inChans() == 3) {
            metadata.putAll(Normalization.IMAGENET.toMetadata());
            metadata.putAll(Preprocess.official(cfg.imgSize()).toMetadata());
        }
        String source = (zip ? "torch.save file" : "safetensors") + " with " + plan.layout().description;
        metadata.put("converted_from", file.getFileName().toString());
        metadata.put("source_format", source);
        return new Loaded(file, source, new Safetensors.Contents(metadata, official), cfg, List.copyOf(notes));
    }

    /** This engine's own file: as it is, with a named config or a norm-pix flag applied when given. */
    private static Loaded own(Path file, Map<String, String> meta, LinkedHashMap<String, Entry> tensors, Options o) {
        if (o.configJson() != null)
            throw new IllegalArgumentException(file + " carries its own config; --config FILE.json is for files without one (pass --config NAME to replace it)");
        MaeConfig cfg = o.config() != null ? o.config() : MaeConfig.fromMetadata(meta, file.toString());
        List<String> notes = new ArrayList<>();
        if (o.normPix() != null && o.normPix() != cfg.normPixLoss()) {
            cfg = cfg.withNormPix(o.normPix());
            notes.add("norm-pix " + (o.normPix() ? "on" : "off") + " as asked (the file says " + !o.normPix() + ").");
        }
        return new Loaded(file, "this engine's safetensors", new Safetensors.Contents(meta, tensors), cfg, List.copyOf(notes));
    }

    /** Whether the file starts as a zip archive does (torch.save); otherwise it is read as safetensors. */
    private static boolean isZip(Path file) throws IOException {
        byte[] head = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, 4);
        }
        return n == 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && (head[3] == 4 || head[3] == 6);
    }

    /** Hugging Face may leave out the fixed sin-cos position embeddings (they are not learned): computed here. */
    private static void addFixedPositionEmbeddings(Map<String, Entry> t, MaeConfig cfg, List<String> notes) {
        if (!t.containsKey("pos_embed")) {
            t.put("pos_embed", sincos(cfg.embedDim(), cfg.grid()));
            notes.add("The file has no encoder position embedding; the fixed 2D sin-cos one (" + cfg.grid() + " x " + cfg.grid() + " grid) was computed.");
        }
        if (!t.containsKey("decoder_pos_embed") && (t.containsKey("decoder_embed.weight") || t.containsKey("decoder_pred.weight"))) {
            t.put("decoder_pos_embed", sincos(cfg.decoderEmbedDim(), cfg.grid()));
            notes.add("The file has no decoder position embedding; the fixed 2D sin-cos one was computed.");
        }
    }

    private static Entry sincos(int dim, int grid) {
        var t = PosEmbed.sincos2d(dim, grid, true);
        return Entry.f32(t.shape(), t.toArray());
    }

    // ---------------------------------------------------------------- what the file says

    /**
     * Config statements from the file's {@code args} (official training checkpoints) and a config.json (Hugging
     * Face's keys or ours): each null when unsaid. {@code from} names where they came from, for messages.
     */
    record Statements(Integer imgSize, Integer patchSize, Integer inChans, Integer embedDim, Integer depth, Integer numHeads,
                      Integer decoderEmbedDim, Integer decoderDepth, Integer decoderNumHeads, Integer mlpHidden,
                      Integer decoderMlpHidden, Boolean normPix, String arch, String from) {
        static final Statements NONE = new Statements(null, null, null, null, null, null, null, null, null, null, null, null, null, null);

        /** args beside the weights, then config.json (given, or beside a hub-named file), the later winning. */
        static Statements of(Path file, Map<String, Object> extras, Path configJson, List<String> notes) throws IOException {
            Statements st = NONE;
            if (extras.get("args") instanceof TorchCheckpoint.Opaque args) st = fromArgs(args.attributes(), file + " (args)");
            Path json = configJson;
            String name = file.getFileName().toString();
            if (json == null && (name.equals("model.safetensors") || name.equals("pytorch_model.bin"))) {
                Path beside = file.toAbsolutePath().resolveSibling("config.json");
                if (Files.isRegularFile(beside)) json = beside;
            }
            if (json != null) {
                st = st.with(fromJson(json));
                notes.add("Config statements read from " + json + ".");
            }
            return st;
        }

        static Statements fromArgs(Map<String, Object> a, String from) {
            String arch = a.get("model") instanceof String s ? s : null;
            Integer img = a.get("input_size") instanceof Long l ? toInt(l, "input_size", from) : null;
            Boolean npl = a.get("norm_pix_loss") instanceof Boolean b ? b : null;
            MaeConfig named = arch != null ? MaeConfig.NAMED.get(arch) : null;
            if (named == null) return new Statements(img, null, null, null, null, null, null, null, null, null, null, npl, arch, from);
            return new Statements(img, named.patchSize(), named.inChans(), named.embedDim(), named.depth(), named.numHeads(), named.decoderEmbedDim(),
                    named.decoderDepth(), named.decoderNumHeads(), null, null, npl, arch, from);
        }

        static Statements fromJson(Path json) throws IOException {
            if (Files.size(json) > MAX_CONFIG_BYTES) throw new IllegalArgumentException(json + ": " + Files.size(json) + " bytes, more than a config file holds");
            Object root;
            try {
                root = Json.parse(Files.readString(json, StandardCharsets.UTF_8));
            } catch (Json.ParseException e) {
                throw new IllegalArgumentException(json + ": malformed JSON: " + e.getMessage());
            } catch (java.nio.charset.MalformedInputException e) {
                throw new IllegalArgumentException(json + ": not UTF-8 text");
            }
            Map<String, Object> m = Json.asObject(root, json.toString());
            String from = json.toString();
            return new Statements(
                    num(m, from, "image_size", "img_size"), num(m, from, "patch_size"), num(m, from, "num_channels", "in_chans"),
                    num(m, from, "hidden_size", "embed_dim"), num(m, from, "num_hidden_layers", "depth"), num(m, from, "num_attention_heads", "num_heads"),
                    num(m, from, "decoder_hidden_size", "decoder_embed_dim"), num(m, from, "decoder_num_hidden_layers", "decoder_depth"),
                    num(m, from, "decoder_num_attention_heads", "decoder_num_heads"), num(m, from, "intermediate_size"),
                    num(m, from, "decoder_intermediate_size"), bool(m, from, "norm_pix_loss"), null, from);
        }

        /** These statements, overridden by the ones {@code o} makes. */
        Statements with(Statements o) {
            return new Statements(or(o.imgSize, imgSize), or(o.patchSize, patchSize), or(o.inChans, inChans), or(o.embedDim, embedDim),
                    or(o.depth, depth), or(o.numHeads, numHeads), or(o.decoderEmbedDim, decoderEmbedDim), or(o.decoderDepth, decoderDepth),
                    or(o.decoderNumHeads, decoderNumHeads), or(o.mlpHidden, mlpHidden), or(o.decoderMlpHidden, decoderMlpHidden),
                    or(o.normPix, normPix), or(o.arch, arch), from == null ? o.from : o.from == null ? from : from + " and " + o.from);
        }

        private static <T> T or(T a, T b) { return a != null ? a : b; }

        private static Integer num(Map<String, Object> m, String from, String... keys) {
            for (String k : keys) {
                Object v = m.get(k);
                if (v == null) continue;
                if (v instanceof List<?> l && l.size() == 2 && l.get(0) instanceof Long a && a.equals(l.get(1))) v = a; // [224, 224]
                if (!(v instanceof Long l)) throw new IllegalArgumentException(from + ": \"" + k + "\" is " + Json.typeName(v) + ", expected an integer");
                return toInt(l, k, from);
            }
            return null;
        }

        private static Integer toInt(long v, String key, String from) {
            if (v <= 0 || v > 1 << 20) throw new IllegalArgumentException(from + ": \"" + key + "\" is " + v + ", outside 1 .. 2^20");
            return (int) v;
        }

        private static Boolean bool(Map<String, Object> m, String from, String key) {
            Object v = m.get(key);
            if (v == null) return null;
            if (v instanceof Boolean b) return b;
            if (v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) return Boolean.parseBoolean(s);
            throw new IllegalArgumentException(from + ": \"" + key + "\" is " + Json.typeName(v) + ", expected true or false");
        }
    }

    // ---------------------------------------------------------------- inference from shapes

    /** The config of a file from its tensors' shapes (official names) alone, as for a file that says nothing. */
    public static MaeConfig inferConfig(Map<String, int[]> officialShapes, String fileName, List<String> notes) {
        return infer(officialShapes, Statements.NONE, Path.of(fileName), notes);
    }

    /** The config of a file from the shapes under its own names (any layout of {@link NameMap}). */
    public static MaeConfig inferFromFileShapes(Map<String, int[]> fileShapes, String fileName, List<String> notes) {
        Path file = Path.of(fileName);
        return infer(NameMap.plan(fileShapes.keySet(), file).shapes(fileShapes, file), Statements.NONE, file, notes);
    }

    static MaeConfig infer(Map<String, int[]> s, Statements st, Path file, List<String> notes) {
        String f = file.toString();
        int[] pe = need(s, "patch_embed.proj.weight", 4, f);
        int D = pe[0], C = pe[1], p = pe[2];
        if (pe[3] != p) throw new IllegalArgumentException(f + ": patch_embed.proj.weight " + Shapes.str(pe) + " has a non-square " + pe[2] + " x " + pe[3] + " kernel");
        if (C != 1 && C != 3) throw new IllegalArgumentException(f + ": patch_embed.proj.weight " + Shapes.str(pe) + " takes " + C + " channels; images have 1 or 3");
        expect(s, "cls_token", new int[]{1, 1, D}, f);
        int depth = blocks(s, "blocks.", f);
        int hidden = depth > 0 ? need(s, "blocks.0.mlp.fc1.weight", 2, f)[0] : 4 * D;
        float ratio = hidden / (float) D;
        if ((int) (D * ratio) != hidden) throw new IllegalArgumentException(f + ": MLP width " + hidden + " is not a ratio of the width " + D + " this engine can express");

        int img;
        if (s.containsKey("pos_embed")) {
            int[] pos = need(s, "pos_embed", 3, f);
            int L = pos[1] - 1, g = (int) Math.round(Math.sqrt(Math.max(0, L)));
            if (pos[0] != 1 || pos[2] != D || L < 1 || g * g != L)
                throw new IllegalArgumentException(f + ": pos_embed " + Shapes.str(pos) + " is not (1, 1 + g*g, " + D + ") for a square grid of patches");
            img = Math.multiplyExact(g, p);
        } else {
            img = st.imgSize() != null ? st.imgSize() : 224;
            notes.add("The file has no position embedding to tell the image size: " + img + " px "
                    + (st.imgSize() != null ? "as " + st.from() + " says." : "(the released models' size)."));
        }
        check(st.imgSize(), img, "image size", st, f);
        check(st.patchSize(), p, "patch size", st, f);
        check(st.inChans(), C, "channels", st, f);
        check(st.embedDim(), D, "width", st, f);
        check(st.depth(), depth, "depth", st, f);
        check(st.mlpHidden(), hidden, "MLP width", st, f);
        int heads = heads(st.numHeads(), ENCODER_HEADS, D, "encoder", st, notes, f);

        boolean decoder = s.containsKey("decoder_embed.weight") || s.containsKey("decoder_pred.weight");
        int Dd, ddepth, dheads;
        if (decoder) {
            int[] de = need(s, "decoder_embed.weight", 2, f);
            Dd = de[0];
            if (de[1] != D) throw new IllegalArgumentException(f + ": decoder_embed.weight " + Shapes.str(de) + " does not take the encoder's width " + D);
            expect(s, "decoder_pred.weight", new int[]{p * p * C, Dd}, f);
            ddepth = blocks(s, "decoder_blocks.", f);
            if (ddepth > 0) {
                int dh = need(s, "decoder_blocks.0.mlp.fc1.weight", 2, f)[0];
                check(st.decoderMlpHidden(), dh, "decoder MLP width", st, f);
                if (dh != (int) (Dd * ratio))
                    throw new IllegalArgumentException(f + ": the decoder's MLP width " + dh + " for width " + Dd + " is not the encoder's ratio " + ratio + " (this engine uses one ratio)");
            }
            check(st.decoderEmbedDim(), Dd, "decoder width", st, f);
            check(st.decoderDepth(), ddepth, "decoder depth", st, f);
            dheads = heads(st.decoderNumHeads(), DECODER_HEADS, Dd, "decoder", st, notes, f);
        } else {
            Dd = RELEASED_DECODER[0];
            ddepth = RELEASED_DECODER[1];
            dheads = RELEASED_DECODER[2];
        }
        boolean normPix = normPix(st, decoder, file, notes);
        MaeConfig cfg = new MaeConfig("inferred", img, p, C, D, depth, heads, Dd, ddepth, dheads, ratio, normPix);
        for (MaeConfig n : MaeConfig.NAMED.values())
            if (n.withNormPix(normPix).equals(new MaeConfig(n.name(), img, p, C, D, depth, heads, Dd, ddepth, dheads, ratio, normPix)))
                return new MaeConfig(n.name(), img, p, C, D, depth, heads, Dd, ddepth, dheads, ratio, normPix);
        return cfg;
    }

    /**
     * norm-pix when the file does not say: off for released full models (the visualization models
     * mae_visualize_vit_*.pth and Hugging Face's facebook/vit-mae-*, converted from them, were trained on raw
     * pixels), on for mae_pretrain_vit_*_full.pth (the pretraining checkpoints with their decoder, which predict
     * normalized pixels: facebookresearch/mae issue 8), on (the paper's default; unused) for encoders.
     */
    static boolean normPix(Statements st, boolean decoder, Path file, List<String> notes) {
        if (st.normPix() != null) {
            if (decoder) notes.add("norm-pix " + (st.normPix() ? "on" : "off") + " as " + st.from() + " says.");
            return st.normPix();
        }
        if (!decoder) return true;
        if (NORM_PIX_FILE.matcher(file.getFileName().toString()).matches()) {
            notes.add("norm-pix on: the file does not say, and the mae_pretrain_vit_*_full.pth checkpoints predict per-patch normalized pixels "
                    + "(pass --no-norm-pix if this one does not).");
            return true;
        }
        notes.add("norm-pix off: the file does not say, and the released full models (mae_visualize_vit_*.pth, facebook/vit-mae-*) predict raw "
                + "pixels (pass --norm-pix for a model trained with normalized targets).");
        return false;
    }

    private static int heads(Integer said, Map<Integer, Integer> family, int width, String what, Statements st, List<String> notes, String f) {
        if (said != null) {
            if (width % said != 0) throw new IllegalArgumentException(f + ": " + st.from() + " says " + said + " " + what + " heads, which do not divide the width " + width);
            return said;
        }
        Integer known = family.get(width);
        if (known != null) return known;
        int guess = width % 64 == 0 ? width / 64 : width < 64 ? 1 : -1;
        if (guess < 0)
            throw new IllegalArgumentException(f + ": cannot tell the " + what + "'s head count from its width " + width
                    + " (not a released width, not a multiple of 64): pass --config FILE.json with " + (what.equals("encoder") ? "num_heads" : "decoder_num_heads"));
        notes.add("The " + what + "'s head count is not in the file and " + width + " is not a released width: " + guess
                + " head" + (guess > 1 ? "s" : "") + " of width " + width / guess + " assumed (pass --config FILE.json with "
                + (what.equals("encoder") ? "num_heads" : "decoder_num_heads") + " to change it).");
        return guess;
    }

    private static void check(Integer said, int found, String what, Statements st, String f) {
        if (said != null && said != found)
            throw new IllegalArgumentException(f + ": " + st.from() + " says " + what + " " + said + ", the tensors' shapes say " + found);
    }

    private static int[] need(Map<String, int[]> s, String name, int rank, String f) {
        int[] shape = s.get(name);
        if (shape == null) throw new IllegalArgumentException(f + ": no tensor '" + name + "' (not an MAE or ViT checkpoint, or an incomplete one)");
        if (shape.length != rank) throw new IllegalArgumentException(f + ": '" + name + "' has shape " + Shapes.str(shape) + ", expected " + rank + " dimensions");
        for (int d : shape) if (d <= 0) throw new IllegalArgumentException(f + ": '" + name + "' has shape " + Shapes.str(shape) + ", with an empty dimension");
        return shape;
    }

    private static void expect(Map<String, int[]> s, String name, int[] want, String f) {
        int[] shape = s.get(name);
        if (shape != null && !Arrays.equals(shape, want))
            throw new IllegalArgumentException(f + ": '" + name + "' has shape " + Shapes.str(shape) + ", the other tensors need " + Shapes.str(want));
    }

    /** The number of blocks under prefix: their indices must be 0 .. n-1. */
    private static int blocks(Map<String, int[]> s, String prefix, String f) {
        TreeSet<Integer> ids = new TreeSet<>();
        Pattern p = Pattern.compile(Pattern.quote(prefix) + "(\\d{1,6})\\..*");
        for (String name : s.keySet()) {
            Matcher m = p.matcher(name);
            if (m.matches()) ids.add(Integer.parseInt(m.group(1)));
        }
        if (!ids.isEmpty() && (ids.first() != 0 || ids.last() != ids.size() - 1))
            throw new IllegalArgumentException(f + ": " + prefix + "* indices run " + ids.first() + " .. " + ids.last() + " with "
                    + ids.size() + " blocks; expected 0 .. " + (ids.size() - 1));
        return ids.size();
    }

    /** A config's short description for messages. */
    public static String describe(MaeConfig c, boolean decoder) {
        return String.format(Locale.ROOT, "%s: %d px, patch %d, %d channel%s; encoder %d wide x %d blocks, %s%s; MLP ratio %s; norm-pix %s",
                c.name(), c.imgSize(), c.patchSize(), c.inChans(), c.inChans() > 1 ? "s" : "", c.embedDim(), c.depth(), heads(c.numHeads()),
                decoder ? String.format(Locale.ROOT, "; decoder %d x %d, %s", c.decoderEmbedDim(), c.decoderDepth(), heads(c.decoderNumHeads())) : " (no decoder)",
                Float.toString(c.mlpRatio()), c.normPixLoss() ? "on" : "off");
    }

    private static String heads(int n) { return n + (n == 1 ? " head" : " heads"); }
}
