package mae.tests;

import mae.cli.Main;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The end-of-run summary names only files and folders the run wrote; the piped progress lines carry the ETA. */
class SummaryLinesTest {
    static String savedHome;
    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    static String stdout(List<String> args) {
        PrintStream was = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.run(args.toArray(new String[0])));
        } finally {
            System.setOut(was);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test void a_run_inside_its_first_epoch_points_at_no_epoch_folder(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        String o = stdout(PretrainTest.args(out, "--max-steps", "4"));       // 4 steps of 500 per epoch: no epoch ends
        assertFalse(Files.exists(out.resolve("recon")));
        assertFalse(o.contains("one grid per epoch"), o);
        List<Path> named = new ArrayList<>();
        Matcher m = Pattern.compile("(" + Pattern.quote(out.toString()) + "[^\\s,]*)").matcher(o);
        while (m.find()) named.add(Path.of(m.group(1)));
        assertTrue(named.size() >= 4, "pictures, loss chart, checkpoint, metrics: " + named);
        for (Path p : named) assertTrue(Files.exists(p), p + " was written (summary:\n" + o + ")");
        assertTrue(o.contains("step 4/4") && o.contains("done in "), "the last progress line says how long the run took:\n" + o);
        assertTrue(o.contains("step 2/4") && o.contains("ETA "), "piped progress lines carry the ETA:\n" + o);
    }
}
