package mae.tests;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The explain report opened in a real browser (Debian's headless Chromium): every picture loads and the stage
 * table shows the shapes of the run. Skips where /usr/bin/chromium is absent (.ci/run installs it).
 */
@Tag("browser")
class ExplainReportTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @BeforeAll static void chromium() {
        assumeTrue(Files.isExecutable(CHROMIUM), "skipped: " + CHROMIUM + " is not installed (apt-get install chromium)");
    }

    /** Runs headless Chromium on a page with the given mode flag (--dump-dom, --screenshot=...); returns stdout. */
    static String chromium(Path tmp, Path page, String... mode) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + tmp.resolve("profile"), "--virtual-time-budget=5000", "--window-size=1200,2000"));
        cmd.addAll(List.of(mode));
        cmd.add(page.toUri().toString());
        Process p = new ProcessBuilder(cmd).redirectError(tmp.resolve("chromium.log").toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium finished");
        assertEquals(0, p.exitValue(), "chromium: " + Files.readString(tmp.resolve("chromium.log")));
        return new String(out, StandardCharsets.UTF_8);
    }

    static int attribute(String dom, String name) {
        Matcher m = Pattern.compile(name + "=\"(\\d+)\"").matcher(dom);
        assertTrue(m.find(), name + " set by the page's script after load");
        return Integer.parseInt(m.group(1));
    }

    @Test void every_picture_loads_and_the_stage_table_shows_the_shapes_of_the_run(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("report");
        ExplainFixture.Result r = ExplainFixture.explain("--index", "7", "--data", ExplainFixture.DATA, "--masking", "random,grid",
                "--mask-ratio", "0.5", "--out", out.toString());
        assertEquals(0, r.rc(), r.err());
        Path index = out.resolve("index.html");
        String dom = chromium(tmp, index, "--dump-dom");
        int imgs = Pattern.compile("<img ").matcher(Files.readString(index)).results().toList().size();
        assertTrue(imgs >= 20, "pictures in the page: " + imgs);
        assertEquals(imgs, attribute(dom, "data-images-total"), "the browser sees every <img>");
        assertEquals(imgs, attribute(dom, "data-images-loaded"), "every picture loaded (complete, naturalWidth > 0)");
        assertTrue(dom.contains("pictures: " + imgs + " of " + imgs + " loaded"));

        String table = dom.substring(dom.indexOf("<table id=\"stages\">"));
        table = table.substring(0, table.indexOf("</table>"));
        // tiny: L = 16 patches of 7x7x1 = 49 values, D = 32, Dd = 16; mask ratio 0.5 keeps 8.
        int L = 16, keep = 8, D = 32, Dd = 16, P = 49;
        for (String shape : List.of(s(1, L, D), s(1, keep, D), s(1, 1 + keep, D), s(1, 1 + keep, Dd), s(1, L, Dd), s(1, 1 + L, Dd), s(1, L, P)))
            assertTrue(table.contains(">" + shape + "<"), "stage table shows " + shape);

        Path shot = tmp.resolve("shot.png");
        chromium(tmp, index, "--hide-scrollbars", "--screenshot=" + shot);
        assertTrue(ImageIO.read(shot.toFile()).getWidth() > 0, "screenshot rendered");
    }

    static String s(int... dims) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) sb.append(i > 0 ? "," : "").append(dims[i]);
        return sb.append(']').toString();
    }
}
