package mae.tests;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The launcher bin/mae (the README's first command) points at the MAE module: the repository root is the parent
 * of bin/, and the module it builds, the classpath file and the jar it starts all live in that module's folder.
 * Checked on the script's text, so that a moved module or script cannot leave it pointing at nothing (running it
 * would build the engine, which the reactor build already does).
 */
class LauncherTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();   // surefire runs in tests/

    @Test void bin_mae_builds_and_starts_the_mae_module() throws Exception {
        Path script = ROOT.resolve("bin/mae");
        assertTrue(Files.isRegularFile(script), script + " exists");
        assertTrue(Files.isExecutable(script), script + " is executable");
        assertFalse(Files.exists(ROOT.resolve("mae-app")), "the module folder is mae, not mae-app");
        String s = Files.readString(script);
        assertTrue(s.contains("ROOT=\"$(cd \"$(dirname \"${BASH_SOURCE[0]}\")/..\" && pwd)\""), "ROOT is the parent of bin/:\n" + s);

        Matcher cp = Pattern.compile("CP_FILE=\"\\$ROOT/([^/\"]+)/target/runtime-classpath.txt\"").matcher(s);
        assertTrue(cp.find(), "CP_FILE under a module's target/:\n" + s);
        String module = cp.group(1);
        assertEquals("bench", module, "the bench module: the CLI (module mae) plus the bench command");
        Path pom = ROOT.resolve(module).resolve("pom.xml");
        assertTrue(Files.isRegularFile(pom), pom + " exists");
        assertTrue(Files.readString(pom).contains("<artifactId>mae</artifactId>"), "the bench module depends on the mae module");
        assertTrue(Files.readString(ROOT.resolve("pom.xml")).contains("<module>" + module + "</module>"), "the reactor lists the module");
        assertTrue(s.contains("-pl " + module + " -am package"), "builds that module:\n" + s);
        assertTrue(s.contains("\"$ROOT/" + module + "/target/classes\""), "puts that module's classes first:\n" + s);
        assertTrue(Files.isRegularFile(ROOT.resolve(module).resolve("src/main/java/mae/bench/BenchCommand.java")), "the bench command is in it");
        assertTrue(Files.isRegularFile(ROOT.resolve("mae/src/main/java/mae/cli/Main.java")), "mae.cli.Main is in the mae module");
        assertTrue(s.contains("mae.cli.Main \"$@\""), "starts mae.cli.Main:\n" + s);
    }

    /**
     * The class-path file is trusted only when it starts with the bench classes: a build stopped between Maven
     * writing it and the script prefixing it (e.g. `bin/mae --help | head -1`, whose SIGPIPE ends the script) left a
     * file without them, and every later launch failed on "Unmatched arguments: 'step'". Run for real, in a copy of
     * the script in a scratch root, with a fake mvn (writes the file, notes that it ran) and a fake java (prints its
     * arguments).
     */
    @Test void bin_mae_rebuilds_a_class_path_without_the_bench_classes(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path root = dir.resolve("repo"), tools = dir.resolve("tools"), cp = root.resolve("bench/target/runtime-classpath.txt");
        Files.createDirectories(root.resolve("bin"));
        Files.createDirectories(cp.getParent());
        Files.createDirectories(tools);
        Files.copy(ROOT.resolve("bin/mae"), root.resolve("bin/mae"));
        root.resolve("bin/mae").toFile().setExecutable(true);
        Files.writeString(root.resolve("pom.xml"), "<project/>");
        script(tools.resolve("mvn"), "touch \"" + dir.resolve("mvn-ran") + "\"; echo /x/mae.jar > bench/target/runtime-classpath.txt");
        script(tools.resolve("java"), "echo \"$@\"");
        Files.writeString(cp, "/x/mae.jar\n");                          // a file without the bench classes first
        Files.setLastModifiedTime(root.resolve("pom.xml"), java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        String out = run(root, tools);
        assertTrue(Files.exists(dir.resolve("mvn-ran")), "rebuilt: " + out);
        assertTrue(out.contains("-cp " + root + "/bench/target/classes:/x/mae.jar mae.cli.Main --help"), out);
        assertTrue(out.contains(mae.kernels.JitFlags.TRAP_LIMIT + " " + mae.kernels.JitFlags.RECOMPILE_CUTOFF), "bin/mae passes JitFlags' limits: " + out);
        Files.delete(dir.resolve("mvn-ran"));
        out = run(root, tools);                                          // now prefixed, sources older: no build
        assertFalse(Files.exists(dir.resolve("mvn-ran")), "no rebuild of a good class path: " + out);
        assertTrue(out.contains("-cp " + root + "/bench/target/classes:/x/mae.jar mae.cli.Main --help"), out);
    }

    private static void script(Path p, String body) throws Exception {
        Files.writeString(p, "#!/usr/bin/env bash\n" + body + "\n");
        p.toFile().setExecutable(true);
    }

    private static String run(Path root, Path tools) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(root.resolve("bin/mae").toString(), "--help").redirectErrorStream(true);
        pb.environment().put("PATH", tools + ":" + System.getenv("PATH"));
        pb.environment().put("JAVA", tools.resolve("java").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
