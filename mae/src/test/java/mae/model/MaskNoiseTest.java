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

    /** Per image: the patches marked (noise >= 1), rows and columns touched, and 4-connected components. */
    static int[] stats(float[] v, int off, int g) {
        boolean[] m = new boolean[g * g];
        int count = 0;
        boolean[] rows = new boolean[g], cols = new boolean[g];
        for (int j = 0; j < g * g; j++)
            if (v[off + j] >= 1) { m[j] = true; count++; rows[j / g] = true; cols[j % g] = true; }
        int r = 0, c = 0, comps = 0;
        for (int i = 0; i < g; i++) { r += rows[i] ? 1 : 0; c += cols[i] ? 1 : 0; }
        boolean[] seen = new boolean[g * g];
        for (int j = 0; j < g * g; j++) {
            if (!m[j] || seen[j]) continue;
            comps++;
            java.util.ArrayDeque<Integer> q = new java.util.ArrayDeque<>(java.util.List.of(j));
            seen[j] = true;
            while (!q.isEmpty()) {
                int k = q.pop(), y = k / g, x = k % g;
                int[][] nb = {{y - 1, x}, {y + 1, x}, {y, x - 1}, {y, x + 1}};
                for (int[] n : nb)
                    if (n[0] >= 0 && n[0] < g && n[1] >= 0 && n[1] < g && m[n[0] * g + n[1]] && !seen[n[0] * g + n[1]]) { seen[n[0] * g + n[1]] = true; q.push(n[0] * g + n[1]); }
            }
        }
        return new int[]{count, r, c, comps};
    }

    /**
     * Block masking (BEiT): exactly the removed count L - int(L (1 - ratio)) of patches marked, in a few
     * rectangles whose aspect ratio is log-uniform in [0.3, 1 / 0.3]: as often wide as tall, rarely square-only.
     */
    @Test void block_masking_marks_exactly_the_removed_count_in_a_few_rectangles() {
        Rng rng = new Rng(9);
        for (int[] gr : new int[][]{{14, 75}, {14, 40}, {7, 50}, {4, 75}}) {
            int g = gr[0], L = g * g, target = L - (int) (L * (1 - gr[1] / 100.0));
            float[] v = MaskNoise.BLOCK.noise(rng, 50, g, gr[1] / 100.0).toArray();
            for (int i = 0; i < 50; i++) {
                int[] s = stats(v, i * L, g);
                assertEquals(target, s[0], "g " + g + " ratio " + gr[1] + "%, image " + i);
                for (int j = 0; j < L; j++) assertTrue(v[i * L + j] >= 0 && v[i * L + j] < 2, "noise in [0, 2)");
            }
        }
        // shapes: 2000 images of a 14 x 14 grid with 20 patches to mask
        int n = 2000, g = 14, L = 196;
        float[] v = MaskNoise.BLOCK.noise(rng, n, g, 0.1).toArray();
        double diff = 0, absDiff = 0, comps = 0;
        for (int i = 0; i < n; i++) {
            int[] s = stats(v, i * L, g);
            diff += (double) (s[1] - s[2]) / n;
            absDiff += (double) Math.abs(s[1] - s[2]) / n;
            comps += (double) s[3] / n;
        }
        // measured here: -0.03, 2.12, 2.84 (seeded, so exact); the bands are a few standard errors wide
        assertEquals(0, diff, 0.3, "as many rows as columns touched on average: the aspect ratios are symmetric in log");
        assertTrue(absDiff > 1.7 && absDiff < 2.6, "rectangles of varied aspect, not squares: mean |rows - columns| " + absDiff);
        assertTrue(comps > 2.4 && comps < 3.3, "each rectangle 30-100% of what is left to mask: mean blobs " + comps);
    }

    /** Random masking's noise: uniform draws in [0, 1), a fresh one for every patch of every image. */
    @Test void random_noise_is_uniform_per_patch() {
        float[] v = MaskNoise.RANDOM.noise(new Rng(3), 40, 5, 0.75).toArray();
        assertEquals(40 * 25, v.length);
        double mean = 0;
        java.util.Set<Float> distinct = new java.util.HashSet<>();
        for (float f : v) { assertTrue(f >= 0 && f < 1, "in [0, 1): " + f); mean += f / v.length; distinct.add(f); }
        assertEquals(0.5, mean, 0.03);
        assertTrue(distinct.size() > 990, "distinct draws: " + distinct.size());
    }
}
