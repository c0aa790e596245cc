package mae.tests;

import mae.model.MaeModel;
import mae.model.Weights;
import mae.tensor.Device;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * bin/mae pretrain --device cuda end to end on the tiny config: the log names the device, run.json keeps it, the
 * losses follow a CPU run's, the checkpoint loads on the CPU, a CPU checkpoint resumes onto the GPU; and
 * bin/mae bench step --device cuda. Run on a GPU by {@link PretrainCudaTest} (tag cuda) and on the CPU stand-in
 * of the kernels by {@link EmulatedPretrainCudaTest}.
 */
abstract class PretrainCudaChecks {
    static String savedHome;

    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restoreHome() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    static List<String> args(Path out, String... extra) {
        List<String> a = new ArrayList<>(PretrainTest.args(out, "--max-steps", "6"));
        a.addAll(List.of(extra));
        return a;
    }

    static final Pattern LOSS = Pattern.compile("\"loss\": ([-0-9.eE]+)");

    static List<Double> losses(Path run) throws Exception {
        List<Double> l = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            Matcher m = LOSS.matcher(line);
            assertTrue(m.find(), line);
            l.add(Double.parseDouble(m.group(1)));
        }
        return l;
    }

    /** The CLI in-process: exit code, stdout, stderr. */
    static Object[] runCli(List<String> args) {
        java.io.PrintStream out = System.out;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            Object[] r = PretrainTest.run(args);
            return new Object[]{r[0], buf.toString(java.nio.charset.StandardCharsets.UTF_8), r[1]};
        } finally {
            System.setOut(out);
        }
    }

    /**
     * Same seed, data and steps on both devices; the per-step losses agree within 2e-2 relative (TF32 matmuls:
     * see MaeCudaChecks in the mae module for the bound), and the CUDA checkpoint is an ordinary one the CPU loads.
     */
    @Test void a_cuda_run_follows_the_cpu_run_and_its_checkpoint_loads_on_the_cpu(@TempDir Path tmp) throws Exception {
        Path cpu = tmp.resolve("cpu"), cuda = tmp.resolve("cuda");
        Object[] c = runCli(args(cpu));
        assertEquals(0, c[0], (String) c[2]);
        assertTrue(((String) c[1]).contains("device: cpu\n"), (String) c[1]);
        Object[] g = runCli(args(cuda, "--device", "cuda"));
        assertEquals(0, g[0], (String) g[2]);
        assertTrue(((String) g[1]).contains("device: cuda (" + Device.CUDA.describe() + ")\n"), (String) g[1]);
        assertTrue(Files.readString(cuda.resolve("run.json")).contains("\"device\": \"cuda\""), Files.readString(cuda.resolve("run.json")));

        List<Double> want = losses(cpu), got = losses(cuda);
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++)
            assertEquals(want.get(i), got.get(i), 2e-2 * Math.abs(want.get(i)), "loss of step " + (i + 1) + ": cpu " + want + ", cuda " + got);

        MaeModel m = Weights.load(cuda.resolve("checkpoints/step-0000006/weights.safetensors"), null);
        assertEquals(Device.CPU, m.device());
        float loss = m.forward(Tensor.randn(new Rng(1), 2, 1, 28, 28), Tensor.rand(new Rng(2), 2, 16), 0.75).loss().value().item();
        assertTrue(Float.isFinite(loss), "the CUDA checkpoint runs on the CPU: loss " + loss);
    }

    /** A finished CPU run resumed with --device cuda: restores weights and moments onto the GPU, then evaluates from there. */
    @Test void a_cpu_checkpoint_resumes_onto_cuda(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run");
        assertEquals(0, runCli(args(run, "--max-steps", "2"))[0]);
        String knn = Files.readString(run.resolve("result.json"));
        Object[] r = runCli(List.of("pretrain", "--resume", run.toString(), "--device", "cuda", "--no-progress"));
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("device: cuda ("), (String) r[1]);
        assertEquals(field(knn, "knn_accuracy"), field(Files.readString(run.resolve("result.json")), "knn_accuracy"),
                "the weights went to the GPU and back unchanged");
    }

    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": \"?([^\",}]+)").matcher(json);
        assertTrue(m.find(), key + " in " + json);
        return m.group(1);
    }

    @Test void bench_step_on_cuda_prints_images_per_second() {
        Object[] r = runCli(List.of("bench", "step", "--config", "tiny", "--batch", "8", "--steps", "2", "--warmup", "1", "--device", "cuda"));
        assertEquals(0, r[0], (String) r[2]);
        String[] lines = ((String) r[1]).trim().split("\n");
        assertTrue(lines[0].contains("device cuda ("), lines[0]);
        assertTrue(lines[lines.length - 1].startsWith("images/s: "), (String) r[1]);
    }
}
