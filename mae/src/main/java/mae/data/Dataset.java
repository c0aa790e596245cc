package mae.data;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Images and labels in memory: {@code images} is [n, c, h, w] (NCHW) with values in [0, 1], {@code labels[i]}
 * indexes {@code classes}. Arrays are shared, not copied; treat them as read-only.
 */
public record Dataset(float[] images, int[] labels, int n, int c, int h, int w, List<String> classes, String source) {
    public Dataset {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(classes, "classes");
        Objects.requireNonNull(source, "source");
        if (c <= 0 || h <= 0 || w <= 0) throw new IllegalArgumentException(source + ": image shape " + c + "x" + h + "x" + w + " must be positive");
        if (n != labels.length) throw new IllegalArgumentException(source + ": n = " + n + " but " + labels.length + " labels");
        long expected = (long) n * c * h * w;
        if (images.length != expected) {
            throw new IllegalArgumentException(source + ": " + images.length + " pixel values but [n, c, h, w] = ["
                    + n + ", " + c + ", " + h + ", " + w + "] needs " + expected);
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes.size()) {
                throw new IllegalArgumentException(source + ": label " + labels[i] + " of image " + i + " is outside the " + classes.size() + " classes");
            }
        }
        classes = List.copyOf(classes);
    }

    /** Values per image: c * h * w. */
    public int imageSize() { return c * h * w; }

    /** Index of image i's first value in {@link #images()}. */
    public int offset(int i) {
        Objects.checkIndex(i, n);
        return i * imageSize();
    }

    /** A copy of image i, [c, h, w]. */
    public float[] image(int i) {
        int at = offset(i);
        return Arrays.copyOfRange(images, at, at + imageSize());
    }

    /** Images [from, to), copied. */
    public Dataset subset(int from, int to) {
        Objects.checkFromToIndex(from, to, n);
        return new Dataset(Arrays.copyOfRange(images, from * imageSize(), to * imageSize()), Arrays.copyOfRange(labels, from, to),
                to - from, c, h, w, classes, source + " [" + from + ", " + to + ")");
    }

    /** The given images, in the given order, copied. */
    public Dataset select(int[] indices, String description) {
        float[] out = new float[indices.length * imageSize()];
        int[] outLabels = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            System.arraycopy(images, offset(indices[k]), out, k * imageSize(), imageSize());
            outLabels[k] = labels[indices[k]];
        }
        return new Dataset(out, outLabels, indices.length, c, h, w, classes, source + " " + description);
    }

    @Override public String toString() {
        return "Dataset[" + source + ": " + n + " x " + c + "x" + h + "x" + w + ", " + classes.size() + " classes]";
    }
}
