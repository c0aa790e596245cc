package mae.viz;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A picture to draw on: an image scaled up by an integer factor (nearest neighbour), or a blank area; then
 * rectangles, grid lines and centred text in canvas pixels. Written as PNG, atomically.
 */
public final class Canvas {
    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private final BufferedImage img;

    private Canvas(BufferedImage img) { this.img = img; }

    /** The image [c, h, w] (c = 1 or 3, values in [0, 1]) scaled up by {@code scale}. */
    public static Canvas of(float[] pixels, int c, int h, int w, int scale) {
        BufferedImage src = Png.toImage(pixels, 0, c, h, w);
        Canvas cv = blank(w * scale, h * scale, 0xFFFFFF);
        Graphics2D g = cv.img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.drawImage(src, 0, 0, w * scale, h * scale, null);
        g.dispose();
        return cv;
    }

    /** A width x height area filled with one colour (0xRRGGBB). */
    public static Canvas blank(int width, int height, int rgb) {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("canvas: size " + width + "x" + height + " must be positive");
        Canvas cv = new Canvas(new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB));
        return cv.fill(0, 0, width, height, rgb);
    }

    public int width() { return img.getWidth(); }
    public int height() { return img.getHeight(); }
    public BufferedImage image() { return img; }

    public Canvas fill(int x, int y, int w, int h, int rgb) {
        Graphics2D g = graphics(rgb);
        g.fillRect(x, y, w, h);
        g.dispose();
        return this;
    }

    /** A rectangle's outline, {@code thickness} pixels wide, drawn inside it. */
    public Canvas outline(int x, int y, int w, int h, int rgb, int thickness) {
        Graphics2D g = graphics(rgb);
        g.setStroke(new BasicStroke(thickness));
        g.drawRect(x + thickness / 2, y + thickness / 2, w - thickness, h - thickness);
        g.dispose();
        return this;
    }

    /** Lines every {@code step} pixels across the whole canvas (the patch grid). */
    public Canvas grid(int step, int rgb) {
        Graphics2D g = graphics(rgb);
        for (int x = step; x < width(); x += step) g.drawLine(x, 0, x, height() - 1);
        for (int y = step; y < height(); y += step) g.drawLine(0, y, width() - 1, y);
        g.dispose();
        return this;
    }

    /** Text centred on (cx, cy), {@code size} px high. */
    public Canvas text(String s, int cx, int cy, int size, int rgb) {
        Graphics2D g = graphics(rgb);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, size));
        FontMetrics fm = g.getFontMetrics();
        g.drawString(s, cx - fm.stringWidth(s) / 2, cy + (fm.getAscent() - fm.getDescent()) / 2);
        g.dispose();
        return this;
    }

    /** Draws another canvas at (x, y). */
    public Canvas paste(Canvas other, int x, int y) {
        Graphics2D g = img.createGraphics();
        g.drawImage(other.img, x, y, null);
        g.dispose();
        return this;
    }

    public void write(Path png) throws IOException { Png.write(png, img); }

    private Graphics2D graphics(int rgb) {
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(rgb));
        return g;
    }
}
