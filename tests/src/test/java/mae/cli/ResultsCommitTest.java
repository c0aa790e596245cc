package mae.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A results file names the commit and, by their full names, the files that differed from it. */
class ResultsCommitTest {
    static void git(Path dir, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("git", "-C", dir.toString(), "-c", "user.name=t", "-c", "user.email=t@t"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd));
    }

    @Test void the_commit_and_the_uncommitted_files_by_name(@TempDir Path dir) throws Exception {
        assertEquals("unknown (no git)", Results.commit(dir));
        git(dir, "init", "-q");
        Files.writeString(dir.resolve("README.md"), "a\n");
        Files.createDirectories(dir.resolve("docs"));
        Files.writeString(dir.resolve("docs/x.md"), "a\n");
        git(dir, "add", "-A");
        git(dir, "commit", "-q", "-m", "one");
        String clean = Results.commit(dir);
        assertTrue(clean.matches("[0-9a-f]{7,}"), clean);
        Files.writeString(dir.resolve("README.md"), "b\n");
        Files.writeString(dir.resolve("docs/x.md"), "b\n");
        assertEquals(clean + " with uncommitted changes to README.md, docs/x.md", Results.commit(dir));
    }
}
