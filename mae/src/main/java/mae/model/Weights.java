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

    /** The parameters as safetensors entries, in registration order. */
    public static LinkedHashMap<String, Entry> entries(Params ps) {
        LinkedHashMap<String, Entry> t = new LinkedHashMap<>();
        ps.all().forEach((name, v) -> t.put(name, Entry.f32(v.value().shape(), v.value().toArray())));
        return t;
    }

    /** Reads a checkpoint; the config comes from its metadata unless given. */
    public static MaeModel load(Path file, MaeConfig config) throws IOException {
        Safetensors.Contents c = Safetensors.read(file);
        MaeConfig cfg = config != null ? config : MaeConfig.fromMetadata(c.metadata(), file.toString());
        MaeModel model = new MaeModel(cfg, 0);
        if (!c.tensors().containsKey("decoder_embed.weight") && !c.tensors().containsKey("decoder_pred.weight"))
            throw new IllegalArgumentException(file + ": holds an encoder only (no decoder_embed.* or decoder_pred.* tensors); "
                    + "this command needs the decoder (a *_full checkpoint, or one written by bin/mae pretrain)");
        assign(model.params, c.tensors(), file, List.of());
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
}
