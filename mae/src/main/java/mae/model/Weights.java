package mae.model;

import mae.autograd.Var;
import mae.tensor.Shapes;
import mae.tensor.Tensor;
import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import mae.vit.Params;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MAE weights in safetensors under the official parameter names, the config in {@code __metadata__}.
 * A released checkpoint converted to safetensors loads; an encoder-only one loads into the encoder.
 */
public final class Weights {
    private Weights() {}

    /** Writes every parameter (frozen position embeddings included) as F32, atomically; a GPU model is downloaded. */
    public static void save(Path file, MaeModel model, Map<String, String> extraMetadata) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(model.cfg.toMetadata());
        if (extraMetadata != null) meta.putAll(extraMetadata);
        Safetensors.write(file, meta, entries(model.params));
    }

    /**
     * The parameters as safetensors entries, in registration order. A host tensor that is its whole array is
     * written from that array (no copy: a ViT-L is 1.3 GB); others are copied out.
     */
    public static LinkedHashMap<String, Entry> entries(Params ps) {
        LinkedHashMap<String, Entry> t = new LinkedHashMap<>();
        ps.all().forEach((name, v) -> t.put(name, Entry.f32(v.value().shape(), values(v.value()))));
        return t;
    }

    private static float[] values(Tensor x) {
        if (x.device() == mae.tensor.Device.CPU && x.isContiguous() && x.offset() == 0 && x.data().length == x.numel()) return x.data();
        return x.toArray();
    }

    /** Reads a checkpoint (any format {@link WeightFiles} reads); the config comes from the file unless given. */
    public static MaeModel load(Path file, MaeConfig config) throws IOException {
        return load(WeightFiles.read(file, WeightFiles.Options.of(config)));
    }

    /** The whole MAE of a file read by {@link WeightFiles}; an encoder-only file is an error that says so. */
    public static MaeModel load(WeightFiles.Loaded f) {
        if (!f.hasDecoder())
            throw new IllegalArgumentException(f.file() + ": holds an encoder only (no decoder_embed.* or decoder_pred.* tensors); "
                    + "this command needs the decoder (mae_visualize_vit_*.pth, a *_full checkpoint, facebook/vit-mae-*, or one written by bin/mae pretrain)");
        requireFits(f.config(), f.tensors(), f.file(), true, CLASSIFIER_PREFIXES);   // before the model is allocated
        MaeModel model = MaeModel.forLoading(f.config(), false);
        assign(model.params, f.tensors(), f.file(), CLASSIFIER_PREFIXES);
        return model;
    }

    /**
     * Checks a config against a file's own tensors before any model is allocated: every parameter the config
     * implies must be there with its shape, and nothing else (unless its name starts with one of
     * ignoredPrefixes). So a config in {@code __metadata__} that claims more than the file holds is refused at
     * once, naming the file, the tensor and the metadata keys its shape follows from.
     */
    public static void requireFits(MaeConfig cfg, Map<String, Entry> tensors, Path file, boolean decoder, List<String> ignoredPrefixes) {
        Map<String, int[]> want = cfg.parameterShapes(decoder);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, int[]> p : want.entrySet()) {
            Entry e = tensors.get(p.getKey());
            if (e == null) problems.add("missing tensor '" + p.getKey() + "' of shape " + Shapes.str(p.getValue()) + " (" + keys(cfg, p.getKey(), true) + ")");
            else if (!java.util.Arrays.equals(e.shape(), p.getValue()))
                problems.add("tensor '" + p.getKey() + "' has shape " + Shapes.str(e.shape()) + ", the config needs " + Shapes.str(p.getValue())
                        + " (" + keys(cfg, p.getKey(), false) + ")");
        }
        for (String name : tensors.keySet()) {
            if (want.containsKey(name) || ignoredPrefixes.stream().anyMatch(name::startsWith)) continue;
            String depth = name.startsWith("blocks.") ? " (depth " + cfg.depth() + ")" : name.startsWith("decoder_blocks.") ? " (decoder_depth " + cfg.decoderDepth() + ")" : "";
            problems.add("unexpected tensor '" + name + "' of shape " + Shapes.str(tensors.get(name).shape()) + depth);
        }
        if (!problems.isEmpty()) throw problems(file, problems);
    }

    /** The metadata keys (with this config's values) that decide a parameter's presence or shape. */
    private static String keys(MaeConfig cfg, String parameter, boolean presence) {
        List<String> ks = new ArrayList<>();
        if (presence && parameter.startsWith("blocks.")) ks.add("depth");
        else if (presence && parameter.startsWith("decoder_blocks.")) ks.add("decoder_depth");
        else ks.addAll(MaeConfig.keysOf(parameter));
        List<String> out = new ArrayList<>();
        for (String k : ks) out.add(k + " " + cfg.value(k));
        return String.join(", ", out);
    }

    private static IllegalArgumentException problems(Path file, List<String> problems) {
        return new IllegalArgumentException(file + ": " + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                + (problems.size() > 5 ? "; and " + (problems.size() - 5) + " more" : ""));
    }

    /**
     * Assigns every parameter of ps from the file's tensors. Missing, extra (unless their name starts with one
     * of ignoredPrefixes) and mis-shaped tensors are errors naming the file, the tensor and both shapes; so is a
     * tensor holding NaN or an infinity (weights that cannot give a meaningful result, and no good checkpoint).
     */
    public static void assign(Params ps, Map<String, Entry> tensors, Path file, List<String> ignoredPrefixes) {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Var> p : ps.all().entrySet()) {
            Entry e = tensors.get(p.getKey());
            int[] want = p.getValue().shape();
            if (e == null) problems.add("missing tensor '" + p.getKey() + "' of shape " + Shapes.str(want));
            else if (e.floats() == null) problems.add("tensor '" + p.getKey() + "' is " + e.dtype() + ", expected a float type");
            else if (!java.util.Arrays.equals(e.shape(), want))
                problems.add("tensor '" + p.getKey() + "' has shape " + Shapes.str(e.shape()) + ", the config needs " + Shapes.str(want));
            else if (nonFinite(e.floats()) >= 0)
                problems.add("tensor '" + p.getKey() + "' holds " + e.floats()[nonFinite(e.floats())] + " at index " + nonFinite(e.floats())
                        + " (weights must be finite numbers)");
        }
        for (String name : tensors.keySet()) {
            if (ps.has(name) || ignoredPrefixes.stream().anyMatch(name::startsWith)) continue;
            problems.add("unexpected tensor '" + name + "' of shape " + Shapes.str(tensors.get(name).shape()));
        }
        if (!problems.isEmpty()) throw problems(file, problems);
        for (Map.Entry<String, Var> p : ps.all().entrySet()) {          // all checked: only now is anything changed
            Entry e = tensors.get(p.getKey());
            ps.set(p.getKey(), Tensor.of(e.floats(), e.shape()).to(p.getValue().value().device()));   // stays on its device
        }
    }

    /** The index of the first NaN or infinity, or -1. */
    public static int nonFinite(float[] v) {
        for (int i = 0; i < v.length; i++) if (!Float.isFinite(v[i])) return i;
        return -1;
    }

    /** Names of the decoder-side tensors, ignored when loading an encoder alone. */
    public static final List<String> DECODER_PREFIXES = List.of("decoder_", "mask_token");

    /** The ImageNet head of a fine-tuned classifier: kept in a converted file, used by no command. */
    public static final List<String> CLASSIFIER_PREFIXES = List.of("head.");
}
