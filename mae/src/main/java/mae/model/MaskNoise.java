package mae.model;

import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.kernels.Workspace;

/**
 * Masking strategies expressed as the noise that random masking sorts (small noise is kept), so that every
 * strategy goes through the same argsort/gather path as the paper's random masking:
 * <ul>
 *   <li>random: uniform noise (the paper's default).</li>
 *   <li>block: BEiT-style rectangles of patches (random sizes and aspect ratios) get noise in [1, 2) until they
 *       cover the removed count, so removed patches come in blobs.</li>
 *   <li>grid: keeps one patch of every s x s cell (s = round(1/sqrt(1 - ratio)), e.g. 2 for 75%), at a fixed
 *       offset per image, the regular pattern of the paper's Figure 6.</li>
 * </ul>
 */
public enum MaskNoise {
    RANDOM, BLOCK, GRID;

    public static MaskNoise parse(String s) {
        switch (s.toLowerCase()) {
            case "random": return RANDOM;
            case "block": return BLOCK;
            case "grid": return GRID;
            default: throw new IllegalArgumentException("--masking: unknown strategy '" + s + "' (expected random, block or grid)");
        }
    }

    /** Noise (N, g*g) for N images on a g x g patch grid at a mask ratio. */
    public Tensor noise(Rng rng, int N, int g, double ratio) {
        int L = g * g;
        float[] n = Workspace.floats(N * L);
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < L; j++) n[i * L + j] = rng.nextFloat();
            if (this == BLOCK) block(n, i * L, g, ratio, rng);
            else if (this == GRID) grid(n, i * L, g, ratio, rng);
        }
        return Tensor.of(n, N, L);
    }

    private static void block(float[] n, int off, int g, double ratio, Rng rng) {
        int L = g * g, target = L - (int) (L * (1 - ratio)), covered = 0;
        boolean[] in = new boolean[L];
        for (int attempt = 0; attempt < 100 && covered < target; attempt++) {
            double area = Math.max(1, (target - covered) * (0.3 + 0.7 * rng.nextDouble()));
            double aspect = Math.exp(Math.log(0.3) + rng.nextDouble() * (Math.log(1 / 0.3) - Math.log(0.3)));
            int h = (int) Math.max(1, Math.min(g, Math.round(Math.sqrt(area * aspect))));
            int w = (int) Math.max(1, Math.min(g, Math.round(Math.sqrt(area / aspect))));
            int top = rng.nextInt(g - h + 1), left = rng.nextInt(g - w + 1);
            for (int r = top; r < top + h; r++)
                for (int c = left; c < left + w; c++)
                    if (!in[r * g + c] && covered < target) { in[r * g + c] = true; covered++; }
        }
        for (int j = 0; j < L; j++) if (in[j]) n[off + j] += 1;
    }

    private static void grid(float[] n, int off, int g, double ratio, Rng rng) {
        int s = (int) Math.max(1, Math.round(1 / Math.sqrt(1 - ratio)));
        int dr = rng.nextInt(s), dc = rng.nextInt(s);
        for (int r = 0; r < g; r++)
            for (int c = 0; c < g; c++)
                if (r % s != dr || c % s != dc) n[off + r * g + c] += 1;
    }
}
