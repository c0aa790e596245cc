package mae.viz;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Lays out rows x cols small [c, h, w] images (values in [0, 1]) on a white background, each scaled up by an
 * integer factor (nearest neighbour, so pixels stay sharp), separated and surrounded by a border, with optional
 * column titles in a band above (a title may have several lines, split at '\n'), row labels in a band on the
 * left and a caption below, wrapped to the grid's width. Cell (r, k) has its top-left corner at
 * x = labelWidth + border + k * (w * scale + border), y = titleHeight + border + r * (h * scale + border).
 * Cells never set are drawn mid-gray. A NaN pixel is drawn as a diagonal orange-and-white hatch, so that a
 * removed patch cannot be taken for gray pixels. Where this JVM cannot draw text ({@link Fonts}), titles, labels
 * and caption are left out and their bands take no room.
 */
public final class ImageGrid {
    private static final int BACKGROUND = 0xFFFFFF, EMPTY = 0x808080;
    /** The two colours of the hatch of NaN pixels, in stripes 3 px wide at 45 degrees. */
    public static final int HATCH = 0xE8772E, HATCH_GAP = 0xFFFFFF;

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private final int rows, cols, c, h, w, scale;
    private final float[][] cells;
    private int border = 2;
    private String[] titles, rowLabels;
    private String caption;

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

    /** One label per row, drawn left of it (e.g. "block 3"); null removes them. */
    public ImageGrid rowLabels(String... labels) {
        if (labels != null && labels.length != rows) throw new IllegalArgumentException("grid: " + labels.length + " row labels for " + rows + " rows");
        this.rowLabels = labels == null ? null : labels.clone();
        return this;
    }

    /** A caption below the grid, wrapped to its width; lines may also be split at '\n'. Null removes it. */
    public ImageGrid caption(String text) {
        this.caption = text;
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

    /** Height of the title band (0 without titles): one text line per line of the longest title. */
    public int titleHeight() {
        if (titles == null || !Fonts.available()) return 0;
        int lines = 1;
        for (String t : titles) if (t != null) lines = Math.max(lines, t.split("\n", -1).length);
        return font().getSize() + 8 + (lines - 1) * (font().getSize() + 2);
    }

    /** Width of the row-label band (0 without labels). */
    public int labelWidth() {
        if (rowLabels == null || !Fonts.available()) return 0;
        FontMetrics fm = metrics(font());
        int max = 0;
        for (String l : rowLabels) if (l != null) max = Math.max(max, fm.stringWidth(l));
        return max + 8;
    }

    /** Width of the cells and borders alone. */
    private int gridWidth() { return border + cols * (w * scale + border); }

    public int width() { return labelWidth() + gridWidth(); }

    /** Height of the caption band (0 without a caption). */
    public int captionHeight() {
        List<String> lines = captionLines();
        return lines.isEmpty() ? 0 : 4 + lines.size() * (captionFont().getSize() + 3) + 4;
    }

    public int height() { return titleHeight() + border + rows * (h * scale + border) + captionHeight(); }

    /** The caption's lines, wrapped at spaces to the picture's width. */
    public List<String> captionLines() {
        List<String> out = new ArrayList<>();
        if (caption == null || caption.isBlank() || !Fonts.available()) return out;
        FontMetrics fm = metrics(captionFont());
        int max = Math.max(40, width() - 8);
        for (String para : caption.split("\n")) {
            StringBuilder line = new StringBuilder();
            for (String word : para.split(" ")) {
                String next = line.length() == 0 ? word : line + " " + word;
                if (line.length() > 0 && fm.stringWidth(next) > max) { out.add(line.toString()); line = new StringBuilder(word); }
                else line = new StringBuilder(next);
            }
            out.add(line.toString());
        }
        return out;
    }

    public BufferedImage render() {
        BufferedImage img = new BufferedImage(width(), height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(new Color(BACKGROUND));
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            if (Fonts.available()) {   // else the bands are 0 wide: the cells alone
                if (titles != null) drawTitles(g);
                if (rowLabels != null) drawRowLabels(g);
                if (caption != null) drawCaption(g);
            }
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
        int x0 = labelWidth() + border + col * (w * scale + border), y0 = titleHeight() + border + row * (h * scale + border);
        float[] px = cells[row * cols + col];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = px == null ? EMPTY : rgb(px, y, x);
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++) {
                        int X = x * scale + dx, Y = y * scale + dy;
                        img.setRGB(x0 + X, y0 + Y, rgb != NAN ? rgb : hatch(X, Y));
                    }
            }
        }
    }

    /** Marks a NaN pixel in rgb(); never a colour (colours are 24-bit). */
    private static final int NAN = -1;

    /** The hatch colour at picture pixel (X, Y) of a cell: stripes 3 px wide running from bottom left to top right. */
    public static int hatch(int X, int Y) { return ((X + Y) / 3) % 2 == 0 ? HATCH : HATCH_GAP; }

    private int rgb(float[] px, int y, int x) {
        int at = y * w + x, hw = h * w;
        if (Float.isNaN(px[at]) || c == 3 && (Float.isNaN(px[hw + at]) || Float.isNaN(px[2 * hw + at]))) return NAN;
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
            int x0 = labelWidth() + border + k * (cellW + border);
            Graphics2D clip = (Graphics2D) g.create(x0, 0, cellW, titleHeight());
            String[] lines = titles[k].split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                int x = Math.max(0, (cellW - fm.stringWidth(lines[i])) / 2);
                clip.drawString(lines[i], x, 4 + fm.getAscent() + i * (font().getSize() + 2));
            }
            clip.dispose();
        }
    }

    private void drawRowLabels(Graphics2D g) {
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(font());
        g.setColor(Color.BLACK);
        FontMetrics fm = g.getFontMetrics();
        for (int r = 0; r < rows; r++) {
            if (rowLabels[r] == null) continue;
            int y0 = titleHeight() + border + r * (h * scale + border);
            g.drawString(rowLabels[r], 4, y0 + (h * scale + fm.getAscent()) / 2);
        }
    }

    private void drawCaption(Graphics2D g) {
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(captionFont());
        g.setColor(Color.BLACK);
        FontMetrics fm = g.getFontMetrics();
        int y = titleHeight() + border + rows * (h * scale + border) + 4;
        for (String line : captionLines()) {
            g.drawString(line, 4, y + fm.getAscent());
            y += captionFont().getSize() + 3;
        }
    }

    private Font captionFont() { return new Font(Font.SANS_SERIF, Font.PLAIN, 12); }

    private static FontMetrics metrics(Font f) {
        BufferedImage one = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = one.createGraphics();
        try { return g.getFontMetrics(f); } finally { g.dispose(); }
    }

    /** A sans-serif font sized to the cells: 10 to 16 px. */
    private Font font() {
        return new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(10, Math.min(16, w * scale / 8)));
    }
}
