package mae.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class KernelsTest {
    @Test void erf_matches_tabulated_values() {
        // Abramowitz & Stegun, table 7.1, and erf(3), erf(4) from the complementary function.
        double[][] t = {{0, 0}, {0.1, 0.1124629160}, {0.5, 0.5204998778}, {1, 0.8427007929}, {1.5, 0.9661051465},
                {2, 0.9953222650}, {2.5, 0.9995930480}, {3, 0.9999779095}, {4, 0.9999999846}};
        for (double[] p : t) {
            assertEquals(p[1], Erf.erf(p[0]), 1e-9, "erf(" + p[0] + ")");
            assertEquals(-p[1], Erf.erf(-p[0]), 1e-9, "erf(-" + p[0] + ")");
        }
        // Continuity where the method switches (2.5); small x: value from Python math.erf.
        assertEquals(Erf.erf(2.5 - 1e-12), Erf.erf(2.5), 1e-11);
        assertEquals(1.1283791633342487e-4, Erf.erf(1e-4), 1e-18, "small x keeps relative precision");
    }

    @Test void attention_matches_explicit_softmax() {
        Random r = new Random(1);
        int BH = 3, T = 5, hd = 7;
        float[] q = new float[BH * T * hd], k = q.clone(), v = q.clone();
        for (int i = 0; i < q.length; i++) { q[i] = (float) r.nextGaussian(); k[i] = (float) r.nextGaussian(); v[i] = (float) r.nextGaussian(); }
        float scale = 0.4f;
        float[] out = new float[q.length], lse = new float[BH * T];
        Attention.forward(out, lse, q, k, v, BH, T, hd, scale);
        for (int b = 0; b < BH; b++)
            for (int i = 0; i < T; i++) {
                double[] s = new double[T];
                double sum = 0;
                for (int j = 0; j < T; j++) {
                    double d = 0;
                    for (int c = 0; c < hd; c++) d += q[(b * T + i) * hd + c] * k[(b * T + j) * hd + c];
                    s[j] = Math.exp(scale * d);
                    sum += s[j];
                }
                assertEquals(Math.log(sum), lse[b * T + i], 1e-5);
                for (int c = 0; c < hd; c++) {
                    double o = 0;
                    for (int j = 0; j < T; j++) o += s[j] / sum * v[(b * T + j) * hd + c];
                    assertEquals(o, out[(b * T + i) * hd + c], 1e-5);
                }
            }
    }

    @Test void argsort_is_stable_and_orders_signed_values() {
        float[] x = {0.5f, -1f, 0.5f, -0f, 0f, -2.5f, Float.NaN, 3f};
        int[] out = new int[x.length];
        Gather.argsortRows(out, x, 0, 1, x.length);
        assertArrayEquals(new int[]{5, 1, 3, 4, 0, 2, 7, 6}, out);
    }

    @Test void gather_rejects_out_of_range_index() {
        float[] x = new float[6];
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> Gather.gather(new float[2], x, 0, new int[]{3}, 1, 3, 1, 2, 1));
        assertTrue(e.getMessage().contains("3"));
    }

    /** The fast GELU (A&S erf, vectorized) against the double-precision reference, odd length for the tail. */
    @Test void fast_gelu_matches_reference() {
        Random r = new Random(4);
        int n = 10_007;
        float[] x = new float[n], dout = new float[n];
        for (int i = 0; i < n; i++) { x[i] = (float) (r.nextGaussian() * 3); dout[i] = (float) r.nextGaussian(); }
        x[0] = 0; x[1] = -0f; x[2] = 9; x[3] = -9; x[4] = 1e-6f;
        float[] a = new float[n], b = new float[n], da = new float[n], db = new float[n];
        java.util.Arrays.fill(da, Float.NaN);                   // backward writes dx, whatever it held
        java.util.Arrays.fill(db, Float.NaN);
        Gelu.forwardRef(a, x, n);
        Gelu.forward(b, x, n);
        Gelu.backwardRef(da, dout, x, n);
        Gelu.backward(db, dout, x, n);
        for (int i = 0; i < n; i++) {
            // A&S 7.1.26: |erf error| < 1.5e-7, so |GELU error| < 0.5 |x| 1.5e-7 plus float rounding.
            assertEquals(a[i], b[i], 2e-7 * (1 + Math.abs(x[i])), "gelu(" + x[i] + ")");
            assertEquals(da[i], db[i], 4e-7 * (1 + Math.abs(x[i])) * (1 + Math.abs(dout[i])), "gelu'(" + x[i] + ")");
        }
    }

    /**
     * Attention's per-thread scratch is kept from call to call (smaller calls get the same arrays, larger ones regrow
     * them), and nothing a call reads from it is left over from the one before: every array filled with NaN first,
     * a forward and a backward still match the plain loops (a NaN read anywhere would reach the outputs or, through
     * the scores' padding, be masked only where the kernel masks).
     */
    @Test void attention_reuses_its_scratch_and_reads_nothing_left_in_it() {
        float[][] w = Attention.scratch(10, 20);
        float[] w0 = w[0], w1 = w[1];
        assertSame(w0, Attention.scratch(5, 20)[0], "a smaller call gets the same array");
        float[][] grown = Attention.scratch(w0.length + 1, 20);
        assertTrue(grown[0].length > w0.length, "a larger call regrows it");
        assertSame(w1, grown[1], "the others stay");
        Random r = new Random(5);
        int L = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        for (int[] sz : new int[][]{{3, 2 * L + 3, 16}, {2, 37, 24}, {2, L + 1, 8}})
            Parallel.splitAs(1, () -> attentionMatchesReference(r, sz, () -> {
                for (float[] a : Attention.scratch(40 * 64, 40 * 64, 64 * 64, 64 * 64, 64 * 64, 64 * 64, 64 * 64, 64 * 64, 64 * 64, 64 * 64))
                    java.util.Arrays.fill(a, Float.NaN);
            }));
    }

    /** Fast attention forward and backward against the plain loops, at awkward sizes. */
    @Test void fast_attention_matches_reference() {
        Random r = new Random(9);
        int L = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();    // T of one vector (rows of one masked vector), 2L - 1 and 2L (padded stride edges)
        int[][] sizes = {{1, 1, 1}, {3, 5, 7}, {2, 13, 64}, {4, 50, 32}, {1, 17, 80}, {3, 33, 16}, {5, 70, 64}, // T 33, 70: several query tiles
                {2, L, 8}, {2, 2 * L - 1, 8}, {1, 2 * L, 8},
                // T 3 (one group of fewer than 4 rows); T L + 1 and 2L + 1 (one lane past whole vectors); head dims
                // past whole vectors (a pair, then a masked last vector: 2L + 3; L + 5; 3L - 1)
                {3, 3, 2 * L + 3}, {2, L + 1, L + 5}, {1, 2 * L + 1, 3 * L - 1}};
        for (int[] sz : sizes) attentionMatchesReference(r, sz, () -> {});
    }

    /** Fast attention forward and backward on random (BH, T, hd) = sz against the plain loops; before runs ahead of each fast call. */
    private static void attentionMatchesReference(Random r, int[] sz, Runnable before) {
        int BH = sz[0], T = sz[1], hd = sz[2], n = BH * T * hd;
        String what = java.util.Arrays.toString(sz);
        float[] q = gaussian(r, n), k = gaussian(r, n), v = gaussian(r, n), dout = gaussian(r, n);
        float scale = (float) Math.pow(hd, -0.5);
        float[] o1 = new float[n], o2 = new float[n], l1 = new float[BH * T], l2 = new float[BH * T];
        Attention.forwardRef(o1, l1, q, k, v, BH, T, hd, scale);
        before.run();
        Attention.forward(o2, l2, q, k, v, BH, T, hd, scale);
        assertClose(o1, o2, 1e-5, "out " + what);
        assertClose(l1, l2, 1e-5, "lse " + what);
        float[][] g1 = {new float[n], new float[n], new float[n]}, g2 = {new float[n], new float[n], new float[n]};
        Attention.backwardRef(g1[0], g1[1], g1[2], dout, q, k, v, o1, l1, BH, T, hd, scale);
        before.run();
        Attention.backward(g2[0], g2[1], g2[2], dout, q, k, v, o1, l1, BH, T, hd, scale);
        for (int g = 0; g < 3; g++) assertClose(g1[g], g2[g], 1e-4, "grad " + g + " " + what);
    }

    /**
     * Attention on the heads of a fused qkv (B, T, 3, H, hd), read in place, against the plain loops on the heads
     * copied out into (B H, T, hd) arrays: out and dout in (B, T, H, hd), the gradient into one (B, T, 3, H, hd)
     * array that holds NaN before the call (the kernel writes it whole). Both kernel modes; awkward sizes as above.
     */
    @Test void attention_on_heads_in_place_matches_the_reference_on_copied_heads() {
        Random r = new Random(21);
        int L = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        int[][] sizes = {{2, 3, 13, 64}, {3, 4, 50, 32}, {1, 1, 1, 1}, {2, 2, 33, 17}, {1, 3, L + 1, L + 5}, {2, 1, 70, 8}};
        for (boolean ref : new boolean[]{false, true}) {
            boolean was = KernelMode.setReference(ref);
            try {
                for (int[] sz : sizes) {
                    int B = sz[0], H = sz[1], T = sz[2], hd = sz[3], D = H * hd, n = B * T * D;
                    String what = (ref ? "reference " : "fast ") + java.util.Arrays.toString(sz);
                    float[] qkv = gaussian(r, 3 * n), douth = gaussian(r, n), dqkv = new float[3 * n];
                    java.util.Arrays.fill(dqkv, Float.NaN);                                   // written, not added to: nothing of it is read
                    float[][] x = new float[3][n];                                            // q, k, v copied out: (B H, T, hd)
                    float[] dout = new float[n];
                    for (int b = 0; b < B; b++)
                        for (int t = 0; t < T; t++)
                            for (int h = 0; h < H; h++)
                                for (int d = 0; d < hd; d++) {
                                    int heads = ((b * H + h) * T + t) * hd + d, row = (b * T + t) * D + h * hd + d;
                                    for (int part = 0; part < 3; part++) x[part][heads] = qkv[(b * T + t) * 3 * D + part * D + h * hd + d];
                                    dout[heads] = douth[row];
                                }
                    float scale = (float) Math.pow(hd, -0.5);
                    float[] o1 = new float[n], l1 = new float[B * H * T], o2 = new float[n], l2 = new float[B * H * T];
                    Attention.forwardRef(o1, l1, x[0], x[1], x[2], B * H, T, hd, scale);
                    Attention.forwardHeads(o2, l2, qkv, B, H, T, hd, scale);
                    assertClose(l1, l2, 1e-5, "lse " + what);
                    float[][] g = {new float[n], new float[n], new float[n]};
                    Attention.backwardRef(g[0], g[1], g[2], dout, x[0], x[1], x[2], o1, l1, B * H, T, hd, scale);
                    float[] o1h = new float[n];
                    for (int b = 0; b < B; b++)
                        for (int t = 0; t < T; t++)
                            for (int h = 0; h < H; h++)
                                for (int d = 0; d < hd; d++) o1h[(b * T + t) * D + h * hd + d] = o1[((b * H + h) * T + t) * hd + d];
                    assertClose(o1h, o2, 1e-5, "out " + what);
                    Attention.backwardHeads(dqkv, douth, qkv, o1h, l1, B, H, T, hd, scale);
                    float[] want = new float[3 * n];
                    for (int b = 0; b < B; b++)
                        for (int t = 0; t < T; t++)
                            for (int h = 0; h < H; h++)
                                for (int d = 0; d < hd; d++)
                                    for (int part = 0; part < 3; part++)
                                        want[(b * T + t) * 3 * D + part * D + h * hd + d] += g[part][((b * H + h) * T + t) * hd + d];
                    assertClose(want, dqkv, 1e-4, "dqkv " + what);
                }
            } finally {
                KernelMode.setReference(was);
            }
        }
    }

    private static float[] gaussian(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    /** |a - b| <= tol * (1 + max|a|) elementwise. */
    static void assertClose(float[] a, float[] b, double tol, String what) {
        double m = 0;
        for (float x : a) m = Math.max(m, Math.abs(x));
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], tol * (1 + m), what + " at " + i);
    }

    @Test void fast_sum_matches_reference() {
        Random r = new Random(11);
        int[][] sizes = {{1, 1, 1}, {3, 7, 1}, {1, 6400, 129}, {5, 3, 17}, {2, 1000, 1}};
        for (int[] sz : sizes) {
            float[] x = new float[sz[0] * sz[1] * sz[2] + 3];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            float[] a = new float[sz[0] * sz[2]], b = new float[sz[0] * sz[2]];
            Reduce.sumRef(a, x, 3, sz[0], sz[1], sz[2]);
            Reduce.sum(b, x, 3, sz[0], sz[1], sz[2]);
            // float accumulation of n terms: error ~ sqrt(n) * 6e-8 * sum|x|; 1e-6 * n bounds it loosely.
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-6 * sz[1] + 1e-6, java.util.Arrays.toString(sz) + " at " + i);
        }
    }

    static float[] gaussian(Random r, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * scale);
        return x;
    }

    /** Layer norm: fast (vector lanes, rows over threads) against the one-thread double reference, at awkward sizes. */
    @Test void fast_layer_norm_matches_reference() {
        Random r = new Random(13);
        int[][] sizes = {{1, 1}, {3, 7}, {65, 33}, {129, 192}, {1664, 129}, {70, 768}};   // 1664 rows: every thread gets rows
        for (int[] sz : sizes) {
            int rows = sz[0], C = sz[1], n = rows * C;
            float[] x = gaussian(r, n, 2), w = gaussian(r, C, 1), b = gaussian(r, C, 1), dout = gaussian(r, n, 1);
            float[] o1 = new float[n], o2 = new float[n], m1 = new float[rows], m2 = new float[rows], s1 = new float[rows], s2 = new float[rows];
            LayerNorm.forwardRef(o1, m1, s1, x, w, b, rows, C, 1e-6f);
            LayerNorm.forward(o2, m2, s2, x, w, b, rows, C, 1e-6f);
            String at = java.util.Arrays.toString(sz);
            // float lane sums against double sums over rows of C: a few ulp of the normalized values
            assertClose(o1, o2, 2e-6, "forward " + at);
            assertClose(m1, m2, 1e-6, "mean " + at);
            for (int row = 0; row < rows; row++) assertEquals(s1[row], s2[row], 1e-5 * s1[row], "rstd " + at + " row " + row);
            float[] dx1 = new float[n], dx2 = new float[n], dw1 = new float[C], dw2 = new float[C], db1 = new float[C], db2 = new float[C];
            java.util.Arrays.fill(dx1, Float.NaN);              // dx is written, whatever it held (dw, db are added to)
            java.util.Arrays.fill(dx2, Float.NaN);
            LayerNorm.backwardRef(dx1, dw1, db1, dout, x, w, m1, s1, rows, C);
            LayerNorm.backward(dx2, dw2, db2, dout, x, w, m1, s1, rows, C);
            assertClose(dx1, dx2, 1e-5, "dx " + at);
            // dw, db: float sums over rows per thread against double sums, ~ sqrt(rows) ulp-level terms
            assertClose(dw1, dw2, 1e-6 * rows, "dw " + at);
            assertClose(db1, db2, 1e-6 * rows, "db " + at);
        }
    }

    /** Softmax: fast (rows over threads) and reference compute each row alike: equal bits. */
    @Test void fast_softmax_matches_reference() {
        Random r = new Random(14);
        int[][] sizes = {{1, 1}, {5, 3}, {2, 10_007}, {700, 97}};   // 700 x 97: several threads' rows
        for (int[] sz : sizes) {
            int rows = sz[0], cols = sz[1], n = rows * cols;
            float[] x = gaussian(r, n, 4), dy = gaussian(r, n, 1);
            float[] y1 = new float[n], y2 = new float[n], d1 = new float[n], d2 = new float[n];
            Softmax.forwardRef(y1, x, rows, cols);
            Softmax.forward(y2, x, rows, cols);
            assertArrayEquals(y1, y2, "forward " + java.util.Arrays.toString(sz));
            Softmax.backwardRef(d1, dy, y1, rows, cols);
            Softmax.backward(d2, dy, y1, rows, cols);
            assertArrayEquals(d1, d2, "backward " + java.util.Arrays.toString(sz));
        }
    }

    /** AdamW: fast (elements over threads) and reference run the same loop on each element: equal bits. */
    @Test void fast_adamw_matches_reference() {
        Random r = new Random(15);
        for (int n : new int[]{1, 17, 100_003}) {
            float[] p1 = gaussian(r, n + 5, 1), g = gaussian(r, n + 5, 1), m1 = gaussian(r, n + 5, 0.1), v1 = new float[n + 5];
            for (int i = 0; i < v1.length; i++) v1[i] = Math.abs(g[i]) * 0.01f;
            float[] p2 = p1.clone(), m2 = m1.clone(), v2 = v1.clone();
            for (long t = 1; t <= 3; t++) {
                AdamW.stepRef(p1, g, m1, v1, 5, n, t, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.05f);
                AdamW.step(p2, g, m2, v2, 5, n, t, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.05f);
            }
            assertArrayEquals(p1, p2, "p, n " + n);
            assertArrayEquals(m1, m2, "m, n " + n);
            assertArrayEquals(v1, v2, "v, n " + n);
        }
    }

    /** Contiguous binary ops split over the threads give each element the same bits as op.apply, at and past every chunk edge. */
    @Test void split_binary_ops_match_apply_element_by_element() {
        Random r = new Random(16);
        int n = 2 * Elementwise.PARALLEL_MIN + 37;
        float[] a = gaussian(r, n + 3, 2), b = gaussian(r, n + 5, 2), out = new float[n + 1];
        for (Elementwise.Binary op : Elementwise.Binary.values()) {
            java.util.Arrays.fill(out, Float.NaN);
            Elementwise.binary(op, out, 1, new int[]{n}, a, 3, new int[]{1}, b, 5, new int[]{1});
            assertTrue(Float.isNaN(out[0]), op + ": nothing written before the output's offset");
            for (int i = 0; i < n; i++)
                assertEquals(Float.floatToIntBits(op.apply(a[3 + i], b[5 + i])), Float.floatToIntBits(out[1 + i]), op + " at " + i);
        }
    }

    @Test void vector_exp_matches_math_exp() {
        jdk.incubator.vector.VectorSpecies<Float> S = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        float[] x = new float[S.length()], y = new float[S.length()];
        Random r = new Random(12);
        for (int rep = 0; rep < 2000; rep++) {
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 170 - 86);
            x[0] = 0; x[1] = -0.5f * 9 * 9;
            Vec.exp(jdk.incubator.vector.FloatVector.fromArray(S, x, 0)).intoArray(y, 0);
            for (int i = 0; i < x.length; i++) {
                double want = Math.exp(x[i]);
                assertEquals(want, y[i], 3e-7 * want, "exp(" + x[i] + ")");
            }
        }
    }
}
