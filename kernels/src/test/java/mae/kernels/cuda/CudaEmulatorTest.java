package mae.kernels.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The CUDA-on-CPU emulator as a JUnit test: kernels/src/test/cuda-emu/run.sh (plain mode) builds the real kernel
 * sources for the host and checks them against double references, without a GPU.
 *
 * <p>Tagged {@code emulator}, which the root pom's excludedTests leaves out of a plain {@code mvn test}: it keeps
 * both cores busy for a minute or two. CI (.ci/run) does not go through this test either: it runs run.sh
 * directly, plain and with --sanitize. This test is for running it through Maven, e.g.
 * {@code mvn -pl kernels test -DexcludedTests=cuda -Dtest=CudaEmulatorTest}.
 * Skips where g++ >= 12 (run.sh needs C++20 &lt;barrier&gt;) or python3 is missing.
 */
@Tag("emulator")
class CudaEmulatorTest {
    static final long TIMEOUT_MINUTES = 20;

    /** run.sh, from the module (surefire) or the repository root; null when not in a checkout. */
    static Path script() {
        for (String p : new String[]{"src/test/cuda-emu/run.sh", "kernels/src/test/cuda-emu/run.sh"}) {
            Path f = Paths.get(p);
            if (Files.isRegularFile(f)) return f.toAbsolutePath();
        }
        return null;
    }

    /** The major version of g++ on PATH, or -1 when there is none that runs. */
    static int gxxMajor() {
        try {
            Process p = new ProcessBuilder("g++", "-dumpversion").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (p.waitFor() != 0) return -1;
            return Integer.parseInt(v.split("\\.")[0]);
        } catch (IOException | NumberFormatException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static void assumeToolchain() {
        Assumptions.assumeTrue(CudaBuildTest.onPath("python3"), "python3 not on PATH: CUDA emulator not run");
        int gxx = gxxMajor();
        Assumptions.assumeTrue(gxx >= 12, gxx < 0 ? "no g++ on PATH: CUDA emulator not run"
                : "g++ " + gxx + " is older than 12 (no C++20 <barrier>): CUDA emulator not run");
    }

    @Test void emulator_suites_pass() throws Exception {
        Path run = script();
        Assumptions.assumeTrue(run != null, "not run from a checkout: no kernels/src/test/cuda-emu/run.sh");
        assumeToolchain();
        File log = File.createTempFile("cuda-emu", ".log");
        try {
            int rc = runLogged(run, log);
            String out = Files.readString(log.toPath(), StandardCharsets.UTF_8);
            System.out.print(out);   // the per-suite lines, in the surefire report
            assertEquals(0, rc, "kernels/src/test/cuda-emu/run.sh failed:\n" + out);
        } finally {
            Files.deleteIfExists(log.toPath());
        }
    }

    /** Runs run.sh into log (a file: no pipe to drain) and returns its exit status; kills it all on timeout. */
    static int runLogged(Path run, File log) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", run.toString()).redirectErrorStream(true).redirectOutput(log).start();
        if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);   // g++ and the suite binaries, not only bash
            p.destroyForcibly();
            fail("run.sh did not finish in " + TIMEOUT_MINUTES + " minutes:\n" + Files.readString(log.toPath()));
        }
        return p.exitValue();
    }
}
