package mae.study;

import mae.data.Augment;
import mae.eval.Encoders;
import mae.eval.Finetune;
import mae.io.JsonFile;
import mae.model.MaeConfig;
import mae.tensor.io.Json;
import mae.train.Checkpoints;
import mae.train.Pretrainer;
import mae.train.RunOptions;
import mae.vit.VisionTransformer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs a study: every variant's pretraining run (a normal run folder under OUT/runs, resumed from its last
 * checkpoint after a kill, reused when complete), its evaluation (OUT/runs/RUN/study-eval.json, reused while the
 * protocol is the same), the from-scratch baselines (OUT/runs/scratch-sS/scratch.json), the speed check
 * (OUT/speed.json), then the tables, charts and page ({@link StudyReport}). Seed 0 of every variant runs first, so a
 * study stopped early still has one run of each.
 */
public final class Study {
    static final String EVAL_FILE = "study-eval.json", SCRATCH_FILE = "scratch.json", SPEED_FILE = "speed.json";
    /** Training images in the kNN bank of the pretraining run's own quick check (the study's kNN is its own). */
    static final int RUN_KNN_BANK = 500;

    private final StudyOptions o;
    private final Path home;
    private final PrintStream log;
    private final List<String> command;

    /** A finished run of one variant and seed, as study-eval.json holds it. */
    record RunResult(Variant variant, long seed, Path dir, long steps, double pretrainLoss, double pretrainSeconds,
                     double finetune, double finetuneSeconds, double linear, double knn, double frozenSeconds) {}

    /** The from-scratch baselines of one seed, as scratch.json holds them. */
    record ScratchResult(long seed, double randomLinear, double randomKnn, double sameSchedule, double sameScheduleSeconds,
                         double sameCompute, double sameComputeSeconds, double sameComputeEpochs, double finetuneEpochs,
                         long macsPretrainImage, long macsSupervisedImage) {}

    /** Everything a study measured. */
    record Results(StudyOptions options, Evaluation.Data data, List<RunResult> runs, List<ScratchResult> scratch,
                   SpeedCheck.Result speed, List<String> command) {}

    public Study(StudyOptions o, Path home, PrintStream log, List<String> command) {
        this.o = o;
        this.home = home;
        this.log = log;
        this.command = List.copyOf(command);
    }

    /** Runs (or reuses) everything, writes the report; returns OUT/index.html. */
    public Path run() throws IOException { return run(null); }

    /** {@link #run()}, then copies the results (not the run folders) into publish when it is not null. */
    public Path run(Path publish) throws IOException {
        if (Files.isRegularFile(o.out())) throw new IllegalArgumentException("--out " + o.out() + " is a file, not a directory");
        Files.createDirectories(o.out().resolve("runs"));
        Evaluation.Data data = Evaluation.load(o, home);
        List<Variant> variants = o.allVariants();
        log.printf(Locale.ROOT, "study: %d pretraining runs x %d seed(s) of %d steps (batch %d), claims %s%n", variants.size(), o.seeds(), o.budget(), o.batch(), claimIds());
        log.printf(Locale.ROOT, "data: %s%n", data.description());
        log.printf(Locale.ROOT, "fine-tuning: %s, on %d training images%n", o.finetune().describe(), data.first(o.ftTrainLimit()).n());
        List<RunResult> runs = new ArrayList<>();
        List<ScratchResult> scratch = new ArrayList<>();
        int k = 0, total = variants.size() * o.seeds();
        for (int seed = 0; seed < o.seeds(); seed++) {
            for (Variant v : variants) runs.add(variant(v, seed, data, ++k, total));
            if (o.claims().contains(Claim.SCRATCH)) scratch.add(scratch(seed, data));
        }
        SpeedCheck.Result speed = o.claims().contains(Claim.SPEED) ? speed() : null;
        Path index = StudyReport.write(new Results(o, data, runs, scratch, speed, command));
        log.println("tables: " + o.out().resolve("study.md") + " (and tables/*.md, *.json)");
        log.println("page:   " + index);
        if (publish != null) log.println("copied: " + StudyReport.publish(o.out(), publish) + " (with the tables, charts and pictures)");
        return index;
    }

