package mae.viz;

import mae.io.AtomicFiles;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** PNG output of [c, h, w] float images (c = 1 gray or 3 RGB, values in [0, 1], clamped; NaN shows as 0). */
public final class Png {
    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private Png() {}

    /** Writes {@code pixels} [c, h, w] as an 8-bit PNG, atomically. */
    public static void write(Path file, float[] pixels, int c, int h, int w) throws IOException {
        if (pixels.length != (long) c * h * w) {
            throw new IllegalArgumentException(file + ": " + pixels.length + " values but [c, h, w] = [" + c + ", " + h + ", " + w + "] needs " + (long) c * h * w);
        }
        write(file, toImage(pixels, 0, c, h, w));
    }

    /** Writes an image as PNG, atomically (temp file in the same directory, then rename). */
    public static void write(Path file, BufferedImage image) throws IOException {
        AtomicFiles.write(file, out -> {
            if (!ImageIO.write(image, "png", out)) throw new IOException(file + ": no PNG writer for image type " + image.getType());
        });
    }

    /** The image at {@code pixels[offset ..]}, [c, h, w], as a gray (c = 1) or RGB (c = 3) BufferedImage. */
    public static BufferedImage toImage(float[] pixels, int offset, int c, int h, int w) {
        if (c != 1 && c != 3) throw new IllegalArgumentException("png: channels must be 1 or 3, got " + c);
        if (h <= 0 || w <= 0) throw new IllegalArgumentException("png: size " + h + "x" + w + " must be positive");
        if (offset < 0 || pixels.length - offset < (long) c * h * w) {
            throw new IllegalArgumentException("png: " + (pixels.length - offset) + " values from offset " + offset + ", [c, h, w] = [" + c + ", " + h + ", " + w + "] needs " + c * h * w);
        }
        BufferedImage img = new BufferedImage(w, h, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        WritableRaster r = img.getRaster(); // bands are R, G, B for TYPE_3BYTE_BGR
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) r.setSample(x, y, ch, toByte(pixels[offset + (ch * h + y) * w + x]));
            }
        }
        return img;
    }

    /** [0, 1] to 0..255, rounded; out-of-range values clamp, NaN gives 0. */
    static int toByte(float v) {
        if (!(v > 0)) return 0;
        if (v >= 1) return 255;
        return Math.round(v * 255f);
    }
}
