package mae.tests;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static mae.tests.PretrainTest.args;
import static mae.tests.PretrainTest.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A machine whose Java cannot draw text still trains. The GPU machine's image has no FreeType: there the first
 * picture failed with "Could not initialize class sun.font.SunFontManager" and the run died. Here a child JVM finds
 * a libfreetype.so.6 that cannot load first on LD_LIBRARY_PATH, which fails AWT's font manager the same way.
 */
class NoFontsTest {
    static String savedHome;
    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    @Test void pretraining_without_fonts_draws_the_reconstructions_without_text_and_warns_once(@TempDir Path tmp) throws Exception {
        Path lib = Files.createDirectories(tmp.resolve("lib"));
        Files.write(lib.resolve("libfreetype.so.6"), new byte[0]);      // "file too short" for the dynamic loader
        Path noFonts = tmp.resolve("no-fonts"), log = tmp.resolve("child.log");
        Process p = Child.start(home, log, "mae.cli.Main", args(noFonts, "--max-steps", "2"), Map.of("LD_LIBRARY_PATH", lib.toString()));
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "the child did not finish");
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        String warning = "warning: this Java cannot draw text (java.lang.UnsatisfiedLinkError";
        assertTrue(out.contains(warning), out);
        assertEquals(out.indexOf(warning), out.lastIndexOf(warning), "warned once: " + out);
        assertFalse(Files.exists(noFonts.resolve("loss.png")), "a chart is all text and axes: not drawn");
        assertTrue(Files.exists(noFonts.resolve("result.json")), "the run finished: " + out);

        Path withFonts = tmp.resolve("with-fonts");
        Object[] r = run(args(withFonts, "--max-steps", "2"));
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(Files.exists(withFonts.resolve("loss.png")));
        BufferedImage bare = ImageIO.read(noFonts.resolve("reconstruction.png").toFile());
        BufferedImage full = ImageIO.read(withFonts.resolve("reconstruction.png").toFile());
        assertEquals(full.getWidth(), bare.getWidth(), "no row labels in this grid: the same width");
        assertTrue(bare.getHeight() < full.getHeight(), "no title band or caption: " + bare.getHeight() + " < " + full.getHeight() + " px");
    }
}