    private String claimIds() {
        List<String> ids = new ArrayList<>();
        for (Claim c : Claim.values()) if (o.claims().contains(c)) ids.add(c.id);
        return String.join(",", ids);
    }

    // ---------------------------------------------------------------- one variant

    static Path runDir(StudyOptions o, Variant v, long seed) { return o.out().resolve("runs").resolve(v.id() + "-s" + seed); }

    RunOptions runOptions(Variant v, long seed) {
        return new RunOptions(v.config(o.baseConfig()).name(), o.data() == null ? null : o.data().toString(), Integer.MAX_VALUE / 4,
                o.budget(), o.batch(), 1, o.blr(), -1, v.maskRatio(), v.masking(), v.normPix(), seed,
                Math.max(1, Math.min(100, o.budget() / 4)), RUN_KNN_BANK, "cpu");
    }

    private RunResult variant(Variant v, long seed, Evaluation.Data data, int k, int total) throws IOException {
        Path dir = runDir(o, v, seed), evalFile = dir.resolve(EVAL_FILE);
        String key = Json.compact(o.protocol());
        String what = String.format(Locale.ROOT, "[%d/%d] %s, seed %d", k, total, v, seed);
        pretrain(v, seed, dir, what);
        if (Files.exists(evalFile)) {
            JsonFile f = JsonFile.read(evalFile);
            if (f.has("protocol_key") && key.equals(f.string("protocol_key"))) {
                log.printf(Locale.ROOT, "%s: evaluated before, reused (%s)%n", what, evalFile);
                return read(f, v, seed, dir);
            }
            log.printf(Locale.ROOT, "%s: evaluated under another protocol before; evaluating again%n", what);
        }
        log.printf(Locale.ROOT, "%s: evaluating (kNN, linear probe, fine-tuning on %d images)%n", what, data.first(o.ftTrainLimit()).n());
        Encoders.Loaded loaded = Encoders.load(Checkpoints.resolveWeights(dir), null);
        Augment aug = new Augment(loaded.config().imgSize(), loaded.normalization() != null ? loaded.normalization() : data.norm());
        Evaluation.Frozen fz = Evaluation.frozen(loaded.encoder(), data, aug, o, seed);
        Finetune.Result ft = Finetune.runDetailed(loaded.encoder(), data.first(o.ftTrainLimit()), data.eval(), aug, data.classes(), o.finetune().withSeed(seed), log);
        double[] loss = RunFiles.pretrainLoss(dir);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("variant", v.id()); m.put("mask_ratio", v.maskRatio()); m.put("decoder_depth", v.decoderDepth());
        m.put("norm_pix", v.normPix()); m.put("masking", v.masking()); m.put("seed", seed);
        m.put("pretrain_steps", (long) loss[0]); m.put("pretrain_loss", loss[1]); m.put("pretrain_seconds", loss[2]);
        m.put("finetune_accuracy", ft.accuracy()); m.put("finetune_steps", ft.steps()); m.put("finetune_seconds", ft.seconds());
        m.put("linear_accuracy", fz.linear()); m.put("knn_accuracy", fz.knn()); m.put("frozen_seconds", fz.seconds());
        m.put("eval_images", data.eval().n()); m.put("data", data.description());
        m.put("protocol_key", key); m.put("protocol", o.protocol());
        JsonFile.write(evalFile, m);
        log.printf(Locale.ROOT, "%s: fine-tune %.4f, linear %.4f, kNN %.4f (pretraining loss %.4f)%n", what, ft.accuracy(), fz.linear(), fz.knn(), loss[1]);
        return read(JsonFile.read(evalFile), v, seed, dir);
    }

    private static RunResult read(JsonFile f, Variant v, long seed, Path dir) {
        return new RunResult(v, seed, dir, f.longValue("pretrain_steps"), num(f, "pretrain_loss"), num(f, "pretrain_seconds"),
                num(f, "finetune_accuracy"), num(f, "finetune_seconds"), num(f, "linear_accuracy"), num(f, "knn_accuracy"), num(f, "frozen_seconds"));
    }

