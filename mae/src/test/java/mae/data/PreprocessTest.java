package mae.data;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class PreprocessTest {
    @Test void the_official_crop_resizes_the_shorter_side_to_256_and_keeps_the_centre() {
        Preprocess p = Preprocess.official(224);
        assertEquals(256, p.resizeTo());
        assertArrayEquals(new int[]{256, 386}, p.resized(477, 720));        // landscape: torchvision's int(256 * 720 / 477)
        assertArrayEquals(new int[]{341, 256}, p.resized(4000, 3000));      // portrait
        assertArrayEquals(new int[]{256, 256}, p.resized(224, 224));
        // a picture whose left half is black and right half white, 3 x 20 x 40, cropped to 8 x 8 at crop_pct 0.8:
        // shorter side 10, so 10 x 20, and the centre 8 columns 6..13 straddle the edge at column 10
        Preprocess q = new Preprocess(8, 0.8, false);
        float[] img = new float[3 * 20 * 40];
        for (int c = 0; c < 3; c++) for (int y = 0; y < 20; y++) for (int x = 20; x < 40; x++) img[(c * 20 + y) * 40 + x] = 1;
        float[] out = q.apply(img, 3, 20, 40);
        assertEquals(3 * 8 * 8, out.length);
        for (int y = 0; y < 8; y++) {
            assertEquals(0, out[y * 8], 1e-6, "left edge black");
            assertEquals(1, out[y * 8 + 7], 1e-6, "right edge white");
            assertEquals(out[y * 8 + 3] + out[y * 8 + 4], 1, 1e-5, "symmetric around the centre");
        }
    }

    @Test void plain_resizing_is_what_it_was() {
        Preprocess p = Preprocess.plain(4);
        float[] img = new float[16];
        for (int i = 0; i < 16; i++) img[i] = i / 16f;
        assertSame(img, p.apply(img, 1, 4, 4));
        assertNull(p.describe(4, 4));
        assertTrue(p.toMetadata().isEmpty());
        assertEquals(p, Preprocess.fromMetadata(Map.of(), 4));
    }

    @Test void metadata_round_trip_and_bad_values() {
        Preprocess p = Preprocess.official(224);
        assertEquals(p, Preprocess.fromMetadata(p.toMetadata(), 224));
        assertThrows(IllegalArgumentException.class, () -> Preprocess.fromMetadata(Map.of("crop_pct", "lots"), 224));
        assertThrows(IllegalArgumentException.class, () -> Preprocess.fromMetadata(Map.of("crop_pct", "7"), 224));
        assertThrows(IllegalArgumentException.class, () -> Preprocess.fromMetadata(Map.of("crop_pct", "0.9", "interpolation", "lanczos"), 224));
        assertTrue(p.describe(720, 477).contains("resized to 386 x 256 px (shorter side 256 = 224 / 0.875, bicubic) and its centre 224 x 224 px cut out"));
    }

    @Test void sizes_and_crop_fractions_at_their_edges() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Preprocess(0, 0, false)).getMessage().contains("size 0 must be positive"));
        assertEquals(1, new Preprocess(1, 0, false).size());
        for (double bad : new double[]{-0.1, 0.05, 1.0001, Double.NaN})
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new Preprocess(8, bad, true)).getMessage()
                    .contains("crop_pct " + bad + " must be 0 (no crop) or in (0.05, 1]"), "crop_pct " + bad);
        assertEquals(159, new Preprocess(8, 0.0501, true).resizeTo(), "int(8 / 0.0501)");
        assertEquals(8, new Preprocess(8, 1, true).resizeTo());
        assertFalse(new Preprocess(8, 0, true).crops());
    }

    /** The centre crop takes each channel's own pixels, and the result is clipped to [0, 1] (as PIL's 0..255). */
    @Test void the_centre_crop_of_each_channel_clipped_to_the_unit_range() {
        Preprocess p = new Preprocess(4, 1, true);            // shorter side 4: no resize, only the crop of columns 1..4
        int c = 3, h = 4, w = 6;
        float[] img = new float[c * h * w];
        for (int ch = 0; ch < c; ch++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img[(ch * h + y) * w + x] = ch * 0.3f + y * 0.05f + x * 0.01f;
        img[(2 * h + 1) * w + 2] = 1.7f;
        img[(1 * h + 3) * w + 4] = -0.4f;
        float[] out = p.apply(img, c, h, w);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 4; x++) {
                    float want = Math.max(0, Math.min(1, img[(ch * h + y) * w + x + 1]));
                    assertEquals(want, out[(ch * 4 + y) * 4 + x], 0f, "channel " + ch + " (" + y + ", " + x + ")");
                }
        assertEquals(1f, out[(2 * 4 + 1) * 4 + 1]);
        assertEquals(0f, out[(1 * 4 + 3) * 4 + 3]);
        float[] tall = new float[1 * 7 * 4];
        for (int i = 0; i < tall.length; i++) tall[i] = i / 28f;
        float[] t = p.apply(tall, 1, 7, 4);                  // rows 2..5 (torchvision rounds (7 - 4) / 2 = 1.5 to 2)
        for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) assertEquals(tall[(y + 2) * 4 + x], t[y * 4 + x], 0f);
    }

    /** Plain preprocessing resizes (antialiased bilinear) to the size, per channel. */
    @Test void plain_preprocessing_resizes_each_channel() {
        float[] img = {0, 0, 1, 1,  0, 0, 1, 1,  0, 0, 1, 1,  0, 0, 1, 1,       // channel 0: left half dark
                       1, 1, 1, 1,  1, 1, 1, 1,  0, 0, 0, 0,  0, 0, 0, 0};      // channel 1: top half light
        float[] out = Preprocess.plain(2).apply(img, 2, 4, 4);
        assertEquals(8, out.length);
        assertEquals(out[0], out[2], 1e-6f);                      // channel 0: the columns differ, the rows do not
        assertEquals(out[1], out[3], 1e-6f);
        assertEquals(1, out[0] + out[1], 1e-6f, "symmetric about the edge");
        assertTrue(out[0] < 0.3f, "left stays dark: " + out[0]);
        assertEquals(out[4], out[5], 1e-6f);                      // channel 1: the rows differ, the columns do not
        assertEquals(out[6], out[7], 1e-6f);
        assertEquals(1, out[4] + out[6], 1e-6f);
        assertTrue(out[4] > 0.7f, "top stays light: " + out[4]);
        assertNull(Preprocess.plain(2).describe(2, 2));
        assertEquals("The image is 4 x 3 px; it was resized to 2 x 2 px (the model's input size) with antialiased bilinear resampling.",
                Preprocess.plain(2).describe(4, 3), "a resize is described");
    }
}
