package mae.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageGridTest {
    @TempDir Path dir;

    @Test
    void cellPixelsLandAtTheDocumentedPlace() throws IOException {
        // 2 x 3 cells of 4 x 4 gray images, scale 3, border 2: cell (1, 2) starts at x = 2 + 2 * 14 = 30, y = 2 + 14 = 16
        float[] img = new float[16];
        java.util.Arrays.fill(img, 0.6f);
        img[0] = 0.2f;
        Path file = dir.resolve("grid.png");
        new ImageGrid(2, 3, 1, 4, 4, 3).border(2).set(1, 2, img, 0).write(file);

        BufferedImage out = ImageIO.read(file.toFile());
        assertEquals(44, out.getWidth());
        assertEquals(30, out.getHeight());
        int dark = 0x333333, light = 0x999999, white = 0xFFFFFF, empty = 0x808080;
        assertEquals(dark, rgb(out, 30, 16));
        assertEquals(dark, rgb(out, 32, 18));
        assertEquals(light, rgb(out, 33, 16));
        assertEquals(light, rgb(out, 41, 27));
        assertEquals(white, rgb(out, 29, 16));
        assertEquals(white, rgb(out, 30, 15));
        assertEquals(white, rgb(out, 42, 28));
        assertEquals(empty, rgb(out, 2, 2), "unset cell");
    }

    @Test
    void rgbCellsAndTitlesShiftTheCellsDown() throws IOException {
        float[] red = new float[3 * 28 * 28];
        java.util.Arrays.fill(red, 0, 28 * 28, 1f);
        ImageGrid grid = new ImageGrid(1, 2, 3, 28, 28, 4).border(1).titles("original", "reconstruction").set(0, 1, red, 0);
        int th = grid.titleHeight();
        assertTrue(th >= 10, "title band " + th);
        Path file = dir.resolve("titled.png");
        grid.write(file);

        BufferedImage out = ImageIO.read(file.toFile());
        assertEquals(1 + 2 * (112 + 1), out.getWidth());
        assertEquals(th + 1 + 112 + 1, out.getHeight());
        assertEquals(0xFF0000, rgb(out, 1 + 113, th + 1));
        assertEquals(0xFFFFFF, rgb(out, 1 + 113, th), "border above the cell");
        int darkInTitles = 0;
        for (int y = 0; y < th; y++) for (int x = 0; x < out.getWidth(); x++) if ((rgb(out, x, y) & 0xFF) < 128) darkInTitles++;
        assertTrue(darkInTitles > 20, "title text drawn: " + darkInTitles + " dark pixels");
    }

    @Test
    void badArgumentsAreErrors() {
        ImageGrid grid = new ImageGrid(1, 2, 1, 2, 2, 1);
        assertThrows(IllegalArgumentException.class, () -> grid.titles("only one"));
        assertThrows(IndexOutOfBoundsException.class, () -> grid.set(1, 0, new float[4], 0));
        assertThrows(IllegalArgumentException.class, () -> grid.set(0, 0, new float[4], 1));
        assertThrows(IllegalArgumentException.class, () -> new ImageGrid(1, 1, 2, 2, 2, 1));
    }

    private static int rgb(BufferedImage img, int x, int y) { return img.getRGB(x, y) & 0xFFFFFF; }
}
