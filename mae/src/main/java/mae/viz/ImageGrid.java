package mae.viz;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Lays out rows x cols small [c, h, w] images (values in [0, 1]) on a white background, each scaled up by an
 * integer factor (nearest neighbour, so pixels stay sharp), separated and surrounded by a border, with optional
 * column titles in a band above. Cell (r, k) has its top-left corner at
 * x = border + k * (w * scale + border), y = titleHeight + border + r * (h * scale + border).
 * Cells never set are drawn mid-gray.
 */
public final class ImageGrid {
    private static final int BACKGROUND = 0xFFFFFF, EMPTY = 0x808080;

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private final int rows, cols, c, h, w, scale;
    private final float[][] cells;
    private int border = 2;
    private String[] titles;

    public ImageGrid(int rows, int cols, int c, int h, int w, int scale) {
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("grid: " + rows + " x " + cols + " cells must be positive");
        if (c != 1 && c != 3) throw new IllegalArgumentException("grid: channels must be 1 or 3, got " + c);
        if (h <= 0 || w <= 0 || scale <= 0) throw new IllegalArgumentException("grid: image " + h + "x" + w + " and scale " + scale + " must be positive");
        this.rows = rows;
        this.cols = cols;
        this.c = c;
        this.h = h;
        this.w = w;
        this.scale = scale;
        this.cells = new float[rows * cols][];
    }

    /** Border width in pixels (default 2). */
    public ImageGrid border(int px) {
        if (px < 0 || px > 16) throw new IllegalArgumentException("grid: border " + px + " px must be in 0..16");
        this.border = px;
        return this;
    }

    /** One title per column, drawn centred above it; null removes the titles. */
    public ImageGrid titles(String... columnTitles) {
        if (columnTitles != null && columnTitles.length != cols) {
            throw new IllegalArgumentException("grid: " + columnTitles.length + " titles for " + cols + " columns");
        }
        this.titles = columnTitles == null ? null : columnTitles.clone();
        return this;
    }

    /** Puts the image at {@code pixels[offset ..]} ([c, h, w], copied) into cell (row, col). */
    public ImageGrid set(int row, int col, float[] pixels, int offset) {
        if (row < 0 || row >= rows || col < 0 || col >= cols) throw new IndexOutOfBoundsException("grid: cell (" + row + ", " + col + ") outside " + rows + " x " + cols);
        int size = c * h * w;
        if (offset < 0 || pixels.length - offset < size) {
            throw new IllegalArgumentException("grid: cell (" + row + ", " + col + "): " + (pixels.length - offset) + " values from offset " + offset + ", needs " + size + " ([" + c + ", " + h + ", " + w + "])");
        }
        cells[row * cols + col] = Arrays.copyOfRange(pixels, offset, offset + size);
        return this;
    }

    /** Height of the title band (0 without titles). */
    public int titleHeight() { return titles == null ? 0 : font().getSize() + 8; }

    public int width() { return border + cols * (w * scale + border); }

    public int height() { return titleHeight() + border + rows * (h * scale + border); }

    public BufferedImage render() {
        BufferedImage img = new BufferedImage(width(), height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(new Color(BACKGROUND));
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            if (titles != null) drawTitles(g);
        } finally {
            g.dispose();
        }
        for (int r = 0; r < rows; r++) for (int k = 0; k < cols; k++) drawCell(img, r, k);
        return img;
    }

    /** Renders and writes the grid as PNG, atomically. */
    public void write(Path png) throws IOException {
        Png.write(png, render());
    }

    private void drawCell(BufferedImage img, int row, int col) {
        int x0 = border + col * (w * scale + border), y0 = titleHeight() + border + row * (h * scale + border);
        float[] px = cells[row * cols + col];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = px == null ? EMPTY : rgb(px, y, x);
                for (int dy = 0; dy < scale; dy++) for (int dx = 0; dx < scale; dx++) img.setRGB(x0 + x * scale + dx, y0 + y * scale + dy, rgb);
            }
        }
    }

    private int rgb(float[] px, int y, int x) {
        int at = y * w + x, hw = h * w;
        int r = Png.toByte(px[at]);
        if (c == 1) return r << 16 | r << 8 | r;
        return r << 16 | Png.toByte(px[hw + at]) << 8 | Png.toByte(px[2 * hw + at]);
    }

    private void drawTitles(Graphics2D g) {
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(font());
        g.setColor(Color.BLACK);
        FontMetrics fm = g.getFontMetrics();
        int cellW = w * scale;
        for (int k = 0; k < cols; k++) {
            if (titles[k] == null) continue;
            int x0 = border + k * (cellW + border);
            int x = x0 + Math.max(0, (cellW - fm.stringWidth(titles[k])) / 2);
            Graphics2D clip = (Graphics2D) g.create(x0, 0, cellW, titleHeight());
            clip.drawString(titles[k], x - x0, 4 + fm.getAscent());
            clip.dispose();
        }
    }

    /** A sans-serif font sized to the cells: 10 to 16 px. */
    private Font font() {
        return new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(10, Math.min(16, w * scale / 8)));
    }
}
