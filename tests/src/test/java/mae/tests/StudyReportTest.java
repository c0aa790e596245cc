package mae.tests;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The study's page opened in headless Chromium, as the explain report is: every chart and reconstruction loads,
 * every claim's table is there with the paper's figure beside ours. Skips where /usr/bin/chromium is absent.
 */
@Tag("browser")
class StudyReportTest {
    @BeforeAll static void chromium() {
        assumeTrue(Files.isExecutable(ExplainReportTest.CHROMIUM), "skipped: " + ExplainReportTest.CHROMIUM + " is not installed (apt-get install chromium)");
    }

    @Test void every_picture_loads_and_every_claim_has_its_table(@TempDir Path tmp) throws Exception {
        Path index = StudyFixture.out().resolve("index.html");
        String dom = ExplainReportTest.chromium(tmp, index, "--dump-dom");
        int imgs = Pattern.compile("<img ").matcher(Files.readString(index)).results().toList().size();
        assertEquals(5 + 1 + 3, imgs, "5 claim charts, the speed chart, 3 reconstructions");
        assertEquals(imgs, ExplainReportTest.attribute(dom, "data-images-total"), "the browser sees every <img>");
        assertEquals(imgs, ExplainReportTest.attribute(dom, "data-images-loaded"), "every picture loaded (complete, naturalWidth > 0)");
        assertEquals(5, ExplainReportTest.attribute(dom, "data-tables"), "one table per claim (speed has its own)");
        assertTrue(dom.contains("pictures: " + imgs + " of " + imgs + " loaded"));
        for (String id : new String[]{"mask-ratio", "decoder-depth", "targets", "masking", "scratch", "speed"})
            assertTrue(dom.contains("id=\"table-" + id + "\""), "table " + id);
        String masking = dom.substring(dom.indexOf("id=\"table-masking\""));
        masking = masking.substring(0, masking.indexOf("</table>"));
        assertTrue(masking.contains("grid 75%") && masking.contains("84.0 / 66.0 (Table 1f)"), masking);

        Path shot = tmp.resolve("shot.png");
        ExplainReportTest.chromium(tmp, index, "--hide-scrollbars", "--screenshot=" + shot);
        assertTrue(ImageIO.read(shot.toFile()).getWidth() > 0, "screenshot rendered");
    }
}
