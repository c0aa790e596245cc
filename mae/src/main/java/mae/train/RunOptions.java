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
 * "cpu" or "cuda" (a run.json from before the key existed reads as cpu). The knobs added later are written to
 * run.json only when they differ from their defaults, so the run.json of a run that does not use them reads as
 * before, and older run.json files read with the defaults: weightDecay (AdamW, default 0.05), lr (the absolute
 * peak learning rate, NaN = blr x batch x accum / 256), minLr (where the cosine ends, default 0) and inputSize
 * (the image side, 0 = the config's).
 */
public record RunOptions(String config, String data, int epochs, int maxSteps, int batch, int accum, double blr,
                         double warmupEpochs, double maskRatio, String masking, boolean normPix, long seed,
                         int checkpointEvery, int knnBank, String device, double weightDecay, double lr, double minLr, int inputSize) {

    public static final double DEFAULT_WEIGHT_DECAY = 0.05, DEFAULT_MIN_LR = 0;
    /** lr when the peak learning rate comes from blr; inputSize when it is the config's. */
    public static final double LR_FROM_BLR = Double.NaN;
    public static final int CONFIG_INPUT_SIZE = 0;

    /** A run with the default weight decay, lr from blr, min lr 0 and the config's input size. */
    public RunOptions(String config, String data, int epochs, int maxSteps, int batch, int accum, double blr,
                      double warmupEpochs, double maskRatio, String masking, boolean normPix, long seed,
                      int checkpointEvery, int knnBank, String device) {
        this(config, data, epochs, maxSteps, batch, accum, blr, warmupEpochs, maskRatio, masking, normPix, seed,
                checkpointEvery, knnBank, device, DEFAULT_WEIGHT_DECAY, LR_FROM_BLR, DEFAULT_MIN_LR, CONFIG_INPUT_SIZE);
    }

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
                seed, checkpointEvery, knnBank, d, weightDecay, lr, minLr, inputSize);
    }

    /** The peak learning rate: lr when given, else blr x batch x accum / 256 (the paper's linear scaling rule). */
    public double peakLr() { return Double.isNaN(lr) ? Schedule.scaled(blr, batch * accum) : lr; }

    /** The model: the named config with this run's norm-pix setting and input size. */
    public MaeConfig model() {
        MaeConfig c = MaeConfig.named(config).withNormPix(normPix);
        if (inputSize == CONFIG_INPUT_SIZE || inputSize == c.imgSize()) return c;
        if (inputSize < 1 || inputSize > MaeConfig.MAX_IMG_SIZE || inputSize % c.patchSize() != 0)
            throw new IllegalArgumentException("--input-size " + inputSize + " must be a multiple of the " + config + " config's patch size " + c.patchSize()
                    + ", from " + c.patchSize() + " to " + MaeConfig.MAX_IMG_SIZE);
        return new MaeConfig(c.name(), inputSize, c.patchSize(), c.inChans(), c.embedDim(), c.depth(), c.numHeads(), c.decoderEmbedDim(),
                c.decoderDepth(), c.decoderNumHeads(), c.mlpRatio(), c.normPixLoss());
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
        if (!Double.isNaN(lr) && !(lr > 0 && Double.isFinite(lr))) throw new IllegalArgumentException("--lr must be a finite number above 0, got " + lr);
        if (!(minLr >= 0 && Double.isFinite(minLr))) throw new IllegalArgumentException("--min-lr must be a finite number of at least 0, got " + minLr);
        if (minLr > peakLr()) throw new IllegalArgumentException("--min-lr " + minLr + " is above the peak learning rate " + peakLr() + " (--lr, or --blr x batch x accum / 256)");
        if (!(weightDecay >= 0 && Double.isFinite(weightDecay))) throw new IllegalArgumentException("--weight-decay must be a finite number of at least 0, got " + weightDecay);
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
    public static final java.util.List<String> RESUMABLE = java.util.List.of("epochs", "max_steps", "blr", "lr", "checkpoint_every", "knn_bank");

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
        if (weightDecay != DEFAULT_WEIGHT_DECAY) m.put("weight_decay", weightDecay);   // the later knobs: only when set
        if (!Double.isNaN(lr)) m.put("lr", lr);
        if (minLr != DEFAULT_MIN_LR) m.put("min_lr", minLr);
        if (inputSize != CONFIG_INPUT_SIZE) m.put("input_size", inputSize);
        return m;
    }

    static RunOptions fromJson(JsonFile f) {
        try {
            return new RunOptions(f.string("config"), f.string("data", true), f.intValue("epochs"),
                    f.intValue("max_steps"), f.intValue("batch"), f.intValue("accum"),
                    f.doubleValue("blr"), f.doubleValue("warmup_epochs"), f.doubleValue("mask_ratio"),
                    f.string("masking"), f.booleanValue("norm_pix"), f.longValue("seed"),
                    f.intValue("checkpoint_every"), f.intValue("knn_bank"),
                    f.stringOr("device", "cpu"),
                    f.has("weight_decay") ? f.doubleValue("weight_decay") : DEFAULT_WEIGHT_DECAY,
                    f.has("lr") ? f.doubleValue("lr") : LR_FROM_BLR,
                    f.has("min_lr") ? f.doubleValue("min_lr") : DEFAULT_MIN_LR,
                    f.has("input_size") ? f.intValue("input_size") : CONFIG_INPUT_SIZE);
        } catch (RuntimeException e) {
            String prefix = f.file() + ": ", why = e.getMessage() != null && e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.toString();
            throw new IllegalArgumentException(prefix + "cannot read the run options (" + why + ")");
        }
    }
}
