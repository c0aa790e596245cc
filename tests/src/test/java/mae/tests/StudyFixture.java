package mae.tests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole study at smoke-test size, run once per JVM: the tiny config, two mask ratios and two masking strategies
 * (three pretraining runs of 6 steps), one seed, the from-scratch baseline and the speed check, all claims, on a
 * few hundred embedded images. Well under a minute on 2 cores.
 */
final class StudyFixture {
    private static Path home, out;
    private static ExplainFixture.Result first;

    private StudyFixture() {}

    static List<String> args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("study", "--config", "tiny", "--data", ExplainFixture.DATA, "--out", out.toString(),
                "--budget", "6", "--batch", "16", "--mask-ratios", "0.5,0.75", "--decoder-depths", "1", "--norm-pix", "on",
                "--masking", "random,grid", "--ft-epochs", "0.5", "--ft-batch", "16", "--ft-blr", "4e-3", "--ft-train-limit", "256",
                "--probe-epochs", "3", "--probe-train-limit", "256", "--knn-bank", "256", "--eval-limit", "200", "--speed-steps", "2"));
        a.addAll(List.of(extra));
        return a;
    }

    /** The study folder of the shared run. */
    static synchronized Path out() throws IOException {
        if (out == null) {
            Path h = Files.createTempDirectory("mae-study-home");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(h)));
            Path o = h.resolve("study");
            ExplainFixture.Result r = ExplainFixture.run(h, args(o).toArray(new String[0]));
            if (r.rc() != 0) throw new IllegalStateException("the study failed: " + r.err() + "\n" + r.out());
            home = h;
            out = o;
            first = r;
        }
        return out;
    }

    static void deleteTree(Path p) {
        try (var s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }

    static Path home() throws IOException { out(); return home; }

    /** What the first run printed. */
    static ExplainFixture.Result first() throws IOException { out(); return first; }
}
