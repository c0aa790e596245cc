package mae.train;

import mae.io.AtomicFiles;
import mae.io.Json;
import mae.model.MaeConfig;
import mae.model.MaskNoise;
import mae.tensor.Device;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
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

    /** Writes run.json (atomically). */
    void write(Path runJson) throws IOException {
        AtomicFiles.writeString(runJson, Json.flat(toMap()));
    }

    /** Reads the options of an existing run (for --resume). */
    public static RunOptions read(Path runDir) throws IOException {
        Path f = new RunDir(runDir).runJson();
        if (!Files.exists(f)) throw new IllegalArgumentException("--resume " + runDir + ": no run.json there (not a pretraining run)");
        return fromMap(Json.parseFlat(Files.readString(f, StandardCharsets.UTF_8), f), f);
    }

    Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("config", config); m.put("data", data == null ? "" : data); m.put("epochs", "" + epochs);
        m.put("max_steps", "" + maxSteps); m.put("batch", "" + batch); m.put("accum", "" + accum);
        m.put("blr", "" + blr); m.put("warmup_epochs", "" + warmupEpochs); m.put("mask_ratio", "" + maskRatio);
        m.put("masking", masking); m.put("norm_pix", "" + normPix); m.put("seed", "" + seed);
        m.put("checkpoint_every", "" + checkpointEvery); m.put("knn_bank", "" + knnBank);
        m.put("device", device);
        return m;
    }

    static RunOptions fromMap(Map<String, String> m, Path file) {
        try {
            return new RunOptions(m.get("config"), m.get("data").isEmpty() ? null : m.get("data"), Integer.parseInt(m.get("epochs")),
                    Integer.parseInt(m.get("max_steps")), Integer.parseInt(m.get("batch")), Integer.parseInt(m.get("accum")),
                    Double.parseDouble(m.get("blr")), Double.parseDouble(m.get("warmup_epochs")), Double.parseDouble(m.get("mask_ratio")),
                    m.get("masking"), Boolean.parseBoolean(m.get("norm_pix")), Long.parseLong(m.get("seed")),
                    Integer.parseInt(m.get("checkpoint_every")), Integer.parseInt(m.get("knn_bank")),
                    m.getOrDefault("device", "cpu"));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": cannot read the run options (" + e + ")");
        }
    }
}
