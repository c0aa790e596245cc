package mae.tests;

import mae.kernels.JitFlags;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/** Child JVMs on the test classpath, killed with SIGKILL (Process.destroyForcibly on Linux), and run-folder snapshots. */
final class Child {
    private Child() {}

    /** Starts mainClass with args in a child JVM (mae.home = home), output to log. */
    static Process start(Path home, Path log, String mainClass, List<String> args) throws IOException {
        return start(home, log, mainClass, args, Map.of());
    }

    /** The same, with these environment variables added to the child's. */
    static Process start(Path home, Path log, String mainClass, List<String> args, Map<String, String> env) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", JitFlags.TRAP_LIMIT, JitFlags.RECOMPILE_CUTOFF, "-cp", System.getProperty("java.class.path"), "-Dmae.home=" + home, "-Dmae.gemm.autotune=false", mainClass));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Waits (up to 120 s) until the condition holds or the child ends, then kills it with SIGKILL; returns whether it held. */
    static boolean killWhen(Process p, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!condition.getAsBoolean() && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(2);
        boolean held = condition.getAsBoolean();
        p.destroyForcibly();                                    // SIGKILL: no shutdown hooks, no cleanup
        if (!p.waitFor(30, TimeUnit.SECONDS)) throw new IllegalStateException("the child did not die");
        return held;
    }

    /** Every file under dir with its bytes (to show that nothing was changed). */
    static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted()::iterator)
                if (Files.isRegularFile(p)) m.put(dir.relativize(p).toString(), java.util.HexFormat.of().formatHex(
                        java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return m;
    }

    /** A copy of a folder tree. */
    static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s.sorted()::iterator) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(q);
                else Files.copy(p, q);
            }
        }
        return to;
    }
}
