package mae.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class NormalizationTest {
    @Test
    void perChannelMeanAndPopulationStd() {
        // 2 images, 2 channels, 1 x 2 pixels: channel 0 holds {0, 1, 1, 1}, channel 1 holds {0.2, 0.2, 0.6, 0.6}
        float[] px = {0, 1, 0.2f, 0.2f, 1, 1, 0.6f, 0.6f};
        Dataset d = new Dataset(px, new int[] {0, 0}, 2, 2, 1, 2, List.of("x"), "hand-made");
        Normalization n = Normalization.of(d);
        assertArrayEquals(new float[] {0.75f, 0.4f}, n.mean(), 1e-7f);
        assertArrayEquals(new float[] {(float) Math.sqrt(0.1875), 0.2f}, n.std(), 1e-7f);
    }

    @Test
    void metadataKeysComeInAFixedOrder() {
        Normalization n = new Normalization(new float[] {0.25f, 0.5f}, new float[] {1f, 2f});
        assertEquals(List.of("norm_mean", "norm_std"), List.copyOf(n.toMetadata().keySet()));
        assertEquals("0.25,0.5", n.toMetadata().get("norm_mean"));
        assertArrayEquals(n.std(), Normalization.fromMetadata(n.toMetadata()).std());
    }

    @Test
    void constantChannelCannotBeNormalized() {
        Dataset d = new Dataset(new float[] {0.3f, 0.3f}, new int[] {0}, 1, 1, 1, 2, List.of("x"), "flat");
        assertThrows(IllegalArgumentException.class, () -> Normalization.of(d));
        assertThrows(IllegalArgumentException.class, () -> new Normalization(new float[] {0}, new float[] {0}));
    }
}
