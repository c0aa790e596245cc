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
