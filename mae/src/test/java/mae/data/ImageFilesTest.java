package mae.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

import static org.junit.jupiter.api.Assertions.*;

/** Image files at the edges: declared sizes, channel counts, hidden and stray entries, luma weights, the folder size guard. */
class ImageFilesTest {
    @TempDir Path tmp;

    /** A 1-bit gray PNG of w x h black pixels, written byte by byte (its header says the size; the data matches it). */
    static byte[] png(int w, int h) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[]{(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(ihdr);
        d.writeInt(w); d.writeInt(h); d.writeByte(1); d.writeByte(0); d.writeByte(0); d.writeByte(0); d.writeByte(0);
        chunk(out, "IHDR", ihdr.toByteArray());
        byte[] raw = new byte[(int) ((long) h * (1 + (w + 7) / 8))];
        Deflater z = new Deflater();
        z.setInput(raw);
        z.finish();
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        while (!z.finished()) idat.write(buf, 0, z.deflate(buf));
        chunk(out, "IDAT", idat.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        d.writeInt(data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        d.write(t);
        d.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        d.writeInt((int) crc.getValue());
    }

    @Test void the_declared_pixel_count_is_checked_before_decoding() throws IOException {
        Path ok = tmp.resolve("ok.png"), big = tmp.resolve("big.png"), wide = tmp.resolve("wide.png");
        Files.write(ok, png(8192, 8192));                             // exactly the most: 2^26 pixels
        Files.write(big, png(8192, 8193));
        Files.write(wide, png(67108865, 1));
        assertEquals(8192, ImageFolder.read(ok).getWidth());
        assertEquals(big + ": the image declares 8192 x 8193 pixels; at most 67108864 pixels (8192 x 8192) are read",
                assertThrows(IOException.class, () -> ImageFolder.read(big)).getMessage());
        assertTrue(assertThrows(IOException.class, () -> ImageFolder.read(wide)).getMessage().startsWith(wide + ": the image declares 67108865 x 1 pixels"));
        Path one = tmp.resolve("one.png");
        Files.write(one, png(1, 1));
        assertEquals(1, ImageFolder.read(one).getWidth(), "a 1 x 1 image is read");
        Path junk = tmp.resolve("junk.png");
        Files.write(junk, "not an image at all".getBytes(StandardCharsets.US_ASCII));
        assertEquals(junk + ": not a decodable PNG or JPEG image", assertThrows(IOException.class, () -> ImageFolder.read(junk)).getMessage());
        assertEquals(tmp + ": is a directory, not an image file", assertThrows(IOException.class, () -> ImageFolder.read(tmp)).getMessage());
    }

    @Test void channels_other_than_1_or_3_and_sizes_below_1_are_refused() throws IOException {
        Path dir = tmp.resolve("d");
        TestData.writeGrayPng(dir.resolve("a/1.png"), 3, 3, 100);
        assertEquals(dir.resolve("a/1.png") + ": channels must be 1 or 3, got 2",
                assertThrows(IllegalArgumentException.class, () -> ImageFolder.read(dir.resolve("a/1.png"), 2)).getMessage());
        assertEquals(dir + ": channels must be 1 or 3, got 4",
                assertThrows(IllegalArgumentException.class, () -> ImageFolder.load(dir, 4, 3, 3)).getMessage());
        assertEquals(dir + ": image size 0x3 must be positive", assertThrows(IllegalArgumentException.class, () -> ImageFolder.load(dir, 1, 0, 3)).getMessage());
        assertEquals(dir + ": image size 3x0 must be positive", assertThrows(IllegalArgumentException.class, () -> ImageFolder.load(dir, 1, 3, 0)).getMessage());
        Dataset one = ImageFolder.load(dir, 1, 1, 1);
        assertEquals(100 / 255f, one.image(0)[0], 1e-6f, "a flat picture resized to 1 x 1");
    }

    @Test void hidden_folders_and_stray_files_are_not_classes() throws IOException {
        Path dir = tmp.resolve("d");
        TestData.writeGrayPng(dir.resolve("a/1.png"), 2, 2, 10);
        TestData.writeGrayPng(dir.resolve("b/1.png"), 2, 2, 20);
        Files.createDirectories(dir.resolve(".cache"));
        Files.writeString(dir.resolve("README.txt"), "notes");
        TestData.writeGrayPng(dir.resolve("top.png"), 2, 2, 30);
        Dataset d = ImageFolder.load(dir, 1, 2, 2);
        assertEquals(List.of("a", "b"), d.classes());
        assertEquals(2, d.n());
    }

    /** Too many images for one float array: refused before any is decoded. */
    @Test void a_folder_too_large_for_one_array_is_refused_up_front() throws IOException {
        Path dir = tmp.resolve("d");
        TestData.writeGrayPng(dir.resolve("a/1.png"), 2, 2, 10);
        TestData.writeGrayPng(dir.resolve("a/2.png"), 2, 2, 10);
        assertEquals(dir + ": 2 images of 3x20000x20000 do not fit one float array (2^31 values)",
                assertThrows(IOException.class, () -> ImageFolder.load(dir, 3, 20000, 20000)).getMessage());
        // 3 x 37838 x 37838 = 2^32 + 175436: one image's size alone wraps around as an int, to a small positive.
        Files.delete(dir.resolve("a/2.png"));
        assertEquals(dir + ": 1 images of 3x37838x37838 do not fit one float array (2^31 values)",
                assertThrows(IOException.class, () -> ImageFolder.load(dir, 3, 37838, 37838)).getMessage());
    }

    /** RGB to gray with the BT.601 luma weights, each from its own plane. */
    @Test void rgb_to_gray_weighs_each_plane() {
        float[] rgb = {1, 0, 0.5f,   0, 1, 0.5f,   0, 0, 0.5f};          // 3 pixels: red, green, gray 0.5
        float[] g = Channels.convert(rgb, 3, 3, 1);
        assertArrayEquals(new float[]{0.299f, 0.587f, 0.5f}, g, 1e-6f);
        float[] b = Channels.convert(new float[]{0, 0, 0,   0, 0, 0,   1, 0, 0}, 3, 3, 1);
        assertArrayEquals(new float[]{0.114f, 0, 0}, b, 1e-6f);
        assertArrayEquals(new float[]{0.2f, 0.2f, 0.2f}, Channels.convert(new float[]{0.2f}, 1, 1, 3));
    }
}
