package mae.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.*;

/** IDX headers at their edges: empty and one-pixel images, short headers, sizes past an int, the array and heap limits. */
class IdxEdgesTest {
    @TempDir Path dir;

    static String fails(org.junit.jupiter.api.function.Executable e) { return assertThrows(IOException.class, e).getMessage(); }

    @Test void empty_and_one_pixel_images_are_read() throws IOException {
        Path f = dir.resolve("zero");
        Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[]{0, 28, 28}, new byte[0]));
        Idx.Images none = Idx.readImages(f);
        assertEquals(0, none.n());
        assertEquals(0, none.pixels().length);
        Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[]{2, 1, 1}, new byte[]{(byte) 255, 51}));
        Idx.Images one = Idx.readImages(f);
        assertArrayEquals(new float[]{1f, 0.2f}, one.pixels());
        Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[]{2, 0, 1}, new byte[0]));
        assertEquals(f + ": the header's images are 0 x 1 pixels; both sizes must be at least 1", fails(() -> Idx.readImages(f)));
        Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[]{2, 1, 0}, new byte[0]));
        assertEquals(f + ": the header's images are 1 x 0 pixels; both sizes must be at least 1", fails(() -> Idx.readImages(f)));
    }

    @Test void a_short_header_says_how_many_bytes_there_are() throws IOException {
        Path raw = dir.resolve("raw"), gz = dir.resolve("gz");
        Files.write(raw, new byte[]{0, 0, 8, 3, 0, 0, 0, 1, 0});
        assertEquals(raw + ": 9 bytes, too short for an IDX header of ubyte images (16 bytes)", fails(() -> Idx.readImages(raw)));
        Files.write(gz, TestData.gzip(new byte[]{0, 0, 8, 1, 0, 0}));
        assertEquals(gz + ": 6 bytes, too short for an IDX header of ubyte labels (8 bytes)", fails(() -> Idx.readLabels(gz)));
    }

    @Test void a_size_past_a_signed_int_is_refused() throws IOException {
        Path f = dir.resolve("neg");
        byte[] h = ByteBuffer.allocate(16).putInt(Idx.IMAGES_MAGIC).putInt(1).putInt(-1).putInt(1).array();
        Files.write(f, h);
        assertEquals(f + ": IDX dimension 1 is 4294967295, too large", fails(() -> Idx.readImages(f)));
    }

    /** Exactly one Java array's worth passes the array check (and then meets the heap check); one more is refused. */
    @Test void the_array_limit_is_exact_and_the_heap_limit_names_the_sizes() throws IOException {
        Path f = dir.resolve("big");
        long max = Integer.MAX_VALUE - 8, heap = Runtime.getRuntime().maxMemory();
        Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[]{1, 1, (int) max}, new byte[4]));
        String m = fails(() -> Idx.readImages(f));
        if (5 * max > heap / 2)
            assertEquals(f + ": the header promises 1 images of 1 x " + max + ", which need " + String.format(Locale.ROOT, "%.1f", 5 * max / 1e9)
                    + " GB in memory, more than half of the Java heap (" + String.format(Locale.ROOT, "%.1f", heap / 1e9) + " GB)", m);
        else assertTrue(m.startsWith(f + ": truncated"), m);
        Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[]{1, 1, (int) max + 1}, new byte[4]));
        assertEquals(f + ": the header promises 1 images of 1 x " + (max + 1) + ", more than one Java array holds (" + max + " values)", fails(() -> Idx.readImages(f)));
        long justOver = heap / 10 + 1;                       // 5 bytes a value: just past half the heap
        if (justOver < max) {
            Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[]{1, 1, (int) justOver}, new byte[4]));
            assertTrue(fails(() -> Idx.readImages(f)).contains("more than half of the Java heap"));
            Files.write(f, TestData.idx(Idx.IMAGES_MAGIC, new int[]{1, 1, (int) (heap / 10 - 1000)}, new byte[4]));
            assertTrue(fails(() -> Idx.readImages(f)).startsWith(f + ": truncated"), "within half the heap: the length is checked next");
        }
    }
}
