package mae.data;

import java.io.BufferedInputStream;
import java.io.InputStream;
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
        try (Source in = Source.open(file)) {
            int[] dims = in.header(IMAGES_MAGIC, "ubyte images", 3);
            int n = dims[0], rows = dims[1], cols = dims[2];
            if (rows < 1 || cols < 1) throw new IOException(file + ": the header's images are " + rows + " x " + cols + " pixels; both sizes must be at least 1");
            byte[] raw = in.payload(n + " images of " + rows + " x " + cols, n, rows, cols);
            float[] pixels = new float[raw.length];
            for (int i = 0; i < pixels.length; i++) pixels[i] = (raw[i] & 0xFF) / 255f;
            return new Images(n, rows, cols, pixels);
        }
    }

    public static int[] readLabels(Path file) throws IOException {
        try (Source in = Source.open(file)) {
            int n = in.header(LABELS_MAGIC, "ubyte labels", 1)[0];
            byte[] raw = in.payload(n + " labels", n);
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = raw[i] & 0xFF;
            return labels;
        }
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

    /**
     * An IDX file as a stream of its (gunzipped) bytes. Nothing is read beyond what the header declares: the
     * declared size is checked for overflow, against one Java array and against the heap before the data is read,
     * a raw file's length is compared with it before reading, and a gzip stream is read up to the declared size
     * plus one byte (more is refused), so a small file that decompresses to gigabytes costs nothing.
     */
    private static final class Source implements AutoCloseable {
        /** The largest payload: one Java array. */
        static final long MAX_PAYLOAD = Integer.MAX_VALUE - 8;
        final Path file;
        final InputStream in;
        final boolean gzip;
        final long fileSize;
        long headerBytes;

        private Source(Path file, InputStream in, boolean gzip, long fileSize) { this.file = file; this.in = in; this.gzip = gzip; this.fileSize = fileSize; }

        static Source open(Path file) throws IOException {
            if (Files.isDirectory(file)) throw new IOException(file + ": is a directory, not an IDX file");
            long size = Files.size(file);
            BufferedInputStream b = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
            try {
                b.mark(2);
                int m0 = b.read(), m1 = b.read();
                b.reset();
                boolean gz = m0 == 0x1f && m1 == 0x8b;
                return new Source(file, gz ? new GZIPInputStream(b, 1 << 16) : b, gz, size);
            } catch (IOException e) {
                b.close();
                throw new IOException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
            }
        }

        /** Reads up to n bytes; gzip errors name the file. */
        byte[] read(int n) throws IOException {
            try {
                return in.readNBytes(n);                       // grows with what arrives, not with n
            } catch (IOException e) {
                throw gzip ? new IOException(file + ": corrupt gzip data (" + e.getMessage() + ")", e) : e;
            }
        }

        /** Checks the magic and returns the {@code dims} sizes that follow it. */
        int[] header(int magic, String kind, int dims) throws IOException {
            int want = 4 + 4 * dims;
            byte[] h = read(want);
            if (h.length < want) throw new IOException(file + ": " + (gzip ? h.length : fileSize) + " bytes, too short for an IDX header of " + kind + " (" + want + " bytes)");
            headerBytes = want;
            ByteBuffer b = ByteBuffer.wrap(h); // big-endian
            int got = b.getInt();
            if (got != magic) throw new IOException(file + ": IDX magic " + hex(got) + " is not " + kind + " (" + hex(magic) + ")");
            int[] sizes = new int[dims];
            for (int d = 0; d < dims; d++) {
                sizes[d] = b.getInt();
                if (sizes[d] < 0) throw new IOException(file + ": IDX dimension " + d + " is " + Integer.toUnsignedString(sizes[d]) + ", too large");
            }
            return sizes;
        }

        /** The data the header declares (the product of sizes), and not a byte more. */
        byte[] payload(String what, int... sizes) throws IOException {
            long count = 1;
            for (int s : sizes) {
                if (s != 0 && count > MAX_PAYLOAD / s)
                    throw new IOException(file + ": the header promises " + what + ", more than one Java array holds (" + MAX_PAYLOAD + " values)");
                count *= s;
            }
            long expected = headerBytes + count;
            long need = 5 * count, heap = Runtime.getRuntime().maxMemory();   // the bytes, then a float each
            if (need > heap / 2)
                throw new IOException(file + ": the header promises " + what + ", which need " + String.format(java.util.Locale.ROOT, "%.1f", need / 1e9)
                        + " GB in memory, more than half of the Java heap (" + String.format(java.util.Locale.ROOT, "%.1f", heap / 1e9) + " GB)");
            if (!gzip) {                                      // the length is known: no reading to find out
                if (fileSize < expected) throw new IOException(file + ": truncated: the header promises " + what + " (" + expected + " bytes) but the data holds " + fileSize);
                if (fileSize > expected) throw new IOException(file + ": " + (fileSize - expected) + " unexpected bytes after " + what + " (" + expected + " bytes)");
            }
            byte[] data = read((int) count);
            if (data.length < count) throw new IOException(file + ": truncated: the header promises " + what + " (" + expected + " bytes) but the data holds " + (headerBytes + data.length));
            if (gzip && read(1).length > 0) throw new IOException(file + ": unexpected bytes after " + what + " (" + expected + " bytes); the rest is not read");
            return data;
        }

        @Override public void close() throws IOException { in.close(); }
    }

    private static String hex(int v) { return String.format("0x%08x", v); }
}
