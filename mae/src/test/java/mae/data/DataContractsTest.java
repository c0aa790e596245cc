package mae.data;

import mae.tensor.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The data layer's refusals at their edges, the crop sampler's fallback, and how splits are taken. */
class DataContractsTest {
    static final Normalization ID = new Normalization(new float[]{0}, new float[]{1});

    static void refused(Executable e, String... words) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        for (String w : words) assertTrue(x.getMessage().contains(w), "'" + x.getMessage() + "' should say " + w);
    }

    @Test void augment_settings_are_checked_at_their_edges() {
        refused(() -> new Augment(0, 8, 0.2, 1, 0.75, 1.33, 0.5, ID), "output size 0x8");
        refused(() -> new Augment(8, 0, 0.2, 1, 0.75, 1.33, 0.5, ID), "output size 8x0");
        refused(() -> new Augment(8, 8, 0, 1, 0.75, 1.33, 0.5, ID), "scale range [0.0, 1.0]");
        refused(() -> new Augment(8, 8, 0.6, 0.5, 0.75, 1.33, 0.5, ID), "scale range");
        refused(() -> new Augment(8, 8, 0.2, 1.01, 0.75, 1.33, 0.5, ID), "scale range");
        refused(() -> new Augment(8, 8, 0.2, 1, 0, 1.33, 0.5, ID), "ratio range");
        refused(() -> new Augment(8, 8, 0.2, 1, 1.5, 1.33, 0.5, ID), "ratio range");
        refused(() -> new Augment(8, 8, 0.2, 1, 0.75, 1.33, -0.01, ID), "flip probability");
        refused(() -> new Augment(8, 8, 0.2, 1, 0.75, 1.33, 1.01, ID), "flip probability");
        assertNotNull(new Augment(8, 8, 1, 1, 1, 1, 0, ID), "the edges themselves are allowed");
        assertNotNull(new Augment(8, 8, 0.01, 1, 0.5, 0.5, 1, ID));
    }

    /** Draws of a try: area and log-ratio (2 doubles), then top and left (2 ints) when the crop fits. */
    static Rng advanced(long seed, int doubles, int... intBounds) {
        Rng r = new Rng(seed);
        for (int i = 0; i < doubles; i++) r.nextDouble();
        for (int b : intBounds) r.nextInt(b);
        return r;
    }

    @Test void crops_that_fit_exactly_are_taken_and_impossible_ones_fall_back_after_ten_tries() {
        Augment whole = new Augment(8, 8, 1, 1, 1, 1, 0, ID);
        Rng r = new Rng(3);
        assertEquals(new Augment.Crop(0, 0, 8, 8), whole.sampleCrop(8, 8, r));
        assertArrayEquals(advanced(3, 2, 1, 1).state(), r.state(), "the first try fits exactly: 2 draws for the shape, 2 for the place");
        // wider than 4:3 allows and no try fits: ten tries, then the centred crop of the largest allowed width
        Rng w = new Rng(4);
        assertEquals(new Augment.Crop(0, 15, 10, 10), whole.sampleCrop(10, 40, w));
        assertArrayEquals(advanced(4, 20).state(), w.state(), "ten failed tries, 2 draws each");
        assertEquals(new Augment.Crop(15, 0, 10, 10), whole.sampleCrop(40, 10, new Rng(5)), "taller than allowed: the largest allowed height");
        Augment ranged = new Augment(8, 8, 1, 1, 0.75, 4 / 3.0, 0, ID);
        assertEquals(new Augment.Crop(0, 3, 9, 12), ranged.sampleCrop(9, 18, new Rng(7)), "2:1, no try fits: the centred 4:3 crop");
        assertEquals(new Augment.Crop(3, 0, 12, 9), ranged.sampleCrop(18, 9, new Rng(8)), "1:2: the centred 3:4 crop");
        // a crop that rounds to nothing never counts as fitting
        Augment tiny = new Augment(8, 8, 0.2, 0.2, 1, 1, 0, ID);
        assertEquals(new Augment.Crop(0, 0, 1, 1), tiny.sampleCrop(1, 1, new Rng(6)));
    }

    @Test void datasets_check_their_shape_and_labels() {
        float[] px = new float[2 * 4];
        refused(() -> new Dataset(px, new int[2], 2, 0, 2, 2, List.of("a"), "s"), "image shape 0x2x2 must be positive");
        refused(() -> new Dataset(px, new int[2], 2, 1, 0, 2, List.of("a"), "s"), "must be positive");
        refused(() -> new Dataset(px, new int[2], 2, 1, 2, 0, List.of("a"), "s"), "must be positive");
        refused(() -> new Dataset(px, new int[3], 2, 1, 2, 2, List.of("a"), "s"), "n = 2 but 3 labels");
        refused(() -> new Dataset(new float[7], new int[2], 2, 1, 2, 2, List.of("a"), "s"), "7 pixel values", "needs 8");
        refused(() -> new Dataset(px, new int[]{0, 2}, 2, 1, 2, 2, List.of("a", "b"), "s"), "label 2 of image 1 is outside the 2 classes");
        refused(() -> new Dataset(px, new int[]{-1, 0}, 2, 1, 2, 2, List.of("a", "b"), "s"), "label -1 of image 0");
        Dataset d = new Dataset(px, new int[]{1, 0}, 2, 1, 2, 2, List.of("a", "b"), "s");
        assertEquals(4, d.imageSize());
        assertEquals(4, d.offset(1));
        assertThrows(IndexOutOfBoundsException.class, () -> d.offset(2));
        assertTrue(d.toString().contains("s"), d.toString());
        assertSame(d, Datasets.conform(d, 1, 2), "already conforming: the same dataset");
        Dataset rgb = Datasets.conform(d, 3, 4);
        assertEquals(3, rgb.c());
        assertEquals(4, rgb.h());
    }

    static void idx(Path dir, String split, int n, int size, int... labels) throws IOException {
        ByteBuffer img = ByteBuffer.allocate(16 + n * size * size).putInt(0x00000803).putInt(n).putInt(size).putInt(size);
        for (int i = 0; i < n * size * size; i++) img.put((byte) (i * 37));
        Files.write(dir.resolve(split + "-images-idx3-ubyte"), img.array());
        ByteBuffer lab = ByteBuffer.allocate(8 + n).putInt(0x00000801).putInt(n);
        for (int l : labels) lab.put((byte) l);
        Files.write(dir.resolve(split + "-labels-idx1-ubyte"), lab.array());
    }

    @Test void an_idx_file_alone_is_split_first_for_training_last_for_evaluation(@TempDir Path tmp) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("digits"));
        idx(dir, "train", 10, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        Datasets.Split s = Datasets.load(dir, null, tmp.resolve("none"), 1, 4);
        assertEquals(8, s.train().n());
        assertEquals(2, s.eval().n());
        assertArrayEquals(new int[]{8, 9}, s.eval().labels(), "the last two");
        assertArrayEquals(new int[]{0, 1, 2, 3, 4, 5, 6, 7}, s.train().labels());
        assertEquals(10, s.train().classes().size(), "numbered classes up to the largest label");
        Path few = Files.createDirectories(tmp.resolve("few"));
        idx(few, "train", 4, 4, 0, 1, 0, 1);
        IOException e = assertThrows(IOException.class, () -> Datasets.load(few, null, tmp.resolve("none"), 1, 4));
        assertTrue(e.getMessage().contains("4 images are too few to hold out"), e.getMessage());
        refused(() -> Datasets.load(dir, null, tmp.resolve("none"), 1, 0), "image size must be positive, got 0");
        refused(() -> Datasets.load(dir, null, tmp.resolve("none"), 2, 4), "data: channels must be 1 or 3, got 2");
        assertEquals(2, Datasets.holdoutCount(10));
        assertEquals(2000, Datasets.holdoutCount(1_000_000));
        assertEquals(0, Datasets.holdoutCount(4));
    }
}
