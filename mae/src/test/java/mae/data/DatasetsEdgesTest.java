package mae.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Which split a data folder gives (IDX halves, train/val/test folders), how the hold-out is chosen and ordered, and the size checks. */
class DatasetsEdgesTest {
    @TempDir Path tmp;

    @Test void an_idx_folder_with_only_the_test_half_holds_out_its_last_fifth() throws IOException {
        Path dir = tmp.resolve("digits");
        TestData.writeIdxSplit(dir, "t10k", 10, 2, 2, 3, false);
        Datasets.Split s = Datasets.load(dir, null, tmp.resolve("none"), 1, 2);
        assertEquals(8, s.train().n());
        assertEquals(2, s.eval().n());
        assertEquals(80 / 255f, s.eval().image(0)[0], 1e-6f, "image 8 (filled with 80) is the first held out");
        assertEquals("IDX " + dir.resolve("t10k-images-idx3-ubyte") + ": train = first 8 images, eval = last 2 (fixed hold-out); images 1x2x2", s.description());
    }

    @Test void train_and_eval_idx_halves_must_have_the_same_image_size() throws IOException {
        Path dir = tmp.resolve("mixed");
        TestData.writeIdxSplit(dir, "train", 6, 4, 4, 2, false);
        TestData.writeIdxSplit(dir, "t10k", 5, 2, 2, 2, false);
        IOException e = assertThrows(IOException.class, () -> Datasets.load(dir, null, tmp.resolve("none"), 1, 4));
        assertEquals(dir + ": train images are 4x4 but t10k images are 2x2", e.getMessage());
        Path wide = tmp.resolve("wide");
        TestData.writeIdxSplit(wide, "train", 6, 4, 4, 2, false);
        TestData.writeIdxSplit(wide, "t10k", 5, 4, 2, 2, false);
        assertEquals(wide + ": train images are 4x4 but t10k images are 4x2",
                assertThrows(IOException.class, () -> Datasets.load(wide, null, tmp.resolve("none"), 1, 4)).getMessage());
    }

    static void classes(Path dir, int perClass, String... names) throws IOException {
        int v = 0;
        for (String n : names) for (int i = 0; i < perClass; i++) TestData.writeGrayPng(dir.resolve(n + "/" + i + ".png"), 2, 2, (v++) * 8);
    }

    @Test void train_with_test_or_alone_and_classes_that_must_agree() throws IOException {
        Path dir = tmp.resolve("tt");
        classes(dir.resolve("train"), 3, "a", "b");
        classes(dir.resolve("test"), 1, "a", "b");
        Datasets.Split s = Datasets.load(dir, null, tmp.resolve("none"), 1, 2);
        assertEquals(6, s.train().n());
        assertEquals(2, s.eval().n(), "the test folder when there is no val");
        assertEquals("image folders " + dir + ": train 6 images, eval test 2 images; images 1x2x2", s.description());

        Path alone = tmp.resolve("alone");
        classes(alone.resolve("train"), 5, "a", "b");
        Datasets.Split h = Datasets.load(alone, null, tmp.resolve("none"), 1, 2);
        assertEquals(8, h.train().n());
        assertEquals(2, h.eval().n(), "no val or test: a fifth of train held out");
        assertTrue(h.description().startsWith("image folder " + alone.resolve("train") + ": 8 train images, 2 held out for eval (fixed seed 20211111)"), h.description());

        Path differ = tmp.resolve("differ");
        classes(differ.resolve("train"), 1, "a", "b");
        classes(differ.resolve("val"), 1, "a", "c");
        IOException e = assertThrows(IOException.class, () -> Datasets.load(differ, null, tmp.resolve("none"), 1, 2));
        assertEquals(differ.resolve("val") + ": classes [a, c] differ from " + differ.resolve("train") + "'s [a, b]", e.getMessage());
    }

    /** A picture folder's hold-out is a fixed random fifth; both parts keep the folder's order (so its labels stay sorted). */
    @Test void the_random_hold_out_keeps_the_folder_order() throws IOException {
        Path dir = tmp.resolve("order");
        classes(dir, 10, "a", "b", "c");                      // 30 images, values 0, 8, ..., 232 in folder order
        Datasets.Split s = Datasets.load(dir, null, tmp.resolve("none"), 1, 2);
        assertEquals(24, s.train().n());
        assertEquals(6, s.eval().n());
        for (Dataset d : List.of(s.train(), s.eval()))
            for (int i = 1; i < d.n(); i++) assertTrue(d.image(i)[0] > d.image(i - 1)[0], "in folder order at " + i);
        float[] held = new float[6];
        for (int i = 0; i < 6; i++) held[i] = Math.round(s.eval().image(i)[0] * 255);
        assertFalse(Arrays.equals(new float[]{192, 200, 208, 216, 224, 232}, held), "a random pick, not the last images: " + Arrays.toString(held));
        assertTrue(s.description().startsWith("image folder " + dir + ": 24 train images, 6 held out for eval"), s.description());
        Path five = tmp.resolve("five");
        classes(five, 5, "a");
        assertEquals(1, Datasets.load(five, null, tmp.resolve("none"), 1, 2).eval().n(), "5 images: one held out");
        Path four = tmp.resolve("four");
        classes(four, 4, "a");
        assertTrue(assertThrows(IOException.class, () -> Datasets.load(four, null, tmp.resolve("none"), 1, 2)).getMessage()
                .endsWith(": 4 images are too few to hold out an evaluation set (need 5 or more)"));
    }

    @Test void sizes_are_checked_before_anything_is_allocated() throws IOException {
        assertEquals("data: image size must be positive, got 0",
                assertThrows(IllegalArgumentException.class, () -> Datasets.load(null, null, tmp, 1, 0)).getMessage());
        Path file = tmp.resolve("file");
        Files.writeString(file, "x");
        assertTrue(assertThrows(IOException.class, () -> Datasets.load(file, null, tmp, 1, 2)).getMessage().startsWith(file + ": data folder does not exist or is not a directory"));
        Dataset d = new Dataset(new float[2 * 4], new int[]{0, 1}, 2, 1, 2, 2, List.of("a", "b"), "toy");
        assertSame(d, Datasets.conform(d, 1, 2));
        String m = assertThrows(IllegalArgumentException.class, () -> Datasets.conform(d, 3, 20000)).getMessage();
        assertEquals("toy: 2 images resized to 3x20000x20000 would need 2400000000 floats, more than one Java array holds (a smaller model input, or fewer images)", m);
        long heap = Runtime.getRuntime().maxMemory();
        long floats = heap / 8 + 1;                                   // 4 bytes each: just past half of the heap
        int side = (int) Math.ceil(Math.sqrt(floats / 2.0));
        if ((long) side * side * 2 < Integer.MAX_VALUE - 8) {
            String h = assertThrows(IllegalArgumentException.class, () -> Datasets.conform(d, 1, side)).getMessage();
            assertTrue(h.endsWith("floats, more than half of the Java heap (a smaller model input, or fewer images)"), h);
        }
        Dataset c = Datasets.conform(d, 3, 4);
        assertEquals(List.of(2, 3, 4, 4), List.of(c.n(), c.c(), c.h(), c.w()));
    }
}
