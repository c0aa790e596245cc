package mae.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir Path dir;

    // Expected values computed independently with python3's gzip module on the same files.
    @Test
    void readsEmbeddedFashionMnistImages() throws IOException {
        Idx.Images images = Idx.readImages(TestData.embeddedDir().resolve("t10k-images-idx3-ubyte.gz"));
        assertEquals(10_000, images.n());
        assertEquals(28, images.rows());
        assertEquals(28, images.cols());
        assertEquals(573_469_082L, byteSum(images.pixels(), 0, images.pixels().length));
        assertEquals(33_456L, byteSum(images.pixels(), 0, 784));
        assertEquals(24_390L, byteSum(images.pixels(), 9_999 * 784, 10_000 * 784));
        int[] row14 = {0, 0, 0, 0, 0, 0, 2, 4, 1, 0, 0, 0, 98, 136, 110, 109, 110, 162, 135, 144, 149, 159, 167, 144, 158, 169, 119, 0};
        for (int x = 0; x < 28; x++) assertEquals(row14[x] / 255f, images.pixels()[14 * 28 + x], "image 0 row 14 col " + x);
    }

    @Test
    void readsEmbeddedFashionMnistLabels() throws IOException {
        int[] labels = Idx.readLabels(TestData.embeddedDir().resolve("t10k-labels-idx1-ubyte.gz"));
        assertEquals(10_000, labels.length);
        assertArrayEquals(new int[] {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, Arrays.copyOf(labels, 10));
        int[] counts = new int[10];
        for (int l : labels) counts[l]++;
        int[] thousand = new int[10];
        Arrays.fill(thousand, 1000);
        assertArrayEquals(thousand, counts);
    }

    /**
     * Every read closes its file, read whole or refused: right after each of 50 rounds no descriptor of the process
     * points at the file (Linux: /proc/self/fd). Counting them right away, not after many reads, since the garbage
     * collector closes a dropped stream's file sooner or later.
     */
    @Test
    void readsCloseTheirFiles() throws IOException {
        Path fds = Path.of("/proc/self/fd");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(fds), "open files listed in /proc/self/fd");
        byte[] raw = TestData.idx(Idx.LABELS_MAGIC, new int[] {3}, new byte[] {4, 0, (byte) 200});
        Path plain = dir.resolve("labels"), gz = dir.resolve("labels.gz");
        Files.write(plain, raw);
        Files.write(gz, TestData.gzip(raw));
        for (int i = 0; i < 50; i++) {
            assertArrayEquals(new int[] {4, 0, 200}, Idx.readLabels(plain));
            assertEquals(0, openOn(fds, plain), "read " + i + " of " + plain);
            assertArrayEquals(new int[] {4, 0, 200}, Idx.readLabels(gz));
            assertEquals(0, openOn(fds, gz), "read " + i + " of " + gz);
            assertThrows(IOException.class, () -> Idx.readImages(plain));
            assertEquals(0, openOn(fds, plain), "refused read " + i + " of " + plain);
        }
    }

    /** How many of the process's file descriptors point at file. */
    private static long openOn(Path fds, Path file) throws IOException {
        Path real = file.toRealPath();
        try (java.util.stream.Stream<Path> s = Files.list(fds)) {
            return s.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (IOException | UnsupportedOperationException e) {
                    return false;                              // closed meanwhile (the listing's own descriptor)
                }
            }).count();
        }
    }

    @Test
    void gzipIsDetectedByMagicNotName() throws IOException {
        byte[] raw = TestData.idx(Idx.LABELS_MAGIC, new int[] {3}, new byte[] {4, 0, (byte) 200});
        Path rawNamedGz = dir.resolve("labels.gz"), gzNamedRaw = dir.resolve("labels-raw");
        Files.write(rawNamedGz, raw);
        Files.write(gzNamedRaw, TestData.gzip(raw));
        assertArrayEquals(new int[] {4, 0, 200}, Idx.readLabels(rawNamedGz));
        assertArrayEquals(new int[] {4, 0, 200}, Idx.readLabels(gzNamedRaw));
    }

    @Test
    void wrongMagicNamesFileAndKinds() throws IOException {
        Path f = dir.resolve("t10k-images-idx3-ubyte.gz");
        Files.write(f, TestData.gzip(TestData.idx(0x00000802, new int[] {1, 1, 1}, new byte[1])));
        assertFails(() -> Idx.readImages(f), f + ": IDX magic 0x00000802 is not ubyte images (0x00000803)");
        Path labels = dir.resolve("l");
        Files.write(labels, TestData.idx(Idx.IMAGES_MAGIC, new int[] {1, 1, 1}, new byte[1]));
        assertFails(() -> Idx.readLabels(labels), labels + ": IDX magic 0x00000803 is not ubyte labels (0x00000801)");
    }

    @Test
    void truncatedAndOversizedData() throws IOException {
        Path f = dir.resolve("imgs");
        Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[] {2, 3, 3}, new byte[17]));
        assertFails(() -> Idx.readImages(f), f + ": truncated: the header promises 2 images of 3 x 3 (34 bytes) but the data holds 33");
        Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[] {2, 3, 3}, new byte[19]));
        assertFails(() -> Idx.readImages(f), f + ": 1 unexpected bytes after 2 images of 3 x 3");
        Files.write(f, new byte[] {0, 0, 8, 3, 0, 0});
        assertFails(() -> Idx.readImages(f), f + ": 6 bytes, too short for an IDX header");
    }

    @Test
    void corruptGzipNamesFile() throws IOException {
        Path f = dir.resolve("labels.gz");
        byte[] gz = TestData.gzip(TestData.idx(Idx.LABELS_MAGIC, new int[] {100}, new byte[100]));
        Files.write(f, Arrays.copyOf(gz, gz.length - 10));
        assertFails(() -> Idx.readLabels(f), f + ": corrupt gzip data");
    }

    @Test
    void labelCountMustMatchImages() throws IOException {
        Path images = dir.resolve("i"), labels = dir.resolve("l");
        Files.write(images, TestData.idx(Idx.IMAGES_MAGIC, new int[] {3, 2, 2}, new byte[12]));
        Files.write(labels, TestData.idx(Idx.LABELS_MAGIC, new int[] {2}, new byte[2]));
        assertFails(() -> Idx.read(images, labels, List.of("a", "b"), "test"), labels + ": 2 labels but i holds 3 images");
        Files.write(labels, TestData.idx(Idx.LABELS_MAGIC, new int[] {3}, new byte[] {0, 1, 2}));
        assertFails(() -> Idx.read(images, labels, List.of("a", "b"), "test"), labels + ": label 2 of image 2 is outside the 2 classes");
        Dataset d = Idx.read(images, labels, List.of("a", "b", "c"), "test");
        assertEquals(3, d.n());
        assertEquals(1, d.c());
    }

    /** Bytes this thread allocated while running call (HotSpot's per-thread counter). */
    static long allocated(Executable call) throws Throwable {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
        try {
            call.execute();
        } catch (IOException expected) {
            // the caller checks the message separately
        }
        return mx.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
    }

    @Test
    void headerSizesThatOverflowOrExceedAnArrayAreRefusedBeforeReading() throws Throwable {
        Path f = dir.resolve("imgs");
        int max = Integer.MAX_VALUE;
        Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[] {max, max, max}, new byte[10]));   // n x rows x cols overflows a long
        assertFails(() -> Idx.readImages(f), f + ": the header promises 2147483647 images of 2147483647 x 2147483647, more than one Java array holds");
        Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[] {65536, 256, 256}, new byte[10]));  // 2^32: overflows an int
        assertFails(() -> Idx.readImages(f), f + ": the header promises 65536 images of 256 x 256, more than one Java array holds");
        Files.write(f, TestData.gzip(TestData.idx(Idx.IMAGES_MAGIC, new int[] {3, 0, 28}, new byte[0])));
        assertFails(() -> Idx.readImages(f), f + ": the header's images are 0 x 28 pixels; both sizes must be at least 1");
        // A small file that promises a large (but possible) dataset: refused from its length, without reading it.
        Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[] {100_000, 28, 28}, new byte[100]));
        assertTrue(allocated(() -> Idx.readImages(f)) < 4_000_000, "nothing allocated for the promised 78 MB");
        assertFails(() -> Idx.readImages(f), f + ": truncated: the header promises 100000 images of 28 x 28 (78400016 bytes) but the data holds 116");
        Path gz = dir.resolve("imgs.gz");
        Files.write(gz, TestData.gzip(TestData.idx(Idx.IMAGES_MAGIC, new int[] {100_000, 28, 28}, new byte[100])));
        assertTrue(allocated(() -> Idx.readImages(gz)) < 4_000_000, "a gzip stream is read as it arrives, not allocated from the header");
        assertFails(() -> Idx.readImages(gz), gz + ": truncated: the header promises 100000 images of 28 x 28 (78400016 bytes) but the data holds 116");
    }

    @Test
    void aGzipBombIsReadOnlyUpToWhatTheHeaderDeclares() throws Throwable {
        // 3 labels declared, then 64 MB of zeros: about 64 KB compressed.
        Path f = dir.resolve("bomb-labels.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(f))) {
            out.write(TestData.idx(Idx.LABELS_MAGIC, new int[] {3}, new byte[] {1, 2, 3}));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) out.write(zeros);
        }
        assertTrue(Files.size(f) < 1_000_000, "small on disk: " + Files.size(f));
        long t0 = System.nanoTime();
        assertTrue(allocated(() -> Idx.readLabels(f)) < 4_000_000, "the 64 MB are never inflated into memory");
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "and not even read to the end");
        assertFails(() -> Idx.readLabels(f), f + ": unexpected bytes after 3 labels (11 bytes); the rest is not read");
        // The same for images, and for a bomb that is all payload beyond a declared count.
        Path g = dir.resolve("bomb-images.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(g))) {
            out.write(TestData.idx(Idx.IMAGES_MAGIC, new int[] {1, 2, 2}, new byte[4]));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 32; i++) out.write(zeros);
        }
        assertTrue(allocated(() -> Idx.readImages(g)) < 4_000_000);
        assertFails(() -> Idx.readImages(g), g + ": unexpected bytes after 1 images of 2 x 2 (20 bytes)");
    }

    @Test
    void aDirectoryOrMissingFileNamesItself() throws IOException {
        Path d = dir.resolve("sub");
        Files.createDirectories(d);
        assertFails(() -> Idx.readLabels(d), d + ": is a directory, not an IDX file");
        IOException e = assertThrows(IOException.class, () -> Idx.readLabels(dir.resolve("missing")));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    private static void assertFails(Executable call, String messageStart) {
        IOException e = assertThrows(IOException.class, call);
        assertTrue(e.getMessage().startsWith(messageStart), "expected '" + messageStart + "...' but got: " + e.getMessage());
    }

    private static long byteSum(float[] pixels, int from, int to) {
        long sum = 0;
        for (int i = from; i < to; i++) sum += Math.round(pixels[i] * 255);
        return sum;
    }
}
