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
}
