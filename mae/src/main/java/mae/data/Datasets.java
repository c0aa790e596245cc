package mae.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import mae.tensor.Rng;

/**
 * The project's data policy, in order:
 * <ol>
 * <li>a folder given by the user: IDX files ({@code train-images-idx3-ubyte[.gz]} + labels and/or
 *     {@code t10k-...}), or an image folder with {@code train/} and {@code val/} or {@code test/} subfolders, or a
 *     single image folder of class subfolders;</li>
 * <li>else the full Fashion-MNIST in {@value #SYSTEM_DIR} (Debian's dataset-fashion-mnist): 60,000 train images
 *     for training, the 10,000 test images for evaluation;</li>
 * <li>else the embedded copy of the Fashion-MNIST test split (data/fashion-mnist): its first 8,000 images train,
 *     its last 2,000 are the fixed evaluation hold-out.</li>
 * </ol>
 * Where only one split exists, evaluation holds out {@link #holdoutCount(int)} images: the last ones for IDX
 * data (already shuffled), a fixed pseudo-random choice (seed {@value #HOLDOUT_SEED}) for image folders (which
 * are sorted by class). Images are converted to the wanted channels and resized to size x size.
 */
public final class Datasets {
    public static final String SYSTEM_DIR = "/usr/share/datasets/fashion-mnist";
    /** Images held out for evaluation when a source has a single split (at most a fifth of it). */
    public static final int HOLDOUT = 2000;
    static final long HOLDOUT_SEED = 20211111L;
    public static final List<String> FASHION_CLASSES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private Datasets() {}

    /** A training set, an evaluation set and a one-line description of where they came from. */
    public record Split(Dataset train, Dataset eval, String description) {}

    /** See the class comment; {@code dir} may be null. */
    public static Split load(Path dir, Path embeddedDir, int channels, int size) throws IOException {
        return load(dir, embeddedDir, Path.of(SYSTEM_DIR), channels, size);
    }

    /**
     * As {@link #load(Path, Path, int, int)}, with the images of a picture folder prepared by {@code p} (e.g. the
     * official evaluation crop for a released ImageNet model); IDX images are resized as before.
     */
    public static Split load(Path dir, Path embeddedDir, int channels, Preprocess p) throws IOException {
        return load(dir, embeddedDir, Path.of(SYSTEM_DIR), channels, p);
    }

    static Split load(Path dir, Path embeddedDir, Path systemDir, int channels, int size) throws IOException {
        if (size <= 0) throw new IllegalArgumentException("data: image size must be positive, got " + size);
        return load(dir, embeddedDir, systemDir, channels, Preprocess.plain(size));
    }

    static Split load(Path dir, Path embeddedDir, Path systemDir, int channels, Preprocess p) throws IOException {
        Channels.checkSupported(channels, "data");
        int size = p.size();
        Split split;
        if (dir != null) split = fromDir(dir, channels, p);
        else if (idxPair(systemDir, "train") != null && idxPair(systemDir, "t10k") != null) split = fromIdxDir(systemDir);
        else split = fromEmbedded(embeddedDir, systemDir);
        Dataset train = conform(split.train(), channels, size), eval = conform(split.eval(), channels, size);
        return new Split(train, eval, split.description() + "; images " + channels + "x" + size + "x" + size);
    }

    /** At most {@link #HOLDOUT} images, and at most a fifth of {@code n}. */
    public static int holdoutCount(int n) { return Math.min(HOLDOUT, n / 5); }

    private static Split fromEmbedded(Path embeddedDir, Path systemDir) throws IOException {
        if (embeddedDir == null || idxPair(embeddedDir, "t10k") == null) {
            throw new IOException("no data: no folder given, " + systemDir + " lacks train-images-idx3-ubyte[.gz], and the embedded folder "
                    + embeddedDir + " lacks t10k-images-idx3-ubyte[.gz] with its labels");
        }
        Path[] files = idxPair(embeddedDir, "t10k");
        return holdoutLast(readIdx(files, embeddedDir), "embedded Fashion-MNIST test split " + embeddedDir);
    }

