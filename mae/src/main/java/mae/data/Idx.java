package mae.data;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files (the MNIST / Fashion-MNIST format): a big-endian magic 0x000008DD (unsigned bytes, DD
 * dimensions), DD big-endian u32 sizes, then the bytes. Gzip is detected by its 0x1f8b magic, not by the name.
 * Every error is an IOException whose message starts with the file.
 */
public final class Idx {
    public static final int IMAGES_MAGIC = 0x00000803;
    public static final int LABELS_MAGIC = 0x00000801;

    private Idx() {}

    /** Images [n, rows, cols] scaled from bytes to [0, 1]. */
    public record Images(int n, int rows, int cols, float[] pixels) {}

    public static Images readImages(Path file) throws IOException {
        byte[] raw = content(file);
        int[] dims = header(file, raw, IMAGES_MAGIC, "ubyte images", 3);
        int n = dims[0], rows = dims[1], cols = dims[2];
        long expected = 16 + (long) n * rows * cols;
        checkSize(file, raw, expected, n + " images of " + rows + " x " + cols);
        float[] pixels = new float[(int) (expected - 16)];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (raw[16 + i] & 0xFF) / 255f;
        return new Images(n, rows, cols, pixels);
    }

    public static int[] readLabels(Path file) throws IOException {
        byte[] raw = content(file);
        int n = header(file, raw, LABELS_MAGIC, "ubyte labels", 1)[0];
        checkSize(file, raw, 8 + (long) n, n + " labels");
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = raw[8 + i] & 0xFF;
        return labels;
    }

    /** An images file and its labels file as one dataset [n, 1, rows, cols]; labels must index {@code classes}. */
    public static Dataset read(Path imagesFile, Path labelsFile, List<String> classes, String source) throws IOException {
        Images images = readImages(imagesFile);
        int[] labels = readLabels(labelsFile);
        if (labels.length != images.n()) {
            throw new IOException(labelsFile + ": " + labels.length + " labels but " + imagesFile.getFileName() + " holds " + images.n() + " images");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= classes.size()) throw new IOException(labelsFile + ": label " + labels[i] + " of image " + i + " is outside the " + classes.size() + " classes");
        }
        return new Dataset(images.pixels(), labels, images.n(), 1, images.rows(), images.cols(), classes, source);
    }

    /** The file's bytes, gunzipped when it starts with the gzip magic. */
    static byte[] content(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length < 2 || (bytes[0] & 0xFF) != 0x1f || (bytes[1] & 0xFF) != 0x8b) return bytes;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes), 1 << 16)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IOException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
        }
    }

    /** Checks the magic and returns the {@code dims} sizes that follow it. */
    private static int[] header(Path file, byte[] raw, int magic, String kind, int dims) throws IOException {
        if (raw.length < 4 + 4 * dims) {
            throw new IOException(file + ": " + raw.length + " bytes, too short for an IDX header of " + kind + " (" + (4 + 4 * dims) + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(raw); // big-endian
        int got = b.getInt();
        if (got != magic) throw new IOException(file + ": IDX magic " + hex(got) + " is not " + kind + " (" + hex(magic) + ")");
        int[] sizes = new int[dims];
        for (int d = 0; d < dims; d++) {
            sizes[d] = b.getInt();
            if (sizes[d] < 0) throw new IOException(file + ": IDX dimension " + d + " is " + Integer.toUnsignedString(sizes[d]) + ", too large");
        }
        return sizes;
    }

    private static void checkSize(Path file, byte[] raw, long expected, String what) throws IOException {
        if (raw.length < expected) {
            throw new IOException(file + ": truncated: the header promises " + what + " (" + expected + " bytes) but the data holds " + raw.length);
        }
        if (raw.length > expected) {
            throw new IOException(file + ": " + (raw.length - expected) + " unexpected bytes after " + what + " (" + expected + " bytes)");
        }
    }

    private static String hex(int v) { return String.format("0x%08x", v); }
}
