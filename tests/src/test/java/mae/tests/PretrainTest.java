package mae.tests;

import mae.kernels.JitFlags;
import mae.cli.Main;
import mae.tensor.io.Safetensors;
import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Pretraining end to end on the tiny config and the embedded data: resume, kill -9, faults, bad input. */
class PretrainTest {
    static final String DATA = Path.of("../data/fashion-mnist").toAbsolutePath().normalize().toString();
    static String savedHome;

    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    static List<String> args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("pretrain", "--config", "tiny", "--data", DATA, "--max-steps", "8", "--batch", "16",
                "--checkpoint-every", "2", "--knn-bank", "200", "--no-progress", "--seed", "3", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a;
    }

    /** Runs the CLI in-process; returns exit code and captured stderr. */
    static Object[] run(List<String> args) {
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int rc = Main.run(args.toArray(new String[0]));
            return new Object[]{rc, buf.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(err);
        }
    }

    static Map<String, Entry> weights(Path run, int step) throws Exception {
        return Safetensors.read(run.resolve(String.format("checkpoints/step-%07d/weights.safetensors", step))).tensors();
    }

    static void assertBitIdentical(Map<String, Entry> a, Map<String, Entry> b) {
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            float[] x = a.get(k).floats(), y = b.get(k).floats();
            for (int i = 0; i < x.length; i++)
                assertEquals(Float.floatToIntBits(x[i]), Float.floatToIntBits(y[i]), k + "[" + i + "]: " + x[i] + " vs " + y[i]);
        }
    }

    @Test void a_run_killed_with_sigkill_resumes_to_bit_identical_weights(@TempDir Path tmp) throws Exception {
        Path straight = tmp.resolve("straight"), killed = tmp.resolve("killed");
        assertEquals(0, run(args(straight))[0]);

        // The same run in a child JVM, killed (SIGKILL) as soon as its first checkpoint exists.
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", JitFlags.TRAP_LIMIT, JitFlags.RECOMPILE_CUTOFF, "-cp", System.getProperty("java.class.path"), "-Dmae.home=" + home, "-Dmae.gemm.autotune=false", "mae.cli.Main"));
        cmd.addAll(args(killed));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        Path latest = killed.resolve("checkpoints/latest");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(latest) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
        p.destroyForcibly();                                    // SIGKILL on Linux: no shutdown hooks, no cleanup
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertTrue(Files.exists(latest), "the child wrote a checkpoint before it was killed: " + Files.readString(tmp.resolve("child.log")));
        String at = Files.readString(latest).trim();
        assertNotEquals("step-0000008", at, "killed before the end");

        Object[] r = run(List.of("pretrain", "--resume", killed.toString(), "--no-progress"));
        assertEquals(0, r[0], (String) r[1]);
        assertBitIdentical(weights(straight, 8), weights(killed, 8));
        assertEquals(losses(straight), losses(killed), "the resumed metrics repeat the straight run's losses");
    }

    static List<String> losses(Path run) throws Exception {
        List<String> l = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) l.add(line.replaceAll(", \"images_per_s\".*", ""));
        return l;
    }

    /**
     * The learning rate each step ran at, read back from metrics.jsonl, against MAE's formula written out here:
     * peak = blr x batch x accum / 256; step i (from 0) at epoch e = i / steps-per-epoch runs at peak x e / warmup
     * during the warmup, then at a half-cosine from the peak down to 0 at the last step. Four warmup steps, two after.
     */
    @Test void each_step_runs_at_the_warmup_then_cosine_learning_rate(@TempDir Path tmp) throws Exception {
        int batch = 16, accum = 2, perStep = batch * accum, total = 6, warmupSteps = 4;
        int stepsPerEpoch = mae.data.Datasets.load(Path.of(DATA), Path.of(DATA), 1, 28).train().n() / perStep;
        double blr = 1.6e-3, peak = blr * perStep / 256, warmupEpochs = (double) warmupSteps / stepsPerEpoch;
        Path out = tmp.resolve("run");
        Object[] r = run(args(out, "--max-steps", String.valueOf(total), "--accum", String.valueOf(accum), "--blr", String.valueOf(blr),
                "--warmup-epochs", String.valueOf(warmupEpochs), "--checkpoint-every", "0"));
        assertEquals(0, r[0], (String) r[1]);
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(total, lines.size());
        for (int i = 0; i < total; i++) {
            Map<String, Object> m = mae.tensor.io.Json.asObject(mae.tensor.io.Json.parse(lines.get(i)), "metrics line " + (i + 1));
            double want = i < warmupSteps ? peak * i / warmupSteps
                    : peak * 0.5 * (1 + Math.cos(Math.PI * (i - warmupSteps) / (total - warmupSteps)));
            double lr = ((Number) m.get("lr")).doubleValue();
            assertEquals(i + 1, ((Number) m.get("step")).intValue());
            assertEquals(want, lr, 1e-5 * peak, "lr of step " + (i + 1) + " (metrics keep 6 digits)");
            assertEquals((i + 1.0) / stepsPerEpoch, ((Number) m.get("epoch")).doubleValue(), 1e-4, "epoch of step " + (i + 1));
        }
    }

    /**
     * The optimizer runs at the scheduled rate: one step at lr 0 (the first of a warmup) leaves the initial weights
     * as they were. So the run's closing kNN saw the initial encoder, and its accuracy can be recomputed here.
     */
    @Test void a_first_step_at_lr_0_keeps_the_initial_weights_and_the_closing_knn_follows_the_protocol(@TempDir Path tmp) throws Exception {
        Path one = tmp.resolve("one");
        Object[] r = run(args(one, "--max-steps", "1", "--warmup-epochs", "0.01"));
        assertEquals(0, r[0], (String) r[1]);
        Map<String, Entry> first = weights(one, 1);
        mae.model.MaeModel init = new mae.model.MaeModel(mae.model.MaeConfig.named("tiny"), 3);
        init.params.trainable().forEach((name, p) ->
                assertArrayEquals(p.value().toArray(), first.get(name).floats(), name + " after a step at lr 0"));

        // result.json holds the protocol's accuracy to the bit: k = 20, T = 0.07, mean-pooled features of the first 200
        // training images (--knn-bank 200), the first 2,000 held-out ones as queries.
        mae.data.Datasets.Split split = mae.data.Datasets.load(Path.of(DATA), Path.of(DATA), 1, 28);
        mae.data.Dataset bank = split.train().subset(0, 200), queries = split.eval().subset(0, Math.min(2000, split.eval().n()));
        mae.data.Augment aug = new mae.data.Augment(28, mae.data.Normalization.of(split.train()));
        float[] fb = mae.eval.Features.of(mae.eval.Features.Kind.MEAN, init.encoder, bank, aug, 256);
        float[] fq = mae.eval.Features.of(mae.eval.Features.Kind.MEAN, init.encoder, queries, aug, 256);
        int D = init.cfg.embedDim(), classes = 10;
        double want = mae.eval.Knn.accuracy(fb, bank.labels(), fq, queries.labels(), D, 20, 0.07, classes);
        Map<String, Object> result = mae.tensor.io.Json.asObject(mae.tensor.io.Json.parse(Files.readString(one.resolve("result.json"))), "result.json");
        assertEquals(want, ((Number) result.get("knn_accuracy")).doubleValue(), 0, "kNN accuracy of the run");
        assertNotEquals(want, mae.eval.Knn.accuracy(fb, bank.labels(), fq, queries.labels(), D, 1, 0.07, classes), "k = 1 would give another accuracy here");
    }

    @Test void an_output_directory_holding_another_run_is_refused_untouched(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        assertEquals(0, run(args(out, "--max-steps", "2"))[0]);
        String before = Files.readString(out.resolve("run.json"));
        Object[] r = run(args(out, "--max-steps", "2"));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("holds another run"), (String) r[1]);
        assertEquals(before, Files.readString(out.resolve("run.json")));
    }

    @Test void an_exploding_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        Object[] r = run(args(out, "--blr", "1e12", "--warmup-epochs", "0", "--checkpoint-every", "1"));
        assertEquals(1, r[0]);
        String err = (String) r[1];
        assertTrue(err.contains("stopped") && err.contains("--blr"), err);
        if (Files.exists(out.resolve("checkpoints/latest"))) {
            String at = Files.readString(out.resolve("checkpoints/latest")).trim();
            for (Entry e : Safetensors.read(out.resolve("checkpoints").resolve(at).resolve("weights.safetensors")).tensors().values())
                for (float v : e.floats()) assertTrue(Float.isFinite(v), "checkpointed weights are finite");
        }
    }

    @Test void bad_data_and_flags_fail_clearly_without_leaving_a_run(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("bad");
        Files.createDirectories(bad);
        Files.write(bad.resolve("train-images-idx3-ubyte"), new byte[]{0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3});
        Files.write(bad.resolve("train-labels-idx1-ubyte"), new byte[]{0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3, 4, 5});
        Path out = tmp.resolve("run");
        List<String> a = args(out);
        a.set(a.indexOf(DATA), bad.toString());
        Object[] r = run(a);
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("train-images-idx3-ubyte"), (String) r[1]);
        assertFalse(Files.exists(out.resolve("run.json")), "no run directory is left behind");

        r = run(args(out, "--mask-ratio", "1.0"));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("--mask-ratio"), (String) r[1]);
        r = run(args(out, "--masking", "spiral"));
        assertTrue(((String) r[1]).contains("--masking"), (String) r[1]);
        r = run(args(out, "--config", "nope"));
        assertTrue(((String) r[1]).contains("unknown config 'nope'"), (String) r[1]);
    }

    @Test void probe_reconstruct_and_a_checkpoint_of_another_config(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        assertEquals(0, run(args(out, "--max-steps", "2"))[0]);
        Object[] r = run(List.of("probe", "--checkpoint", out.toString(), "--method", "knn", "--data", DATA, "--train-limit", "300"));
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(Files.exists(out.resolve("probe-knn.json")));
        r = run(List.of("probe", "--checkpoint", out.toString(), "--method", "linear", "--data", DATA, "--train-limit", "300", "--epochs", "2"));
        assertEquals(0, r[0], (String) r[1]);
        r = run(List.of("probe", "--checkpoint", out.toString(), "--config", "fmnist", "--data", DATA));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("the config needs"), (String) r[1]);

        Path png = tmp.resolve("img.png");
        mae.viz.Png.write(png, new float[28 * 28], 1, 28, 28);
        r = run(List.of("reconstruct", "--checkpoint", out.toString(), "--image", png.toString(), "--out", tmp.resolve("rec.png").toString()));
        assertEquals(0, r[0], (String) r[1]);
        assertNotNull(javax.imageio.ImageIO.read(tmp.resolve("rec.png").toFile()));
    }
}
