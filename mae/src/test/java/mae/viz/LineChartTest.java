package mae.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineChartTest {
    @TempDir Path dir;

    @Test
    void lossCurveIsWrittenAsADecodablePng() throws IOException {
        double[] x = new double[200], y = new double[200];
        for (int i = 0; i < 200; i++) { x[i] = i; y[i] = 1.0 / (1 + 0.05 * i); }
        y[50] = Double.NaN;
        Path file = dir.resolve("loss.png");
        LineChart.write(file, "MAE training loss", "step", "loss", x, y);
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(LineChart.DEFAULT_WIDTH, img.getWidth());
        assertEquals(LineChart.DEFAULT_HEIGHT, img.getHeight());
        assertTrue(colours(img) > 3, "a drawn chart, not a blank image");
        try (var s = Files.list(dir)) {
            assertEquals(List.of(file), s.toList());
        }
    }

    @Test
    void severalSeriesOnALogAxis() throws IOException {
        double[] x = {0, 1, 2, 3};
        Path file = dir.resolve("two.png");
        LineChart.write(file, "loss", "epoch", "loss", List.of(new LineChart.Series("train", x, new double[] {1, 0.5, 0.3, 0.2}),
                new LineChart.Series("eval", x, new double[] {1.1, 0.6, 0.4, 0.35})), 400, 300, true);
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(400, img.getWidth());
        assertEquals(300, img.getHeight());
    }

    @Test
    void inconsistentInputsAreErrors() {
        assertThrows(IllegalArgumentException.class, () -> LineChart.write(dir.resolve("a.png"), "t", "x", "y", new double[3], new double[2]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LineChart.write(dir.resolve("b.png"), "t", "x", "y",
                List.of(new LineChart.Series("train", new double[] {0, 1}, new double[] {1, 0})), 400, 300, true));
        assertTrue(e.getMessage().contains("series 'train': y[1] = 0.0"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve("b.png")));
    }

    private static int colours(BufferedImage img) {
        Set<Integer> seen = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) for (int x = 0; x < img.getWidth(); x += 3) seen.add(img.getRGB(x, y));
        return seen.size();
    }
}
