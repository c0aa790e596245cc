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
        MaeModel model = MaeModel.forLoading(f.config(), false);
        assign(model.params, f.tensors(), f.file(), CLASSIFIER_PREFIXES);
        return model;
    }

    /**
     * Assigns every parameter of ps from the file's tensors. Missing, extra (unless their name starts with one
     * of ignoredPrefixes) and mis-shaped tensors are errors naming the file, the tensor and both shapes.
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
            else ps.set(p.getKey(), Tensor.of(e.floats(), e.shape()).to(p.getValue().value().device()));   // stays on its device
        }
        for (String name : tensors.keySet()) {
            if (ps.has(name) || ignoredPrefixes.stream().anyMatch(name::startsWith)) continue;
            problems.add("unexpected tensor '" + name + "' of shape " + Shapes.str(tensors.get(name).shape()));
        }
        if (!problems.isEmpty())
            throw new IllegalArgumentException(file + ": " + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                    + (problems.size() > 5 ? "; and " + (problems.size() - 5) + " more" : ""));
    }

    /** Names of the decoder-side tensors, ignored when loading an encoder alone. */
    public static final List<String> DECODER_PREFIXES = List.of("decoder_", "mask_token");

    /** The ImageNet head of a fine-tuned classifier: kept in a converted file, used by no command. */
    public static final List<String> CLASSIFIER_PREFIXES = List.of("head.");
}
