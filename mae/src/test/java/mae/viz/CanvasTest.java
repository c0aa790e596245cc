package mae.viz;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class CanvasTest {
    @Test void colormap_runs_from_dark_purple_to_yellow_and_clamps() {
        assertEquals(0x440154, Colormap.rgb(0));
        assertEquals(0xFDE725, Colormap.rgb(1));
        assertEquals(Colormap.rgb(0), Colormap.rgb(-3));
        assertEquals(Colormap.rgb(0), Colormap.rgb(Double.NaN));
        assertEquals(Colormap.rgb(1), Colormap.rgb(7));
        double last = -1;
        for (int i = 0; i <= 20; i++) {
            int c = Colormap.rgb(i / 20.0);
            double luma = 0.299 * (c >> 16 & 0xFF) + 0.587 * (c >> 8 & 0xFF) + 0.114 * (c & 0xFF);
            assertTrue(luma > last, "brighter as t grows");
            last = luma;
        }
        assertEquals(0xFFFFFF, Colormap.textOn(Colormap.rgb(0)));
        assertEquals(0x000000, Colormap.textOn(Colormap.rgb(1)));
    }

    @Test void an_image_scales_up_sharply_and_takes_grid_lines_fills_and_outlines(@TempDir Path tmp) throws Exception {
        float[] px = {0, 1, 1, 0};                                   // 2x2 gray checkerboard
        Canvas cv = Canvas.of(px, 1, 2, 2, 4);
        assertEquals(8, cv.width());
        assertEquals(0x000000, cv.image().getRGB(3, 3) & 0xFFFFFF);
        assertEquals(0xFFFFFF, cv.image().getRGB(4, 3) & 0xFFFFFF);
        cv.grid(4, 0xFF0000).fill(0, 0, 2, 2, 0x00FF00).outline(4, 4, 4, 4, 0x0000FF, 1);
        assertEquals(0xFF0000, cv.image().getRGB(4, 1) & 0xFFFFFF);
        assertEquals(0x00FF00, cv.image().getRGB(1, 1) & 0xFFFFFF);
        assertEquals(0x0000FF, cv.image().getRGB(7, 7) & 0xFFFFFF);
        Path png = tmp.resolve("c.png");
        cv.text("7", 4, 4, 6, 0x000000).write(png);
        BufferedImage back = ImageIO.read(png.toFile());
        assertEquals(8, back.getWidth());
        assertThrows(IllegalArgumentException.class, () -> Canvas.blank(0, 3, 0));
    }
}
