package mae.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
    @TempDir Path root;

    @Test
    void loadsSortedClassesConvertingChannelsAndSize() throws IOException {
        TestData.writeRgbImage(root.resolve("dog/b.png"), "png", 5, 7, 0x0A141E); // (10, 20, 30)
        TestData.writeGrayPng(root.resolve("cat/a.png"), 8, 6, 100);
        TestData.writeRgbImage(root.resolve("cat/sub/c.PNG"), "png", 3, 3, 0xFF0000);
        Files.writeString(root.resolve("cat/notes.txt"), "not an image");
        TestData.writeGrayPng(root.resolve(".hidden/x.png"), 2, 2, 0);

        Dataset d = ImageFolder.load(root, 3, 4, 4);

        assertEquals(List.of("cat", "dog"), d.classes());
        assertEquals(3, d.n());
        assertArrayEquals(new int[] {0, 0, 1}, d.labels());
        assertConstant(d.image(0), 0, 48, 100 / 255f);          // gray replicated to R, G and B, no gamma change
        assertConstant(d.image(1), 0, 16, 1f);                  // red
        assertConstant(d.image(1), 16, 32, 0f);
        assertConstant(d.image(2), 0, 16, 10 / 255f);
        assertConstant(d.image(2), 16, 32, 20 / 255f);
        assertConstant(d.image(2), 32, 48, 30 / 255f);
    }

    @Test
    void rgbToGrayUsesLumaAndJpegDecodes() throws IOException {
        TestData.writeRgbImage(root.resolve("a/red.png"), "png", 4, 4, 0xFF0000);
        TestData.writeRgbImage(root.resolve("b/gray.jpg"), "jpg", 8, 8, 0x808080);
        Dataset d = ImageFolder.load(root, 1, 4, 4);
        assertConstant(d.image(0), 0, 16, 0.299f);
        for (float v : d.image(1)) assertEquals(128 / 255f, v, 3 / 255f, "JPEG is lossy, but a flat gray survives");
    }

    @Test
    void bilinearUpscaleMatchesHalfPixelCentres() {
        // a 1 x 2 row [a, b] to 1 x 4: [a, .75a + .25b, .25a + .75b, b] (PyTorch align_corners=False)
        float[] out = new float[4];
        Resample.resize(new float[] {0.2f, 1.0f}, 0, 1, 1, 2, out, 0, 1, 4);
        assertArrayEquals(new float[] {0.2f, 0.4f, 0.8f, 1.0f}, out, 1e-6f);
    }

    @Test
    void downscaleAveragesLikeAntialiasedBilinear() {
        // [0, 0, 1, 1] to 2: output 0 is centred at 1.0 with triangle half-width 2: weights .75, .75, .25 -> 1/7
        float[] out = new float[2];
        Resample.resize(new float[] {0, 0, 1, 1}, 0, 1, 1, 4, out, 0, 1, 2);
        assertArrayEquals(new float[] {1 / 7f, 6 / 7f}, out, 1e-6f);
    }

    @Test
    void errorsNameThePath() throws IOException {
        IOException e = assertThrows(IOException.class, () -> ImageFolder.load(root, 1, 4, 4));
        assertTrue(e.getMessage().startsWith(root + ": no class folders"), e.getMessage());

        Files.createDirectories(root.resolve("empty"));
        e = assertThrows(IOException.class, () -> ImageFolder.load(root, 1, 4, 4));
        assertTrue(e.getMessage().startsWith(root.resolve("empty") + ": class folder holds no"), e.getMessage());

        Path broken = root.resolve("empty/broken.png");
        Files.write(broken, new byte[] {1, 2, 3, 4});
        e = assertThrows(IOException.class, () -> ImageFolder.load(root, 1, 4, 4));
        assertTrue(e.getMessage().startsWith(broken + ": "), e.getMessage());

        Path missing = root.resolve("nope");
        e = assertThrows(IOException.class, () -> ImageFolder.load(missing, 1, 4, 4));
        assertTrue(e.getMessage().startsWith(missing + ": not a directory"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.load(root, 2, 4, 4));
    }

    private static void assertConstant(float[] values, int from, int to, float expected) {
        for (int i = from; i < to; i++) assertEquals(expected, values[i], 1e-6f, "value " + i);
    }

    /** A real 2 x 2 PNG whose IHDR (with a fixed CRC) declares width x height instead. */
    static byte[] pngDeclaring(Path dir, int width, int height) throws IOException {
        Path small = dir.resolve("small.png");
        TestData.writeGrayPng(small, 2, 2, 7);
        byte[] b = Files.readAllBytes(small);
        java.nio.ByteBuffer.wrap(b, 16, 8).putInt(width).putInt(height);      // IHDR data starts at byte 16
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b, 12, 17);                                                  // "IHDR" + 13 data bytes
        java.nio.ByteBuffer.wrap(b, 29, 4).putInt((int) crc.getValue());
        return b;
    }

    @Test
    void anImageDeclaringHugeSizesIsRefusedBeforeItsPixelsAreAllocated() throws Throwable {
        for (int[] wh : new int[][] {{100_000, 100_000}, {9000, 8000}, {70_000, 1000}}) {
            Path f = root.resolve("bomb-" + wh[0] + "x" + wh[1] + ".png");
            Files.write(f, pngDeclaring(root, wh[0], wh[1]));
            var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long before = mx.getThreadAllocatedBytes(Thread.currentThread().getId()), t0 = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> ImageFolder.decode(f, 1, 28, 28));
            assertTrue(mx.getThreadAllocatedBytes(Thread.currentThread().getId()) - before < 20_000_000, "no pixels allocated");
            assertTrue(System.nanoTime() - t0 < 2_000_000_000L);
            assertEquals(f + ": the image declares " + wh[0] + " x " + wh[1] + " pixels; at most 67108864 pixels (8192 x 8192) are read", e.getMessage());
        }
        Path ok = root.resolve("ok.png");
        Files.write(ok, pngDeclaring(root, 2, 2));
        assertEquals(28 * 28, ImageFolder.decode(ok, 1, 28, 28).length, "the patched header is valid PNG");
        Path dir = Files.createDirectories(root.resolve("folder.png"));
        assertEquals(dir + ": is a directory, not an image file", assertThrows(IOException.class, () -> ImageFolder.decode(dir, 1, 28, 28)).getMessage());
    }
}
