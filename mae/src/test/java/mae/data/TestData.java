package mae.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/** Helpers that build test inputs by hand. */
final class TestData {
    private TestData() {}

    /** The repository's data/fashion-mnist, found from the working directory upwards. */
    static Path embeddedDir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path d = p.resolve("data/fashion-mnist");
            if (Files.isDirectory(d)) return d;
        }
        throw new IllegalStateException("data/fashion-mnist not found above " + Path.of("").toAbsolutePath());
    }

    /** IDX bytes: big-endian magic, dims, then data. */
    static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) b.putInt(d);
        return b.put(data).array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }

    /** n images of rows x cols where image i is filled with byte i * 10, and labels i % classes. */
    static void writeIdxSplit(Path dir, String split, int n, int rows, int cols, int classes, boolean gz) throws IOException {
        byte[] pixels = new byte[n * rows * cols];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < rows * cols; p++) pixels[i * rows * cols + p] = (byte) (i * 10);
            labels[i] = (byte) (i % classes);
        }
        byte[] img = idx(Idx.IMAGES_MAGIC, new int[] {n, rows, cols}, pixels), lab = idx(Idx.LABELS_MAGIC, new int[] {n}, labels);
        String ext = gz ? ".gz" : "";
        Files.createDirectories(dir);
        Files.write(dir.resolve(split + "-images-idx3-ubyte" + ext), gz ? gzip(img) : img);
        Files.write(dir.resolve(split + "-labels-idx1-ubyte" + ext), gz ? gzip(lab) : lab);
    }

    static void writeGrayPng(Path file, int h, int w, int value) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.getRaster().setSample(x, y, 0, value);
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "png", file.toFile());
    }

    static void writeRgbImage(Path file, String format, int h, int w, int rgb) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rgb);
        Files.createDirectories(file.getParent());
        ImageIO.write(img, format, file.toFile());
    }
}
