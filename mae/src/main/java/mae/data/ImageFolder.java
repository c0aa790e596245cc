package mae.data;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * A folder of images in class subfolders, {@code root/<class>/**.png|jpg|jpeg} (torchvision's ImageFolder):
 * class names sorted give the labels 0, 1, ...; files are taken in sorted path order. Hidden files and folders
 * (names starting with '.') are skipped. Every image is converted to the wanted channel count (gray and RGB)
 * and resized to height x width with antialiased bilinear resampling.
 */
public final class ImageFolder {
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg");

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private ImageFolder() {}

    /** All images under {@code root}, as [n, channels, height, width] in [0, 1]. */
    public static Dataset load(Path root, int channels, int height, int width) throws IOException {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException(root + ": image size " + height + "x" + width + " must be positive");
        return load(root, channels, height, width, f -> decode(f, channels, height, width));
    }

    /** All images under {@code root}, each prepared by {@code p}: [n, channels, size, size] in [0, 1]. */
    public static Dataset load(Path root, int channels, Preprocess p) throws IOException {
        return load(root, channels, p.size(), p.size(), f -> decode(f, channels, p));
    }

    private interface Decoder { float[] decode(Path file) throws IOException; }

    private static Dataset load(Path root, int channels, int height, int width, Decoder decoder) throws IOException {
        Channels.checkSupported(channels, root.toString());
        if (!Files.isDirectory(root)) throw new IOException(root + ": not a directory");
        List<Path> classDirs = classFolders(root);
        if (classDirs.isEmpty()) throw new IOException(root + ": no class folders (expected " + root + "/<class>/*.png|jpg|jpeg)");
        List<String> classes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path dir : classDirs) {
            List<Path> images = imageFiles(dir);
            if (images.isEmpty()) throw new IOException(dir + ": class folder holds no .png, .jpg or .jpeg images");
            for (Path f : images) { files.add(f); labels.add(classes.size()); }
            classes.add(dir.getFileName().toString());
        }
        return decodeAll(root, files, labels, classes, channels, height, width, decoder);
    }

    private static Dataset decodeAll(Path root, List<Path> files, List<Integer> labels, List<String> classes,
                                     int channels, int height, int width, Decoder decoder) throws IOException {
        // In double: channels x height x width alone may pass 2^31 (and, as an int, wrap to a small positive size).
        if ((double) channels * height * width * files.size() > Integer.MAX_VALUE - 8) {
            throw new IOException(root + ": " + files.size() + " images of " + channels + "x" + height + "x" + width + " do not fit one float array (2^31 values)");
        }
        int size = channels * height * width;
        float[] images = new float[files.size() * size];
        int[] labelArray = new int[files.size()];
        for (int i = 0; i < files.size(); i++) {
            System.arraycopy(decoder.decode(files.get(i)), 0, images, i * size, size);
            labelArray[i] = labels.get(i);
        }
        return new Dataset(images, labelArray, files.size(), channels, height, width, classes, "image folder " + root);
    }

    /** Largest image decoded: 8192 x 8192 pixels (its header is read first; a larger one is never allocated). */
    public static final long MAX_PIXELS = 1L << 26;

    /** One image file as [channels, height, width] in [0, 1]. */
    public static float[] decode(Path file, int channels, int height, int width) throws IOException {
        Picture pic = read(file, channels);
        int h = pic.height(), w = pic.width();
        if (h == height && w == width) return pic.chw();
        float[] out = new float[channels * height * width];
        Resample.resize(pic.chw(), 0, channels, h, w, out, 0, height, width);
        return out;
    }

    /** One image file prepared by {@code p}: [channels, size, size] in [0, 1]. */
    public static float[] decode(Path file, int channels, Preprocess p) throws IOException {
        Picture pic = read(file, channels);
        return p.apply(pic.chw(), channels, pic.height(), pic.width());
    }

    /** A decoded image at its own size: [channels, height, width] in [0, 1]. */
    public record Picture(float[] chw, int height, int width) {}

    /** One image file at its own size, converted to {@code channels} (1 or 3). */
    public static Picture read(Path file, int channels) throws IOException {
        Channels.checkSupported(channels, file.toString());
        BufferedImage img = read(file);                      // its declared size checked before any pixel
        int h = img.getHeight(), w = img.getWidth();
        boolean gray = isGray(img.getColorModel());
        return new Picture(Channels.convert(gray ? grayPixels(img) : rgbPixels(img), gray ? 1 : 3, h * w, channels), h, w);
    }

    /**
     * Decodes a PNG or JPEG after reading the size its header declares: a folder, an unreadable file or an image
     * over {@link #MAX_PIXELS} is an IOException naming the file, before any pixel is allocated.
     */
    public static BufferedImage read(Path file) throws IOException {
        if (Files.isDirectory(file)) throw new IOException(file + ": is a directory, not an image file");
        try (javax.imageio.stream.ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            java.util.Iterator<javax.imageio.ImageReader> readers = in == null ? java.util.Collections.emptyIterator() : ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new IOException(file + ": not a decodable PNG or JPEG image");
            javax.imageio.ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0), h = reader.getHeight(0);
                if (w < 1 || h < 1 || w * h > MAX_PIXELS)
                    throw new IOException(file + ": the image declares " + w + " x " + h + " pixels; at most " + MAX_PIXELS + " pixels (8192 x 8192) are read");
                BufferedImage img = reader.read(0);
                if (img == null) throw new IOException(file + ": not a decodable PNG or JPEG image");
                return img;
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(file + ": ")) throw e;
            throw new IOException(file + ": unreadable image (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            throw new IOException(file + ": unreadable image (" + e + ")", e);
        }
    }

    private static boolean isGray(ColorModel cm) {
        return cm.getNumColorComponents() == 1 && !(cm instanceof IndexColorModel);
    }

    /** Raw gray samples (getRGB would apply a gamma conversion to gray images), scaled by the bit depth. */
    private static float[] grayPixels(BufferedImage img) {
        Raster r = img.getRaster();
        float max = (1 << img.getColorModel().getComponentSize(0)) - 1;
        int h = img.getHeight(), w = img.getWidth();
        float[] out = new float[h * w];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) out[y * w + x] = r.getSample(x, y, 0) / max;
        return out;
    }

    /** sRGB as [3, h, w]; alpha is dropped. */
    private static float[] rgbPixels(BufferedImage img) {
        int h = img.getHeight(), w = img.getWidth(), hw = h * w;
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        float[] out = new float[3 * hw];
        for (int i = 0; i < hw; i++) {
            out[i] = ((argb[i] >> 16) & 0xFF) / 255f;
            out[hw + i] = ((argb[i] >> 8) & 0xFF) / 255f;
            out[2 * hw + i] = (argb[i] & 0xFF) / 255f;
        }
        return out;
    }

    private static List<Path> classFolders(Path root) throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(Files::isDirectory).filter(p -> !isHidden(p.getFileName())).sorted().toList();
        }
    }

    private static List<Path> imageFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
            return s.filter(p -> !isHidden(dir.relativize(p)) && hasImageExtension(p) && Files.isRegularFile(p)).sorted().toList();
        }
    }

    private static boolean hasImageExtension(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    /** Whether any name in {@code p} starts with '.'. */
    private static boolean isHidden(Path p) {
        for (Path part : p) if (part.toString().startsWith(".")) return true;
        return false;
    }
}