    private static Split fromDir(Path dir, int channels, Preprocess p) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + ": data folder does not exist or is not a directory");
        Path[] train = idxPair(dir, "train"), test = idxPair(dir, "t10k");
        if (train != null && test != null) return fromIdxDir(dir);
        if (train != null || test != null) {
            Path[] files = train != null ? train : test;
            return holdoutLast(readIdx(files, dir), "IDX " + files[0]);
        }
        if (Files.isDirectory(dir.resolve("train"))) return fromTrainValFolders(dir, channels, p);
        Dataset all = folder(dir, channels, p);
        return holdoutRandom(all, "image folder " + dir);
    }

    private static Split fromIdxDir(Path dir) throws IOException {
        Path[] train = idxPair(dir, "train"), test = idxPair(dir, "t10k");
        List<String> classes = classesFor(dir, train[1], test[1]);
        Dataset trainSet = Idx.read(train[0], train[1], classes, train[0].toString());
        Dataset evalSet = Idx.read(test[0], test[1], classes, test[0].toString());
        if (trainSet.h() != evalSet.h() || trainSet.w() != evalSet.w()) {
            throw new IOException(dir + ": train images are " + trainSet.h() + "x" + trainSet.w() + " but t10k images are " + evalSet.h() + "x" + evalSet.w());
        }
        return new Split(trainSet, evalSet, "IDX " + dir + ": train " + train[0].getFileName() + " (" + trainSet.n()
                + " images), eval " + test[0].getFileName() + " (" + evalSet.n() + " images)");
    }

    /** A picture folder: plain resizing keeps the original call (and its numbers) unchanged. */
    private static Dataset folder(Path dir, int channels, Preprocess p) throws IOException {
        return p.crops() ? ImageFolder.load(dir, channels, p) : ImageFolder.load(dir, channels, p.size(), p.size());
    }

    private static Split fromTrainValFolders(Path dir, int channels, Preprocess p) throws IOException {
        Dataset train = folder(dir.resolve("train"), channels, p);
        Path evalDir = Files.isDirectory(dir.resolve("val")) ? dir.resolve("val") : dir.resolve("test");
        if (!Files.isDirectory(evalDir)) return holdoutRandom(train, "image folder " + dir.resolve("train"));
        Dataset eval = folder(evalDir, channels, p);
        if (!train.classes().equals(eval.classes())) {
            throw new IOException(evalDir + ": classes " + eval.classes() + " differ from " + dir.resolve("train") + "'s " + train.classes());
        }
        return new Split(train, eval, "image folders " + dir + ": train " + train.n() + " images, eval " + evalDir.getFileName() + " " + eval.n() + " images");
    }

    /** The images file and labels file of an IDX split ("train" or "t10k"), raw or .gz; null if no images file. */
    static Path[] idxPair(Path dir, String split) throws IOException {
        if (dir == null) return null;
        Path images = firstExisting(dir, split + "-images-idx3-ubyte");
        if (images == null) return null;
        Path labels = firstExisting(dir, split + "-labels-idx1-ubyte");
        if (labels == null) throw new IOException(dir + ": " + images.getFileName() + " has no " + split + "-labels-idx1-ubyte[.gz] beside it");
        return new Path[] {images, labels};
    }

    private static Path firstExisting(Path dir, String base) {
        for (String name : List.of(base + ".gz", base)) {
            if (Files.isRegularFile(dir.resolve(name))) return dir.resolve(name);
        }
        return null;
    }

    private static Dataset readIdx(Path[] files, Path dir) throws IOException {
        return Idx.read(files[0], files[1], classesFor(dir, files[1]), files[0].toString());
    }

    /** Fashion-MNIST class names when the folder's path says "fashion", else the numbers 0 .. largest label. */
    private static List<String> classesFor(Path dir, Path... labelFiles) throws IOException {
        if (dir.toAbsolutePath().toString().toLowerCase(Locale.ROOT).contains("fashion")) return FASHION_CLASSES;
        int max = 0;
        for (Path f : labelFiles) max = Math.max(max, Arrays.stream(Idx.readLabels(f)).max().orElse(0));
        return numbered(max + 1);
    }

    private static List<String> numbered(int count) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) names.add(Integer.toString(i));
        return names;
    }

    private static Split holdoutLast(Dataset all, String what) throws IOException {
        int k = checkedHoldout(all, what);
        return new Split(all.subset(0, all.n() - k), all.subset(all.n() - k, all.n()),
                what + ": train = first " + (all.n() - k) + " images, eval = last " + k + " (fixed hold-out)");
    }

    private static Split holdoutRandom(Dataset all, String what) throws IOException {
        int k = checkedHoldout(all, what);
        int[] perm = permutation(all.n(), new Rng(HOLDOUT_SEED));
        int[] eval = Arrays.copyOfRange(perm, all.n() - k, all.n()), train = Arrays.copyOfRange(perm, 0, all.n() - k);
        Arrays.sort(eval);
        Arrays.sort(train);
        return new Split(all.select(train, "(train part)"), all.select(eval, "(hold-out)"),
                what + ": " + (all.n() - k) + " train images, " + k + " held out for eval (fixed seed " + HOLDOUT_SEED + ")");
    }

    private static int checkedHoldout(Dataset all, String what) throws IOException {
        int k = holdoutCount(all.n());
        if (k == 0) throw new IOException(what + ": " + all.n() + " images are too few to hold out an evaluation set (need 5 or more)");
        return k;
    }

    /** Fisher-Yates. */
    private static int[] permutation(int n, Rng rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i]; p[i] = p[j]; p[j] = t;
        }
        return p;
    }

    /** {@code d} with {@code channels} channels and size x size images (d itself when it already is). */
    public static Dataset conform(Dataset d, int channels, int size) {
        if (d.c() == channels && d.h() == size && d.w() == size) return d;
        long outLong = (long) channels * size * size, total = outLong * d.n();
        if (total > Integer.MAX_VALUE - 8 || 4 * total > Runtime.getRuntime().maxMemory() / 2)
            throw new IllegalArgumentException(d.source() + ": " + d.n() + " images resized to " + channels + "x" + size + "x" + size
                    + " would need " + total + " floats, more than " + (total > Integer.MAX_VALUE - 8 ? "one Java array holds" : "half of the Java heap")
                    + " (a smaller model input, or fewer images)");
        int out = (int) outLong;
        float[] images = new float[(int) total];
        for (int i = 0; i < d.n(); i++) {
            float[] converted = Channels.convert(d.image(i), d.c(), d.h() * d.w(), channels);
            Resample.resize(converted, 0, channels, d.h(), d.w(), images, i * out, size, size);
        }
        return new Dataset(images, d.labels(), d.n(), channels, size, size, d.classes(), d.source());
    }
}
