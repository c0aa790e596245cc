package mae.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    @TempDir Path tmp;

    @Test
    void embeddedCopyHoldsOutTheLast2000() throws IOException {
        Path embedded = TestData.embeddedDir();
        Datasets.Split s = Datasets.load(null, embedded, tmp.resolve("no-system-copy"), 1, 28);
        assertEquals(8000, s.train().n());
        assertEquals(2000, s.eval().n());
        assertEquals(Datasets.FASHION_CLASSES, s.eval().classes());
        // label histogram of images 8000..9999, computed independently with python3
        int[] counts = new int[10];
        for (int l : s.eval().labels()) counts[l]++;
        assertArrayEquals(new int[] {214, 224, 175, 173, 190, 193, 210, 208, 210, 203}, counts);
        Idx.Images all = Idx.readImages(embedded.resolve("t10k-images-idx3-ubyte.gz"));
        assertArrayEquals(Arrays.copyOfRange(all.pixels(), 8000 * 784, 8001 * 784), s.eval().image(0));
        assertTrue(s.description().contains("last 2000"), s.description());
    }

    @Test
    void publicLoadPrefersTheSystemCopy() throws IOException {
        Datasets.Split s = Datasets.load(null, TestData.embeddedDir(), 1, 28);
        boolean system = Files.exists(Path.of(Datasets.SYSTEM_DIR, "train-images-idx3-ubyte.gz"));
        assertEquals(system ? 60_000 : 8000, s.train().n(), s.description());
        assertEquals(system ? 10_000 : 2000, s.eval().n(), s.description());
    }

    @Test
    void systemCopyWithTrainAndTestIsUsedWhole() throws IOException {
        Path system = tmp.resolve("fashion-system");
        TestData.writeIdxSplit(system, "train", 12, 4, 4, 10, true);
        TestData.writeIdxSplit(system, "t10k", 5, 4, 4, 10, false);
        Datasets.Split s = Datasets.load(null, TestData.embeddedDir(), system, 3, 8);
        assertEquals(12, s.train().n());
        assertEquals(5, s.eval().n());
        assertEquals(3, s.train().c());
        assertEquals(8, s.train().h());
        float v = 30 / 255f; // image 3 is filled with byte 30, in all three channels after conversion
        for (float x : s.train().image(3)) assertEquals(v, x, 1e-6f);
        assertEquals(Datasets.FASHION_CLASSES, s.train().classes());
    }

    @Test
    void explicitIdxFolderWithOneSplitHoldsOutAFifth() throws IOException {
        Path dir = tmp.resolve("digits");
        TestData.writeIdxSplit(dir, "train", 20, 2, 2, 3, false);
        Datasets.Split s = Datasets.load(dir, null, tmp.resolve("none"), 1, 2);
        assertEquals(16, s.train().n());
        assertEquals(4, s.eval().n());
        assertEquals(List.of("0", "1", "2"), s.train().classes());
        assertEquals(160 / 255f, s.eval().image(0)[0], 1e-6f);
    }

    @Test
    void imageFolderWithTrainAndVal() throws IOException {
        Path dir = tmp.resolve("imgs");
        for (String split : List.of("train", "val")) {
            TestData.writeGrayPng(dir.resolve(split + "/a/1.png"), 6, 6, 10);
            TestData.writeGrayPng(dir.resolve(split + "/b/1.png"), 6, 6, 20);
        }
        TestData.writeGrayPng(dir.resolve("train/b/2.png"), 6, 6, 30);
        Datasets.Split s = Datasets.load(dir, null, tmp.resolve("none"), 1, 6);
        assertEquals(3, s.train().n());
        assertEquals(2, s.eval().n());
        assertArrayEquals(new int[] {0, 1}, s.eval().labels());
    }

    @Test
    void singleImageFolderHoldsOutAFixedShuffledPart() throws IOException {
        Path dir = tmp.resolve("single");
        for (int i = 0; i < 10; i++) TestData.writeGrayPng(dir.resolve((i < 5 ? "a" : "b") + "/" + i + ".png"), 2, 2, i * 20);
        Datasets.Split first = Datasets.load(dir, null, tmp.resolve("none"), 1, 2);
        Datasets.Split again = Datasets.load(dir, null, tmp.resolve("none"), 1, 2);
        assertEquals(8, first.train().n());
        assertEquals(2, first.eval().n());
        assertArrayEquals(first.eval().images(), again.eval().images(), "the hold-out is fixed");
        Set<Float> seen = new HashSet<>();
        for (Dataset d : List.of(first.train(), first.eval())) for (int i = 0; i < d.n(); i++) assertTrue(seen.add(d.image(i)[0]), "disjoint");
        assertEquals(10, seen.size());
    }

    @Test
    void noDataAnywhereIsAClearError() {
        IOException e = assertThrows(IOException.class, () -> Datasets.load(null, tmp.resolve("emb"), tmp.resolve("sys"), 1, 28));
        assertTrue(e.getMessage().startsWith("no data:") && e.getMessage().contains(tmp.resolve("emb").toString()), e.getMessage());
        Path missing = tmp.resolve("missing");
        e = assertThrows(IOException.class, () -> Datasets.load(missing, null, tmp.resolve("sys"), 1, 28));
        assertTrue(e.getMessage().startsWith(missing + ": data folder does not exist"), e.getMessage());
    }

    @Test
    void imagesWithoutLabelsFileAreAnError() throws IOException {
        Path dir = tmp.resolve("half");
        TestData.writeIdxSplit(dir, "train", 10, 2, 2, 2, false);
        Files.delete(dir.resolve("train-labels-idx1-ubyte"));
        IOException e = assertThrows(IOException.class, () -> Datasets.load(dir, null, tmp.resolve("sys"), 1, 2));
        assertTrue(e.getMessage().contains("has no train-labels-idx1-ubyte"), e.getMessage());
    }
}
