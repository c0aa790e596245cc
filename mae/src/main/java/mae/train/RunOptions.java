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

    /** The ranges of the options (the pretrain command declares the same on its flags). */
    public static final int MAX_EPOCHS = 1_000_000, MAX_STEPS = 1_000_000_000, MAX_BATCH = 65_536, MAX_ACCUM = 65_536,
            MAX_KNN_BANK = 10_000_000;
    /** At most this many images per optimizer step (batch x accum). */
    public static final long MAX_PER_STEP = 1L << 24;
    /** epochs of a run bounded by --max-steps alone; maxSteps of a run bounded by --epochs alone. */
    public static final int ALL_EPOCHS = Integer.MAX_VALUE / 4, NO_STEP_LIMIT = 0;

    /**
     * Refuses options no run can start from (before anything is written), whether from the command line or a
     * run.json: each value in its range, batch x accum bounded, and at least one of epochs and steps bounding
     * the run. Messages name the flag and the range.
     */
    public void validate(MaeConfig cfg) {
        within("--batch", batch, 1, MAX_BATCH);
        within("--accum", accum, 1, MAX_ACCUM);
        if ((long) batch * accum > MAX_PER_STEP)
            throw new IllegalArgumentException("--batch " + batch + " x --accum " + accum + " = " + (long) batch * accum + " images per step, more than " + MAX_PER_STEP);
        if (epochs != ALL_EPOCHS) within("--epochs", epochs, 1, MAX_EPOCHS);
        if (maxSteps != NO_STEP_LIMIT) within("--max-steps", maxSteps, 1, MAX_STEPS);
        if (epochs == ALL_EPOCHS && maxSteps == NO_STEP_LIMIT) throw new IllegalArgumentException("neither --epochs nor --max-steps bounds the run");
        if (!(blr > 0) || !Double.isFinite(blr)) throw new IllegalArgumentException("--blr must be a finite number above 0, got " + blr);
        if (warmupEpochs != -1 && !(warmupEpochs >= 0 && warmupEpochs <= MAX_EPOCHS))
            throw new IllegalArgumentException("--warmup-epochs must be a number in [0, " + MAX_EPOCHS + "], got " + warmupEpochs);
        if (!(maskRatio >= 0 && maskRatio < 1)) throw new IllegalArgumentException("--mask-ratio must be a number in [0, 1), got " + maskRatio);
        if (cfg.lenKeep(maskRatio) < 1) throw new IllegalArgumentException("--mask-ratio " + maskRatio + " keeps no patch of " + cfg.numPatches());
        within("--checkpoint-every", checkpointEvery, 0, MAX_STEPS);
        within("--knn-bank", knnBank, 1, MAX_KNN_BANK);
        MaskNoise.parse(masking);
        if (Device.parse(device) == Device.CUDA && !Device.CUDA.available())
            throw new IllegalArgumentException("--device cuda: CUDA is not available here: " + Device.CUDA.describe() + "; use --device cpu");
    }

    private static void within(String flag, long v, long min, long max) {
        if (v < min || v > max) throw new IllegalArgumentException(flag + " must be an integer from " + min + " to " + max + ", got " + v);
    }

    /** Writes run.json (atomically): numbers and booleans as JSON numbers and booleans, no --data as null. */
    void write(Path runJson) throws IOException {
        JsonFile.write(runJson, toJson());
    }

    /** run.json keys of the options that may change when a run is resumed; the others define the run. */
    public static final java.util.List<String> RESUMABLE = java.util.List.of("epochs", "max_steps", "blr", "checkpoint_every", "knn_bank");

    /** The run.json keys whose values differ between before and these options (device aside: it is where, not what). */
    public Map<String, Object> changesFrom(RunOptions before) {
        Map<String, Object> was = before.toJson(), now = toJson(), changed = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : now.entrySet()) {
            if (e.getKey().equals("device") || java.util.Objects.equals(was.get(e.getKey()), e.getValue())) continue;
            Map<String, Object> fromTo = new LinkedHashMap<>();
            fromTo.put("from", was.get(e.getKey()));
            fromTo.put("to", e.getValue());
            changed.put(e.getKey(), fromTo);
        }
        return changed;
    }

    /**
     * Rewrites run.json with these options (and the device it recorded), appending to its "changes" list what
     * differs from before and the step from which it applies: {"step": 4, "changed": {"blr": {"from": 0.0015,
     * "to": 0.0001}}}. Nothing is written when nothing changed.
     */
    void writeChanges(Path runJson, RunOptions before, long step) throws IOException {
        Map<String, Object> changed = changesFrom(before);
        if (changed.isEmpty()) return;
        java.util.List<Object> changes = new java.util.ArrayList<>();
        Object old = Json.readObject(runJson).get("changes");
        if (old instanceof java.util.List<?> l) changes.addAll(l);
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("step", step);
        entry.put("changed", changed);
        changes.add(entry);
        Map<String, Object> out = withDevice(before.device()).toJson();
        out.put("changes", changes);
        JsonFile.write(runJson, out);
    }

    /** Reads the options of an existing run (for --resume), also from a run.json of string values (older runs). */
    public static RunOptions read(Path runDir) throws IOException {
        Path f = new RunDir(runDir).runJson();
        if (!Files.exists(f)) throw new IllegalArgumentException("--resume " + runDir + ": no run.json there (not a pretraining run)");
        return fromJson(JsonFile.read(f));
    }

    /** run.json's object, keys in this order. */
    public Map<String, Object> toJson() {
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
