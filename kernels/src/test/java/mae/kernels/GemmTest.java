package mae.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fast GEMM against the plain-loop reference, on awkward sizes and every transpose combination, with alpha 1
 * (row-major A is then read in place when N <= 256) and 0.75 (A always packed), across several KC, MC and NC blocks
 * and both threads' row ranges (N < 512) or column ranges (N >= 512).
 */
class GemmTest {
    static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Test void fast_matches_reference() {
        Random r = new Random(3);
        int[][] sizes = {{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {13, 17, 19}, {33, 65, 7}, {64, 48, 96}, {129, 31, 200},
                {7, 45, 530}, {97, 257, 33}, {200, 1030, 40}, {301, 70, 260}, {45, 517, 300}, {33, 600, 1030}};
        for (int[] s : sizes)
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int M = s[0], N = s[1], K = s[2];
                int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 1; // padded strides
                float[] A = rand(r, (ta ? K : M) * lda + 5), B = rand(r, (tb ? N : K) * ldb + 4);
                float[] C1 = rand(r, M * ldc + 2), C2 = C1.clone();
                float alpha = (t + s[0]) % 2 == 0 ? 1f : 0.75f, beta = t == 3 ? 0f : 0.5f;
                Gemm.ref(ta, tb, M, N, K, alpha, A, 5, lda, B, 4, ldb, beta, C1, 2, ldc);
                Gemm.gemm(ta, tb, M, N, K, alpha, A, 5, lda, B, 4, ldb, beta, C2, 2, ldc);
                for (int i = 0; i < C1.length; i++)
                    assertEquals(C1[i], C2[i], 1e-5f * (1 + Math.abs(C1[i])) * Math.sqrt(K),
                            "M=" + M + " N=" + N + " K=" + K + " ta=" + ta + " tb=" + tb + " at " + i);
            }
    }
}
