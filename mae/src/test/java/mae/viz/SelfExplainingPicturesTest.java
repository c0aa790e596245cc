package mae.viz;

import mae.data.Normalization;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.model.MaskNoise;
import mae.model.Reconstruction;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.jfree.chart.JFreeChart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Pictures that explain themselves: removed patches are hatched (never gray), grids carry a caption with the
 * step, mask ratio and loss, rows can be labelled, the reconstruction's titles say which patches are untrained,
 * and the loss chart shows the smoothed loss and the learning rate beside the raw loss.
 */
class SelfExplainingPicturesTest {
    @TempDir Path dir;

    static int rgb(BufferedImage img, int x, int y) { return img.getRGB(x, y) & 0xFFFFFF; }

    @Test void nan_pixels_are_hatched_not_gray() throws Exception {
        float[] img = new float[16];
        Arrays.fill(img, 0.5f);
        img[5] = Float.NaN;                                                // pixel (1, 1) of a 4 x 4 gray image
        BufferedImage out = new ImageGrid(1, 1, 1, 4, 4, 8).border(0).set(0, 0, img, 0).render();
        Set<Integer> inNan = new HashSet<>(), elsewhere = new HashSet<>();
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++) (x / 8 == 1 && y / 8 == 1 ? inNan : elsewhere).add(rgb(out, x, y));
        assertEquals(Set.of(ImageGrid.HATCH, ImageGrid.HATCH_GAP), inNan, "both hatch colours, nothing else");
        assertEquals(Set.of(0x808080), elsewhere, "the gray pixels stay gray");
    }

    @Test void caption_and_row_labels_get_bands_of_their_own() throws Exception {
        ImageGrid plain = new ImageGrid(2, 2, 1, 4, 4, 10).border(2);
        ImageGrid g = new ImageGrid(2, 2, 1, 4, 4, 10).border(2).rowLabels("block 0", "block 1")
                .caption("a caption long enough that it has to wrap onto a second line at this narrow width of the grid");
        assertTrue(g.labelWidth() > 20, "label band " + g.labelWidth());
        assertEquals(plain.width() + g.labelWidth(), g.width());
        assertTrue(g.captionLines().size() >= 2, "wrapped: " + g.captionLines());
        assertEquals(plain.height() + g.captionHeight(), g.height());
        BufferedImage out = g.render();
        assertEquals(0x808080, rgb(out, g.labelWidth() + 2, 2), "the first cell starts right of the labels");
        assertTrue(dark(out, 0, 0, g.labelWidth(), plain.height()) > 20, "labels drawn");
        assertTrue(dark(out, 0, plain.height(), out.getWidth(), out.getHeight()) > 40, "caption drawn");
        for (String line : g.captionLines()) assertTrue(out.getWidth() >= 40, line);
    }

    @Test void multi_line_titles_make_the_band_taller() {
        ImageGrid one = new ImageGrid(1, 2, 1, 28, 28, 4).titles("a", "b"), three = new ImageGrid(1, 2, 1, 28, 28, 4).titles("a", "b\nc\nd");
        assertTrue(three.titleHeight() > one.titleHeight() + 20, one.titleHeight() + " -> " + three.titleHeight());
    }

    static int dark(BufferedImage img, int x0, int y0, int x1, int y1) {
        int n = 0;
        for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) if ((rgb(img, x, y) & 0xFF) < 100) n++;
        return n;
    }

    @Test void a_reconstruction_grid_says_what_it_shows() throws Exception {
        MaeConfig cfg = MaeConfig.named("tiny");                                          // 28 px, patches of 7: 16 patches
        MaeModel m = new MaeModel(cfg, 0);
        Tensor imgs = Tensor.randn(new Rng(1), 2, 1, 28, 28), noise = MaskNoise.RANDOM.noise(new Rng(2), 2, cfg.grid(), 0.75);
        Normalization norm = new Normalization(new float[]{0.5f}, new float[]{0.5f});
        Reconstruction.Pictures p = Reconstruction.of(m, imgs, noise, 0.75, norm);
        float[] masked = p.masked().toArray();
        int nan = 0;
        for (float v : masked) if (Float.isNaN(v)) nan++;
        assertEquals(2 * 12 * 49, nan, "the 12 removed patches of each image are NaN in the masked column");

        String caption = Reconstruction.caption("tiny after step 8 of 8 (batch 16)", 0.75, "random", p.loss(), true);
        assertTrue(caption.contains("step 8") && caption.contains("mask ratio 0.75") && caption.contains(String.format(java.util.Locale.ROOT, "loss %.4f", p.loss())), caption);
        assertTrue(String.join(" ", Reconstruction.TITLES).contains("untrained"), "the reconstruction column says its visible patches are untrained");
        assertTrue(String.join(" ", Reconstruction.TITLES).contains("pasted back"));

        Path png = dir.resolve("r.png");
        Reconstruction.write(png, p, caption);
        BufferedImage out = ImageIO.read(png.toFile());
        ImageGrid same = new ImageGrid(2, 4, 1, 28, 28, 4).border(2).titles(Reconstruction.TITLES);
        assertTrue(out.getHeight() > same.height() + 20, "a caption band below the grid");
        assertTrue(dark(out, 0, same.height(), out.getWidth(), out.getHeight()) > 100, "caption text drawn");
        int hatched = 0;
        for (int y = same.titleHeight(); y < same.height(); y++)
            for (int x = 2 + 114; x < 2 + 2 * 114; x++) if (rgb(out, x, y) == ImageGrid.HATCH) hatched++;
        assertTrue(hatched > 2 * 12 * 28 * 28 / 3, "removed patches hatched in the masked column: " + hatched);
    }

    @Test void the_loss_chart_shows_raw_and_smoothed_loss_and_the_learning_rate() throws Exception {
        int n = 500;
        double[] x = new double[n], loss = new double[n], lr = new double[n];
        Rng r = new Rng(3);
        for (int i = 0; i < n; i++) { x[i] = i + 1; loss[i] = 1.0 / (1 + i / 50.0) + 0.1 * r.nextGaussian(); lr[i] = 1e-3 * Math.min(1, i / 25.0); }
        JFreeChart c = LineChart.renderTraining("t", x, loss, lr);
        assertEquals(2, c.getXYPlot().getRangeAxisCount(), "loss on the left, learning rate on the right");
        assertEquals("learning rate", c.getXYPlot().getRangeAxis(1).getLabel());
        List<String> legend = new java.util.ArrayList<>();
        for (int i = 0; i < c.getXYPlot().getLegendItems().getItemCount(); i++) legend.add(c.getXYPlot().getLegendItems().get(i).getLabel());
        assertEquals(3, legend.size(), legend.toString());
        assertTrue(legend.get(1).contains("smoothed") && legend.get(2).contains("learning rate"), legend.toString());
        LineChart.training(dir.resolve("loss.png"), "t", x, loss, lr);

        double[] flat = new double[50];
        Arrays.fill(flat, 0.7);
        for (double v : LineChart.smooth(flat, 20)) assertEquals(0.7, v, 1e-12, "bias-corrected: a constant stays constant from the first step");
        double[] noisy = LineChart.smooth(loss, LineChart.smoothingSpan(n));
        assertTrue(spread(noisy, 300, 500) < spread(loss, 300, 500) / 3, "smoothing removes most of the noise");
    }

    static double spread(double[] y, int from, int to) {
        double s = 0;
        for (int i = from + 1; i < to; i++) s += Math.abs(y[i] - y[i - 1]);
        return s / (to - from - 1);
    }
}
