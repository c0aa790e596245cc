package mae.model;

import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class MaskNoiseTest {
    @Test void grid_masking_keeps_one_patch_per_cell_and_block_masking_removes_blobs() {
        Tensor n = MaskNoise.GRID.noise(new Rng(1), 3, 8, 0.75);
        float[] v = n.toArray();
        for (int i = 0; i < 3; i++) {
            int low = 0;
            for (int j = 0; j < 64; j++) if (v[i * 64 + j] < 1) low++;
            assertEquals(16, low, "one kept patch per 2x2 cell");
        }
        Tensor b = MaskNoise.BLOCK.noise(new Rng(2), 1, 14, 0.75);
        int high = 0;
        for (float f : b.toArray()) if (f >= 1) high++;
        assertTrue(high >= 0.6 * 147 && high <= 147, "block masking covers most of the removed count: " + high);
        assertThrows(IllegalArgumentException.class, () -> MaskNoise.parse("spiral"));
    }
}
