package mae.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Attention's small-product kernel against a plain triple loop: every row-group remainder (8-row groups where vectors
 * hold 16 floats, of one vector or of pairs, then 4-row ones), vector tail and mode,
 * with a row-major and with a transposed a (read in place down its columns, as the backward pass reads P and dS).
 */
class AttentionPanelTest {
    @Test void panel_matches_the_plain_product_for_awkward_shapes_offsets_strides_and_modes() {
        Random r = new Random(7);
        int L = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        int[] widths = {1, L - 1, L, L + 3, 2 * L, 2 * L + 1, 3 * L, 3 * L + L / 2, 5 * L - 1};
        for (int rows : new int[]{1, 2, 3, 4, 5, 7, 8, 13, 17})
            for (int W : widths)
                for (int K : new int[]{1, 5, 32})
                    for (int mode = 0; mode < 4; mode++) {
                        boolean add = mode % 2 == 1, transposed = mode >= 2;
                        int ao = r.nextInt(5), bo = r.nextInt(5), co = r.nextInt(5);
                        int lda = (transposed ? rows : K) + r.nextInt(3), ldb = W + r.nextInt(3), ldc = W + r.nextInt(3);
                        int ars = transposed ? 1 : lda, aks = transposed ? lda : 1;     // a (rows, K), or stored (K, lda) as its transpose
                        float[] a = rand(r, ao + (transposed ? K : rows) * lda), b = rand(r, bo + K * ldb), c = rand(r, co + rows * ldc + 2);
                        float[] want = c.clone();
                        for (int i = 0; i < rows; i++)
                            for (int w = 0; w < W; w++) {
                                double s = 0;
                                for (int k = 0; k < K; k++) s += (double) a[ao + i * ars + k * aks] * b[bo + k * ldb + w];
                                want[co + i * ldc + w] = (float) ((add ? want[co + i * ldc + w] : 0) + s);
                            }
                        Attention.panel(rows, W, K, a, ao, ars, aks, b, bo, ldb, c, co, ldc, add);
                        String at = "rows " + rows + ", W " + W + ", K " + K + ", add " + add + ", transposed a " + transposed;
                        for (int x = 0; x < c.length; x++)
                            assertEquals(want[x], c[x], 1e-4f * (1 + Math.abs(want[x])) * Math.max(1, K / 8f), at + ", element " + x);
                    }
    }

    private static float[] rand(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }
}
