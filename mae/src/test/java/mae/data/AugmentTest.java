package mae.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import mae.tensor.Rng;
import org.junit.jupiter.api.Test;

class AugmentTest {
    private static final Normalization IDENTITY = new Normalization(new float[] {0, 0, 0}, new float[] {1, 1, 1});
    private static final Normalization IDENTITY1 = new Normalization(new float[] {0}, new float[] {1});

    /** n images of [c, s, s] where pixel value = f(image, channel, y, x). */
    private static Dataset dataset(int n, int c, int s, PixelFn f) {
        float[] px = new float[n * c * s * s];
        for (int i = 0; i < n; i++) for (int ch = 0; ch < c; ch++) for (int y = 0; y < s; y++) for (int x = 0; x < s; x++) {
            px[((i * c + ch) * s + y) * s + x] = f.at(i, ch, y, x);
        }
        return new Dataset(px, new int[n], n, c, s, s, List.of("only"), "synthetic");
    }

    interface PixelFn { float at(int i, int ch, int y, int x); }

    @Test
    void sameRngStateGivesSameBatch() {
        Dataset d = dataset(4, 3, 16, (i, ch, y, x) -> ((i * 7 + ch * 5 + y * 3 + x) % 17) / 16f);
        Augment aug = new Augment(12, IDENTITY);
        int[] idx = {3, 0, 2, 2};
        float[] a = new float[4 * 3 * 12 * 12], b = new float[a.length], c = new float[a.length];
        Rng rng = new Rng(7);
        long[] state = rng.state();
        aug.batch(d, idx, a, rng);
        rng.setState(state);
        aug.batch(d, idx, b, rng);
        aug.batch(d, idx, c, new Rng(8));
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c), "another seed gives other crops");
    }

    @Test
    void cropStatisticsFollowScaleAndRatioRanges() {
        Augment aug = new Augment(224, IDENTITY);
        Rng rng = new Rng(1);
        double minArea = 1, maxArea = 0;
        for (int t = 0; t < 2000; t++) {
            Augment.Crop c = aug.sampleCrop(1000, 1000, rng);
            assertTrue(c.top() >= 0 && c.left() >= 0 && c.top() + c.height() <= 1000 && c.left() + c.width() <= 1000, c.toString());
            double area = c.height() * (double) c.width() / 1e6, ratio = (double) c.width() / c.height();
            assertTrue(area > 0.2 - 0.005 && area <= 1, "area " + area);
            assertTrue(ratio > 0.75 - 0.01 && ratio < 4 / 3.0 + 0.01, "ratio " + ratio);
            minArea = Math.min(minArea, area);
            maxArea = Math.max(maxArea, area);
        }
        assertTrue(minArea < 0.25 && maxArea > 0.85, "the scale range is used: " + minArea + " .. " + maxArea);
    }

    /**
     * The default crop's distribution against torchvision's, worked out from its definition rather than the code: a
     * try draws the area fraction A uniform in [0.2, 1] and log r uniform in [log 3/4, log 4/3]; it is kept when the
     * crop fits, i.e. A r <= 1 and A / r <= 1 (|log r| <= -log A). The first kept try is therefore uniform over that
     * region (the centre-crop fallback after 10 misses has probability below 1e-6 here), so A has density
     * proportional to w(A) = 2 min(log 4/3, -log A). Its mean and its upper tail are compared with 4,000 crops of a
     * 1000 x 1000 image: a range cut to [0.2, 0.9] or raised to [0.3, 1] is many standard errors away.
     */
    @Test
    void defaultCropAreasFollowTorchvisionsDistribution() {
        double lo = 0.2, hi = 1, lr = Math.log(4 / 3.0);
        int steps = 200_000;
        double mass = 0, first = 0, second = 0, tail = 0;
        for (int i = 0; i < steps; i++) {
            double a = lo + (hi - lo) * (i + 0.5) / steps, w = 2 * Math.min(lr, -Math.log(a));
            mass += w;
            first += a * w;
            second += a * a * w;
            if (a > 0.9) tail += w;
        }
        double mean = first / mass, sd = Math.sqrt(second / mass - mean * mean), pTail = tail / mass;

        Augment aug = new Augment(224, IDENTITY);
        Rng rng = new Rng(1);
        int n = 4000, over = 0, wide = 0;
        double sum = 0, minArea = 1, maxArea = 0, minRatio = 10, maxRatio = 0;
        for (int t = 0; t < n; t++) {
            Augment.Crop c = aug.sampleCrop(1000, 1000, rng);
            double area = c.height() * (double) c.width() / 1e6, ratio = (double) c.width() / c.height();
            sum += area;
            if (area > 0.9) over++;
            if (ratio > 1) wide++;
            minArea = Math.min(minArea, area);
            maxArea = Math.max(maxArea, area);
            minRatio = Math.min(minRatio, ratio);
            maxRatio = Math.max(maxRatio, ratio);
        }
        double se = sd / Math.sqrt(n);
        assertEquals(mean, sum / n, 4 * se, "mean crop area (expected " + mean + ", sd " + sd + ")");
        assertEquals(pTail, over / (double) n, 4 * Math.sqrt(pTail * (1 - pTail) / n), "fraction of crops above 0.9 of the image");
        assertEquals(0.5, wide / (double) n, 4 * Math.sqrt(0.25 / n), "as many wide crops as tall ones");
        assertTrue(minArea < 0.205 && maxArea > 0.97, "the whole scale range is used: " + minArea + " .. " + maxArea);
        assertTrue(minRatio < 0.76 && maxRatio > 1.32, "the whole ratio range is used: " + minRatio + " .. " + maxRatio);
    }

    @Test
    void impossibleCropsFallBackToTheCentre() {
        // a 1 x 100 strip: every try needs a crop taller than 1 row, so the centre crop of ratio 4/3 is used
        Augment.Crop c = new Augment(8, IDENTITY).sampleCrop(1, 100, new Rng(3));
        assertEquals(new Augment.Crop(0, 49, 1, 1), c);
    }

    @Test
    void quarterCropOfSameSizeOutputCopiesTheSampledBlock() {
        Dataset d = dataset(1, 1, 8, (i, ch, y, x) -> (y * 8 + x) / 64f);
        Augment aug = new Augment(4, 4, 0.25, 0.25, 1, 1, 0, IDENTITY1); // always a 4 x 4 crop, never flipped
        Rng rng = new Rng(11);
        Augment.Crop crop = aug.sampleCrop(8, 8, new Rng(11));
        float[] out = new float[16];
        aug.batch(d, new int[] {0}, out, rng);
        assertEquals(4, crop.height());
        for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) {
            assertEquals(((crop.top() + y) * 8 + crop.left() + x) / 64f, out[y * 4 + x], 1e-6f);
        }
    }

    @Test
    void flipMirrorsAnAsymmetricImage() {
        Dataset d = dataset(1, 3, 6, (i, ch, y, x) -> x < 2 ? 1f : ch * 0.1f + y * 0.01f);
        float[] kept = new float[3 * 36], flipped = new float[3 * 36];
        new Augment(6, 6, 1, 1, 1, 1, 0, IDENTITY).batch(d, new int[] {0}, kept, new Rng(5));
        new Augment(6, 6, 1, 1, 1, 1, 1, IDENTITY).batch(d, new int[] {0}, flipped, new Rng(5));
        assertArrayEquals(d.image(0), kept, "full-size crop without flip is the image itself");
        for (int ch = 0; ch < 3; ch++) for (int y = 0; y < 6; y++) for (int x = 0; x < 6; x++) {
            assertEquals(kept[(ch * 6 + y) * 6 + x], flipped[(ch * 6 + y) * 6 + (5 - x)], "c" + ch + " y" + y + " x" + x);
        }
    }

    @Test
    void constantImagesStayConstantAndNormalize() {
        Dataset d = dataset(3, 3, 20, (i, ch, y, x) -> 0.1f * (i + 1) + 0.2f * ch);
        Normalization norm = new Normalization(new float[] {0.5f, 0.4f, 0.3f}, new float[] {0.5f, 0.25f, 0.2f});
        float[] out = new float[3 * 3 * 9 * 9];
        new Augment(9, norm).batch(d, new int[] {0, 1, 2}, out, new Rng(2));
        for (int i = 0; i < 3; i++) for (int ch = 0; ch < 3; ch++) {
            float want = (0.1f * (i + 1) + 0.2f * ch - norm.mean()[ch]) / norm.std()[ch];
            for (int p = 0; p < 81; p++) assertEquals(want, out[(i * 3 + ch) * 81 + p], 1e-5f, "image " + i + " channel " + ch);
        }
    }

    @Test
    void outputsStayInRangeOnRealImages() throws IOException {
        Dataset d = Datasets.load(null, TestData.embeddedDir(), TestData.embeddedDir().resolve("none"), 1, 28).eval().subset(0, 64);
        int[] idx = new int[64];
        for (int i = 0; i < 64; i++) idx[i] = i;
        float[] out = new float[64 * 28 * 28];
        new Augment(28, new Normalization(new float[] {0.5f}, new float[] {0.5f})).batch(d, idx, out, new Rng(9));
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (float v : out) { min = Math.min(min, v); max = Math.max(max, v); }
        assertTrue(min >= -1 - 1e-6 && max <= 1 + 1e-6, min + " .. " + max);
        assertTrue(min < -0.99 && max > 0.9, "real images span the range: " + min + " .. " + max);
    }

    @Test
    void evalBatchNormalizesToZeroMeanUnitStd() throws IOException {
        Dataset d = Datasets.load(null, TestData.embeddedDir(), TestData.embeddedDir().resolve("none"), 1, 28).train().subset(0, 500);
        Normalization norm = Normalization.of(d);
        int[] idx = new int[500];
        for (int i = 0; i < 500; i++) idx[i] = i;
        float[] out = new float[500 * 784];
        new Augment(28, norm).evalBatch(d, idx, out);
        double sum = 0, sq = 0;
        for (float v : out) { sum += v; sq += v * v; }
        assertEquals(0, sum / out.length, 1e-4);
        assertEquals(1, Math.sqrt(sq / out.length), 1e-4);
    }

    @Test
    void mismatchedChannelsAndShortOutputAreErrors() {
        Dataset d = dataset(2, 3, 4, (i, ch, y, x) -> 0.5f);
        assertThrows(IllegalArgumentException.class, () -> new Augment(4, IDENTITY1).batch(d, new int[] {0}, new float[48], new Rng(1)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Augment(4, IDENTITY).batch(d, new int[] {0, 1}, new float[95], new Rng(1)));
        assertTrue(e.getMessage().contains("needs 96"), e.getMessage());
    }

    /** A scale too small for any crop of at least one pixel: every attempt fails and the centre crop (here the whole image) is used. */
    @Test void crops_of_no_pixel_fall_back_to_the_centre_crop() {
        Normalization id = new Normalization(new float[]{0}, new float[]{1});
        Augment a = new Augment(4, 4, 0.001, 0.001, 1, 1, 0, id);
        for (int seed = 0; seed < 5; seed++)
            assertEquals(new Augment.Crop(0, 0, 4, 4), a.sampleCrop(4, 4, new mae.tensor.Rng(seed)), "seed " + seed);
        assertEquals(new Augment.Crop(2, 0, 4, 4), a.sampleCrop(8, 4, new mae.tensor.Rng(1)), "a tall image: its centred square");
        assertEquals(new Augment.Crop(0, 2, 2, 2), a.sampleCrop(2, 7, new mae.tensor.Rng(1)), "a wide one: left (7 - 2) // 2 = 2, as torchvision");
    }

    /** A shift moves every pixel by whole rows and columns, zero where nothing moved in, with every offset in range drawn. */
    @Test void shifts_move_the_image_without_resampling_and_fill_the_border_with_zero() {
        int side = 7, t = 2;
        Dataset d = dataset(1, 2, side, (i, ch, y, x) -> 1 + ch * 100 + y * 10 + x);   // no pixel is 0
        Augment a = new Augment(side, side, 1, 1, 1, 1, 0, t, new Normalization(new float[]{0, 0}, new float[]{1, 1}));
        java.util.Set<String> seen = new java.util.HashSet<>();
        Rng rng = new Rng(3);
        for (int draw = 0; draw < 200; draw++) {
            float[] out = new float[2 * side * side];
            a.batch(d, new int[] {0}, out, rng);
            // Recover the offset from pixel (3, 3), which stays inside the image for any shift of up to 2.
            float centre = out[3 * side + 3];
            int dy = 3 - (int) ((centre - 1) / 10), dx = 3 - (int) ((centre - 1) % 10);
            assertTrue(Math.abs(dy) <= t && Math.abs(dx) <= t, "offset " + dy + ", " + dx);
            seen.add(dy + "," + dx);
            for (int ch = 0; ch < 2; ch++) for (int y = 0; y < side; y++) for (int x = 0; x < side; x++) {
                int sy = y - dy, sx = x - dx;
                float want = sy < 0 || sy >= side || sx < 0 || sx >= side ? 0 : 1 + ch * 100 + sy * 10 + sx;
                assertEquals(want, out[(ch * side + y) * side + x], "draw " + draw + " shift " + dy + "," + dx + " at c" + ch + " y" + y + " x" + x);
            }
        }
        assertEquals(25, seen.size(), "every offset in [-2, 2]^2 is drawn: " + seen);
    }

    /** Without shifts the Rng is drawn exactly as before they existed, so earlier runs reproduce. */
    @Test void no_shift_draws_nothing_more() {
        Dataset d = dataset(3, 3, 16, (i, ch, y, x) -> ((i * 7 + ch * 5 + y * 3 + x) % 17) / 16f);
        float[] a = new float[3 * 3 * 12 * 12], b = new float[a.length];
        Rng ra = new Rng(8), rb = new Rng(8);
        new Augment(12, 12, 0.2, 1, 0.75, 4.0 / 3, 0.5, IDENTITY).batch(d, new int[] {0, 1, 2}, a, ra);
        new Augment(12, 12, 0.2, 1, 0.75, 4.0 / 3, 0.5, 0, IDENTITY).batch(d, new int[] {0, 1, 2}, b, rb);
        assertArrayEquals(a, b);
        assertEquals(ra.nextLong(), rb.nextLong(), "the same draws were used");
    }

    @Test void a_shift_as_wide_as_the_image_is_refused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Augment(6, 8, 1, 1, 1, 1, 0, 6, IDENTITY1));
        assertTrue(e.getMessage().contains("shift 6") && e.getMessage().contains("side 6"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Augment(6, 8, 1, 1, 1, 1, 0, -1, IDENTITY1));
    }
}
