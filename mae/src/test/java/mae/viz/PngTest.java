package mae.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngTest {
    @TempDir Path dir;

    @Test
    void grayPixelsRoundTripWithClamping() throws IOException {
        float[] px = new float[3 * 5]; // [1, 3, 5]
        px[1 * 5 + 2] = 0.5f;
        px[0] = -1f;
        px[4] = 2f;
        px[5] = Float.NaN;
        Path file = dir.resolve("g.png");
        Png.write(file, px, 1, 3, 5);
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(5, img.getWidth());
        assertEquals(3, img.getHeight());
        assertEquals(128, img.getRaster().getSample(2, 1, 0));
        assertEquals(0, img.getRaster().getSample(0, 0, 0));
        assertEquals(255, img.getRaster().getSample(4, 0, 0));
        assertEquals(0, img.getRaster().getSample(0, 1, 0));
        assertEquals(List.of(file), list());
    }

    @Test
    void rgbPlanesLandInTheRightChannels() throws IOException {
        float[] px = new float[3 * 2 * 2]; // [3, 2, 2]
        px[0 * 4 + 1] = 1f;      // R at (y0, x1)
        px[1 * 4 + 2] = 1f;      // G at (y1, x0)
        px[2 * 4 + 3] = 0.2f;    // B at (y1, x1)
        Path file = dir.resolve("c.png");
        Png.write(file, px, 3, 2, 2);
        Png.write(file, px, 3, 2, 2); // overwriting is fine
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(0xFF0000, img.getRGB(1, 0) & 0xFFFFFF);
        assertEquals(0x00FF00, img.getRGB(0, 1) & 0xFFFFFF);
        assertEquals(0x000033, img.getRGB(1, 1) & 0xFFFFFF);
        assertEquals(0x000000, img.getRGB(0, 0) & 0xFFFFFF);
        assertEquals(List.of(file), list());
    }

    @Test
    void wrongLengthOrChannelsAreErrors() {
        Path file = dir.resolve("x.png");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Png.write(file, new float[5], 1, 2, 3));
        assertTrue(e.getMessage().startsWith(file + ": 5 values"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Png.write(file, new float[8], 2, 2, 2));
        assertTrue(!Files.exists(file));
    }

    private List<Path> list() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
