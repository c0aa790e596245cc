package mae.tests;

import mae.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the explain tests share: a tiny MAE pretrained in-process for a few steps on the embedded data (once per
 * JVM), in its own home with runs/latest naming it, and a way to run the CLI with mae.home pointing there.
 */
final class ExplainFixture {
    static final String DATA = Path.of("../data/fashion-mnist").toAbsolutePath().normalize().toString();
    private static Path home, run;

    private ExplainFixture() {}

    /** The home holding runs/latest and the run. */
    static synchronized Path home() throws IOException {
        if (home == null) {
            Path h = Files.createTempDirectory("mae-explain-home");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(h)));
            Result r = run(h, "pretrain", "--config", "tiny", "--data", DATA, "--max-steps", "6", "--batch", "16",
                    "--knn-bank", "100", "--no-progress", "--seed", "1", "--out", h.resolve("runs/tiny").toString());
            if (r.rc() != 0) throw new IllegalStateException("pretraining the fixture failed: " + r.err());
            home = h;
            run = h.resolve("runs/tiny");
        }
        return home;
    }

    static Path run() throws IOException { home(); return run; }

    private static void deleteTree(Path p) {
        try (var s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }

    record Result(int rc, String out, String err) {}

    /** Runs the CLI in-process with mae.home set to {@code h}; captures stdout and stderr. */
    static synchronized Result run(Path h, String... args) {
        String saved = System.getProperty("mae.home");
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        System.setProperty("mae.home", h.toString());
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            int rc = Main.run(args);
            return new Result(rc, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
            if (saved == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", saved);
        }
    }

    /** explain with the fixture's home. */
    static Result explain(String... args) throws IOException {
        String[] all = new String[args.length + 1];
        all[0] = "explain";
        System.arraycopy(args, 0, all, 1, args.length);
        return run(home(), all);
    }
}
