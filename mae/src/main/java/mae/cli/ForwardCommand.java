package mae.cli;

import mae.autograd.Var;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.model.WeightFiles;
import mae.model.Weights;
import mae.tensor.Shapes;
import mae.tensor.Tensor;
import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * One MAE forward (and optionally backward) pass on given weights, images and noise: the contract through
 * which outside references are checked.
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run one MAE forward pass: W + imgs + noise -> loss, pred, mask, latent, ids_restore [, grads].")
public final class ForwardCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, description = "safetensors weights under the official names, config in __metadata__; or a released .pth, .bin or safetensors file")
    Path weights;
    @Option(names = "--inputs", required = true, description = "safetensors with imgs (N x C x H x W), noise (N x L), __metadata__.mask_ratio")
    Path inputs;
    @Option(names = "--out", required = true, description = "safetensors to write (atomically; nothing on error)")
    Path out;
    @Option(names = "--grads", description = "also write grad.<name> for every trainable parameter (default: off)")
    boolean grads;
    @OneOf(configs = true)
    @Option(names = "--config", description = "config of weights without config metadata: " + Configs.KNOWN + ", or a JSON file of config keys (e.g. a Hugging Face config.json); default: the weights' own")
    String config;
    @Option(names = "--norm-pix", negatable = true, description = "norm-pix targets (default: what the file says, else its family's released value)")
    Boolean normPix;

    @Override public Integer call() throws Exception {
        MaeModel model = Weights.load(WeightFiles.read(weights, WeightFiles.Options.parse(config, normPix)));
        Safetensors.Contents in = Safetensors.read(inputs);
        Tensor imgs = tensor(in, "imgs"), noise = tensor(in, "noise");
        for (String name : in.tensors().keySet())
            if (!name.equals("imgs") && !name.equals("noise"))
                throw new IllegalArgumentException(inputs + ": unexpected tensor '" + name + "' (expected only imgs and noise)");
        double ratio = maskRatio(in);
        MaeConfig c = model.cfg;
        int N = imgs.dim() > 0 ? imgs.size(0) : 0;
        int[] wantImgs = {N, c.inChans(), c.imgSize(), c.imgSize()}, wantNoise = {N, c.numPatches()};
        if (!java.util.Arrays.equals(imgs.shape(), wantImgs))
            throw new IllegalArgumentException(inputs + ": tensor 'imgs' has shape " + Shapes.str(imgs.shape()) + ", the model needs " + Shapes.str(wantImgs));
        if (!java.util.Arrays.equals(noise.shape(), wantNoise))
            throw new IllegalArgumentException(inputs + ": tensor 'noise' has shape " + Shapes.str(noise.shape()) + ", expected " + Shapes.str(wantNoise));
        if (N == 0) throw new IllegalArgumentException(inputs + ": tensor 'imgs' holds no images (shape " + Shapes.str(imgs.shape()) + "); the loss of none is undefined");
        if (c.lenKeep(ratio) < 1)
            throw new IllegalArgumentException(inputs + ": mask_ratio " + ratio + " keeps no patch of the " + c.numPatches() + " (at least one must stay visible)");

        MaeModel.Output o = model.forward(imgs, noise, ratio);
        Map<String, Entry> t = new LinkedHashMap<>();
        t.put("loss", Entry.f32(new int[0], new float[]{o.loss().value().item()}));
        t.put("pred", f32(o.pred().value()));
        t.put("mask", f32(o.mask()));
        t.put("latent", f32(o.latent().value()));
        t.put("ids_restore", Entry.i64(o.idsRestore().shape(), o.idsRestore().toLongs()));
        if (grads) {
            o.loss().backward();
            for (Map.Entry<String, Var> p : model.params.trainable().entrySet()) {
                Tensor g = p.getValue().grad() != null ? p.getValue().grad() : Tensor.zeros(p.getValue().shape());
                t.put("grad." + p.getKey(), f32(g));
            }
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("mask_ratio", "" + ratio);
        meta.put("len_keep", "" + o.lenKeep());
        Safetensors.write(out, meta, t);
        System.out.printf("loss: %.6f (N=%d, L=%d, kept %d) -> %s%n", o.loss().value().item(), N, c.numPatches(), o.lenKeep(), out);
        return 0;
    }

    static Entry f32(Tensor x) { return Entry.f32(x.shape(), x.toArray()); }

    private Tensor tensor(Safetensors.Contents in, String name) {
        Entry e = in.tensors().get(name);
        if (e == null) throw new IllegalArgumentException(inputs + ": missing tensor '" + name + "'");
        if (e.floats() == null) throw new IllegalArgumentException(inputs + ": tensor '" + name + "' is " + e.dtype() + ", expected F32");
        int bad = Weights.nonFinite(e.floats());
        if (bad >= 0) throw new IllegalArgumentException(inputs + ": tensor '" + name + "' holds " + e.floats()[bad] + " at index " + bad + " (expected finite numbers)");
        return Tensor.of(e.floats(), e.shape());
    }

    private double maskRatio(Safetensors.Contents in) {
        String s = in.metadata().get("mask_ratio");
        if (s == null) throw new IllegalArgumentException(inputs + ": __metadata__ lacks mask_ratio");
        double r;
        try { r = Double.parseDouble(s.trim()); } catch (NumberFormatException e) {
            throw new IllegalArgumentException(inputs + ": mask_ratio '" + s + "' is not a number");
        }
        if (!(r >= 0 && r < 1)) throw new IllegalArgumentException(inputs + ": mask_ratio " + s + " is outside [0, 1)");
        return r;
    }
}
