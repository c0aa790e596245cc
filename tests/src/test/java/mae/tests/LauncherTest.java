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
}
