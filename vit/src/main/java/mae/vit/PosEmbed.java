package mae.vit;

import mae.tensor.Tensor;

/** Fixed 2D sin-cos position embeddings (MAE's util/pos_embed.py, written from the spec). */
public final class PosEmbed {
    private PosEmbed() {}

    /**
     * emb_1d(d, pos): for k in [0, d/2), w_k = 1 / 10000^(k / (d/2)); [sin(pos w) | cos(pos w)], two halves.
     * Computed in double, rounded once.
     */
    static void emb1d(float[] out, int off, int d, int pos) {
        int half = d / 2;
        for (int k = 0; k < half; k++) {
            double w = 1.0 / Math.pow(10000, (double) k / half);
            out[off + k] = (float) Math.sin(pos * w);
            out[off + half + k] = (float) Math.cos(pos * w);
        }
    }

    /**
     * (1 + g*g, D) when cls, else (g*g, D): cell (row i, col j) is [emb_1d(D/2, j) | emb_1d(D/2, i)] (the
     * column first); with cls, row 0 is zeros. Returned as (1, rows, D).
     */
    public static Tensor sincos2d(int D, int g, boolean cls) {
        if (D % 4 != 0) throw new IllegalArgumentException("sin-cos position embedding needs a width divisible by 4, got " + D);
        int rows = g * g + (cls ? 1 : 0);
        float[] e = new float[rows * D];
        for (int i = 0; i < g; i++)
            for (int j = 0; j < g; j++) {
                int r = (cls ? 1 : 0) + i * g + j;
                emb1d(e, r * D, D / 2, j);
                emb1d(e, r * D + D / 2, D / 2, i);
            }
        return Tensor.of(e, 1, rows, D);
    }
}