    /** A number, NaN for null (a value that was not finite when written). */
    static double num(JsonFile f, String key) {
        try {
            return f.doubleValue(key);
        } catch (IllegalArgumentException e) {
            if (f.has(key)) return Double.NaN;
            throw e;
        }
    }

    /** Pretrains the run unless it is complete: a new run, or a resumed one when it has a checkpoint. */
    private void pretrain(Variant v, long seed, Path dir, String what) throws IOException {
        RunOptions want = runOptions(v, seed);
        boolean resume = false;
        if (Files.isRegularFile(dir.resolve("run.json"))) {
            RunOptions have = RunOptions.read(dir);
            if (!have.equals(want))
                throw new IllegalArgumentException(dir + " holds a run with other options than this study's (" + differences(have, want)
                        + "); remove it or choose another --out");
            if (Files.isRegularFile(dir.resolve("result.json")) && new Checkpoints(dir).latest() != null) {
                log.printf(Locale.ROOT, "%s: pretrained before, reused (%s)%n", what, dir);
                return;
            }
            resume = new Checkpoints(dir).latest() != null;
            if (!resume) deleteRun(dir);              // stopped before its first checkpoint: start it again
        } else if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) throw new IllegalArgumentException(dir + " is not empty and holds no run; remove it or choose another --out");
            }
        }
        log.printf(Locale.ROOT, "%s: %s (%d steps) in %s%n", what, resume ? "resuming pretraining" : "pretraining", o.budget(), dir);
        Pretrainer.Result r = new Pretrainer(want, dir, home, log, false).run(resume);
        log.printf(Locale.ROOT, "%s: pretrained, final loss %.4f, %.0f s%n", what, r.finalLoss(), r.seconds());
    }

    /** The record components in which two run options differ, e.g. "max_steps 6, not 7". */
    static String differences(RunOptions have, RunOptions want) {
        List<String> d = new ArrayList<>();
        try {
            for (java.lang.reflect.RecordComponent c : RunOptions.class.getRecordComponents()) {
                Object a = c.getAccessor().invoke(have), b = c.getAccessor().invoke(want);
                if (!java.util.Objects.equals(a, b)) d.add(c.getName() + " " + a + ", not " + b);
            }
        } catch (ReflectiveOperationException e) {
            return have.toString();
        }
        return String.join("; ", d);
    }

    /** Removes a run folder the study made (one holding run.json) that has no checkpoint yet. */
    private static void deleteRun(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) Files.delete(p);
        }
    }

    // ---------------------------------------------------------------- from scratch

    private ScratchResult scratch(long seed, Evaluation.Data data) throws IOException {
        Path dir = o.out().resolve("runs").resolve("scratch-s" + seed), file = dir.resolve(SCRATCH_FILE);
        String key = Json.compact(StudyOptions.ordered("protocol", o.protocol(), "config", o.config(), "budget", o.budget(), "batch", o.batch()));
        String what = "from scratch, seed " + seed;
        if (Files.exists(file)) {
            JsonFile f = JsonFile.read(file);
            if (f.has("key") && key.equals(f.string("key"))) {
                log.printf(Locale.ROOT, "%s: trained before, reused (%s)%n", what, file);
                return readScratch(f, seed);
            }
        }
        Files.createDirectories(dir);
        MaeConfig cfg = o.baseConfig();
        Augment aug = new Augment(cfg.imgSize(), data.norm());
        int n = data.first(o.ftTrainLimit()).n();
        // Same total compute: the fine-tuning epochs plus as many more as pretraining cost, in forward multiply-adds
        // per image (the backward pass costs about twice its forward in both, so the ratio holds for training too).
        long macsPre = SpeedCheck.macs(o.base().config(cfg), o.base().maskRatio())[1];
        long macsSup = Finetune.macsPerImage(Encoders.create(cfg, 0), data.classes());
        double pretrainImages = (double) o.budget() * o.batch();
        double epochs = o.finetune().epochs() + pretrainImages * macsPre / macsSup / n;
        log.printf(Locale.ROOT, "%s: random-init features (kNN, linear probe)%n", what);
        Evaluation.Frozen fz = Evaluation.frozen(Encoders.create(cfg, seed + 777), data, aug, o, seed);
        Finetune.Settings same = o.scratchFinetune().withSeed(seed);
        log.printf(Locale.ROOT, "%s: the fine-tuning schedule (%s epochs)%n", what, Variant.ratio(same.epochs()));
        Finetune.Result a = Finetune.runDetailed(Encoders.create(cfg, seed + 777), data.first(o.ftTrainLimit()), data.eval(), aug, data.classes(), same, log);
        log.printf(Locale.ROOT, "%s: the same total compute as pretraining + fine-tuning (%.2f epochs)%n", what, epochs);
        Finetune.Result b = Finetune.runDetailed(Encoders.create(cfg, seed + 777), data.first(o.ftTrainLimit()), data.eval(), aug, data.classes(),
                same.withEpochs(epochs).withWarmupEpochs(same.warmupEpochs() * epochs / same.epochs()), log);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seed", seed);
        m.put("random_init_linear_accuracy", fz.linear()); m.put("random_init_knn_accuracy", fz.knn());
        m.put("same_schedule_accuracy", a.accuracy()); m.put("same_schedule_seconds", a.seconds()); m.put("same_schedule_steps", a.steps());
        m.put("same_compute_accuracy", b.accuracy()); m.put("same_compute_seconds", b.seconds()); m.put("same_compute_steps", b.steps());
        m.put("same_compute_epochs", epochs); m.put("finetune_epochs", same.epochs());
        m.put("macs_pretrain_image", macsPre); m.put("macs_supervised_image", macsSup);
        m.put("eval_images", data.eval().n()); m.put("key", key);
        JsonFile.write(file, m);
        log.printf(Locale.ROOT, "%s: same schedule %.4f, same compute %.4f%n", what, a.accuracy(), b.accuracy());
        return readScratch(JsonFile.read(file), seed);
    }

    private static ScratchResult readScratch(JsonFile f, long seed) {
        return new ScratchResult(seed, num(f, "random_init_linear_accuracy"), num(f, "random_init_knn_accuracy"),
                num(f, "same_schedule_accuracy"), num(f, "same_schedule_seconds"), num(f, "same_compute_accuracy"),
                num(f, "same_compute_seconds"), num(f, "same_compute_epochs"), num(f, "finetune_epochs"),
                f.longValue("macs_pretrain_image"), f.longValue("macs_supervised_image"));
    }

    // ---------------------------------------------------------------- speed

    private SpeedCheck.Result speed() throws IOException {
        Path file = o.out().resolve(SPEED_FILE);
        MaeConfig cfg = o.base().config(o.baseConfig());
        if (Files.exists(file)) {
            JsonFile f = JsonFile.read(file);
            if (f.has("config") && f.string("config").equals(cfg.name()) && f.intValue("batch") == o.batch() && f.intValue("timed_steps") == o.speedSteps()) {
                log.println("speed: measured before, reused (" + file + ")");
                return new SpeedCheck.Result(num(f, "mask_ratio"), num(f, "ms_per_step_visible_only"), num(f, "ms_per_step_all_patches"),
                        f.longValue("encoder_macs_per_image_visible_only"), f.longValue("encoder_macs_per_image_all_patches"),
                        f.longValue("macs_per_image_visible_only"), f.longValue("macs_per_image_all_patches"), f.intValue("batch"), f.intValue("timed_steps"));
            }
        }
        log.printf(Locale.ROOT, "speed: %d timed steps of batch %d each, encoder on the visible patches vs on all of them%n", o.speedSteps(), o.batch());
        SpeedCheck.Result r = SpeedCheck.measure(cfg, o.batch(), o.base().maskRatio(), o.speedSteps(), 0);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("config", cfg.name());
        m.putAll(r.toJson());
        JsonFile.write(file, m);
        log.printf(Locale.ROOT, "speed: %.1f ms vs %.1f ms per step (%.2fx); encoder multiply-adds %.2fx fewer%n", r.msVisible(), r.msAll(), r.wallSpeedup(), r.encoderMacsRatio());
        return r;
    }
}
