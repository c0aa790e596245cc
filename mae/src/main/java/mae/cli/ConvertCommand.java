package mae.cli;

import mae.eval.Encoders;
import mae.model.WeightFiles;
import mae.model.Weights;
import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** bin/mae convert: a released checkpoint (.pth, .bin, Hugging Face or timm safetensors) as this engine's safetensors. */
@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Convert a released MAE checkpoint (official .pth, Hugging Face ViTMAE model.safetensors or pytorch_model.bin, timm .mae "
                + "safetensors) to this engine's safetensors: tensors under the official MAE names, the config (and the ImageNet normalization "
                + "and evaluation crop) in __metadata__.",
                "Every command that takes --checkpoint also reads those files directly; converting once saves reading and mapping them each time."})
public final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "the file to convert, or a downloaded Hugging Face / timm model folder") Path in;
    @Parameters(index = "1", paramLabel = "OUT.safetensors", description = "the file to write (atomically)") Path out;
    @OneOf(configs = true)
    @Option(names = "--config", description = "a config that replaces the inferred one: " + Configs.KNOWN + ", or a JSON file of config keys (e.g. a Hugging Face config.json); default: inferred from the file") String config;
    @Option(names = "--norm-pix", negatable = true, description = "the decoder predicts per-patch normalized pixels (default: what the file says, else its family's released value)") Boolean normPix;

    @Override public Integer call() throws Exception {
        Path file = mae.train.Checkpoints.resolveWeights(in);
        if (out.toAbsolutePath().normalize().equals(file.toAbsolutePath().normalize()))
            throw new IllegalArgumentException("OUT " + out + " is the input file; write the conversion elsewhere");
        long t0 = System.nanoTime();
        WeightFiles.Loaded f = WeightFiles.read(file, WeightFiles.Options.parse(config, normPix));
        // Loading into the model checks every tensor's name and shape against the config; the model's own order is written.
        LinkedHashMap<String, Entry> tensors = f.hasDecoder() ? Weights.entries(Weights.load(f).params) : Weights.entries(Encoders.load(f).encoder().params);
        for (Map.Entry<String, Entry> e : f.tensors().entrySet())
            if (!tensors.containsKey(e.getKey())) tensors.put(e.getKey(), Entry.f32(e.getValue().shape(), e.getValue().floats())); // the classifier head
        Safetensors.write(out, f.metadata(), tensors);
        ReconstructCommand.printNotes(f);
        long values = 0;
        for (Entry e : tensors.values()) values += e.numel();
        System.out.printf(Locale.ROOT, "wrote %s: %d tensors, %,d values, in %.1f s%n", out, tensors.size(), values, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
