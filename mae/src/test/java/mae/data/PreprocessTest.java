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
}
