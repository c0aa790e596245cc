package mae.train;

import mae.io.JsonFile;
import mae.model.MaeConfig;
import mae.model.MaskNoise;
import mae.tensor.Device;
import mae.tensor.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything that defines a pretraining run; stored in the run's run.json and restored on --resume. device is
 * "cpu" or "cuda" (a run.json from before the key existed reads as cpu).
 */
public record RunOptions(String config, String data, int epochs, int maxSteps, int batch, int accum, double blr,
                         double warmupEpochs, double maskRatio, String masking, boolean normPix, long seed,
                         int checkpointEvery, int knnBank, String device) {

    /** A run on the CPU. */
    public RunOptions(String config, String data, int epochs, int maxSteps, int batch, int accum, double blr,
                      double warmupEpochs, double maskRatio, String masking, boolean normPix, long seed,
                      int checkpointEvery, int knnBank) {
        this(config, data, epochs, maxSteps, batch, accum, blr, warmupEpochs, maskRatio, masking, normPix, seed,
                checkpointEvery, knnBank, "cpu");
    }

    /** The same run on another device (e.g. resuming a GPU run on the CPU). */
    public RunOptions withDevice(String d) {
        return new RunOptions(config, data, epochs, maxSteps, batch, accum, blr, warmupEpochs, maskRatio, masking, normPix,
                seed, checkpointEvery, knnBank, d);
    }

    /** Refuses options no run can start from (before anything is written). */
    void validate(MaeConfig cfg) {
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (accum < 1) throw new IllegalArgumentException("--accum must be at least 1, got " + accum);
        if (epochs < 1 && maxSteps < 1) throw new IllegalArgumentException("--epochs or --max-steps must be positive");
        if (!(maskRatio >= 0 && maskRatio < 1)) throw new IllegalArgumentException("--mask-ratio " + maskRatio + " is outside [0, 1)");
        if (cfg.lenKeep(maskRatio) < 1) throw new IllegalArgumentException("--mask-ratio " + maskRatio + " keeps no patch of " + cfg.numPatches());
        if (!(blr > 0)) throw new IllegalArgumentException("--blr must be positive, got " + blr);
        MaskNoise.parse(masking);
        if (Device.parse(device) == Device.CUDA && !Device.CUDA.available())
            throw new IllegalArgumentException("--device cuda: CUDA is not available here: " + Device.CUDA.describe() + "; use --device cpu");
    }

    /** Writes run.json (atomically): numbers and booleans as JSON numbers and booleans, no --data as null. */
    void write(Path runJson) throws IOException {
        JsonFile.write(runJson, toJson());
    }

    /** Reads the options of an existing run (for --resume), also from a run.json of string values (older runs). */
    public static RunOptions read(Path runDir) throws IOException {
        Path f = new RunDir(runDir).runJson();
        if (!Files.exists(f)) throw new IllegalArgumentException("--resume " + runDir + ": no run.json there (not a pretraining run)");
        return fromJson(JsonFile.read(f));
    }

    /** run.json's object, keys in this order. */
    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("config", config); m.put("data", data == null ? Json.NULL : data); m.put("epochs", epochs);
        m.put("max_steps", maxSteps); m.put("batch", batch); m.put("accum", accum);
        m.put("blr", blr); m.put("warmup_epochs", warmupEpochs); m.put("mask_ratio", maskRatio);
        m.put("masking", masking); m.put("norm_pix", normPix); m.put("seed", seed);
        m.put("checkpoint_every", checkpointEvery); m.put("knn_bank", knnBank);
        m.put("device", device);
        return m;
    }

    static RunOptions fromJson(JsonFile f) {
        try {
            return new RunOptions(f.string("config"), f.string("data", true), f.intValue("epochs"),
                    f.intValue("max_steps"), f.intValue("batch"), f.intValue("accum"),
                    f.doubleValue("blr"), f.doubleValue("warmup_epochs"), f.doubleValue("mask_ratio"),
                    f.string("masking"), f.booleanValue("norm_pix"), f.longValue("seed"),
                    f.intValue("checkpoint_every"), f.intValue("knn_bank"),
                    f.stringOr("device", "cpu"));
        } catch (RuntimeException e) {
            String prefix = f.file() + ": ", why = e.getMessage() != null && e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.toString();
            throw new IllegalArgumentException(prefix + "cannot read the run options (" + why + ")");
        }
    }
}
