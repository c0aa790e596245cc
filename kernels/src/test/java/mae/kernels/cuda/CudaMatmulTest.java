package mae.kernels.cuda;

import mae.kernels.Gemm;
import mae.kernels.cuda.CudaKernels.Precision;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Our matmul (FP32 SIMT; TF32 and BF16 tensor cores, v3's cp.async pipeline and v2) against Gemm.ref (double
 * accumulation) and JCublas.
 *
 * <p>Tolerances. Rounding an input to a format with unit roundoff u gives it a relative error |d| <= u:
 * u = 2^-11 for TF32 (10 stored mantissa bits, round to nearest), 2^-8 for BF16 (7 bits), 2^-24 for FP32.
 * A product a*b then errs by a b (da + db), of variance 2u^2/3 a^2 b^2 for uniform d; summed over K independent
 * terms the error is a random walk of standard deviation u sqrt(2K/3) sa sb (sa, sb the inputs' rms), i.e.
 * "relative error ~ u sqrt(K)" against the result's own scale sqrt(K) sa sb. The maximum over up to 1e5 outputs
 * stays within 5 standard deviations, so we allow 6 u sqrt(K) sa sb (+ |beta C| u32 for the epilogue).
 * FP32 accumulation adds about K 2^-24 relative at worst, below the TF32 and BF16 terms for K < 10^4.
 * With small-integer inputs every product and partial sum is exact in all three formats (|values| <= 4 are exact
 * in BF16, |sums| < 2^24), so there the result must be exact: that isolates layout and indexing bugs.
 */
class CudaMatmulTest extends CudaTestBase {
    static final int[][] SIZES = {{1, 1, 1}, {1, 17, 33}, {7, 5, 3}, {65, 129, 31}, {128, 128, 16}, {130, 250, 77},
            {257, 63, 513}, {300, 200, 1000}, {33, 16, 0}};

    static double unitRoundoff(Precision p) {
        switch (p) {
            case TF32: return Math.scalb(1.0, -11);
            case BF16: return Math.scalb(1.0, -8);
            default: return Math.scalb(1.0, -24);
        }
    }

    static double tolerance(Precision p, int K) {
        double fp32Accumulate = K * Math.scalb(1.0, -24);
        return (p == Precision.FP32 ? 6 * fp32Accumulate : 6 * unitRoundoff(p) * Math.sqrt(K) + fp32Accumulate) + 1e-6;
    }

    /** A (M, K) or its transpose, stored with a padded leading dimension (ld = natural + pad). */
    static int ld(boolean trans, int rows, int cols, int pad) { return (trans ? rows : cols) + pad; }

    static float[] operand(Random r, boolean integers, int n) { return integers ? ints(r, n, -4, 4) : gaussian(r, n, 1); }

    @Test void every_layout_and_precision_matches_the_reference() {
        Random r = new Random(21);
        for (int[] s : SIZES)
            for (boolean ta : new boolean[]{false, true})
                for (boolean tb : new boolean[]{false, true})
                    for (boolean integers : new boolean[]{true, false})
                        check(r, s[0], s[1], s[2], ta, tb, integers, 1);
    }

    @Test void batched_with_strides_and_padding() {
        Random r = new Random(22);
        check(r, 50, 50, 64, false, true, false, 3);    // attention scores q k^T, (BH, T, hd)
        check(r, 50, 64, 50, false, false, false, 3);   // P v
        check(r, 197, 32, 197, true, false, true, 2);
    }

    private void check(Random r, int M, int N, int K, boolean ta, boolean tb, boolean integers, int batch) {
        int pad = 3;
        int lda = ld(ta, M, K, pad), ldb = ld(tb, K, N, pad), ldc = N + pad;
        long rowsA = ta ? K : M, rowsB = tb ? N : K;
        long strideA = rowsA * lda + 5, strideB = rowsB * ldb + 7, strideC = (long) M * ldc + 11;   // gaps between
        float[] A = operand(r, integers, (int) (strideA * batch)), B = operand(r, integers, (int) (strideB * batch));
        float[] C0 = operand(r, integers, (int) (strideC * batch));
        float alpha = integers ? 2f : 0.7f, beta = integers ? -1f : 0.3f;
        float[] ref = C0.clone();
        for (int b = 0; b < batch; b++)
            Gemm.ref(ta, tb, M, N, K, alpha, A, (int) (b * strideA), lda, B, (int) (b * strideB), ldb,
                    beta, ref, (int) (b * strideC), ldc);
        DeviceBuffer dA = dev(A), dB = dev(B);
        for (String v : VERSIONS) {
            Precision p = precision(v);
            DeviceBuffer dC = dev(C0);
            run(v, () -> CudaKernels.matmul(ta, tb, M, N, K, alpha, dA.ptr(), lda, strideA, dB.ptr(), ldb, strideB,
                    beta, dC.ptr(), ldc, strideC, batch, p));
            float[] got = dC.toFloats();
            String what = String.format("matmul %s M=%d N=%d K=%d transA=%b transB=%b batch=%d %s", v, M, N, K, ta, tb,
                    batch, integers ? "integers" : "gaussian");
            if (integers) assertExact(what, ref, got);
            else assertClose(what, ref, got, Math.abs(alpha) * tolerance(p, K), 2 * Math.scalb(1.0, -24));
            // the gaps between batch entries and the padding columns are untouched
            for (int b = 0; b < batch; b++)
                for (int m = 0; m < M; m++)
                    for (int c = N; c < ldc; c++) {
                        int i = (int) (b * strideC) + m * ldc + c;
                        assertEquals(C0[i], got[i], what + ": padding at row " + m + " col " + c + " was written");
                    }
        }
    }

    /** Every kernel version: v1 (FP32), and v3 (pipe, where the device allows it) and v2 for TF32 and BF16. */
    static final String[] VERSIONS = {"FP32", "TF32 v3", "TF32 v2", "BF16 v3", "BF16 v2"};

    static Precision precision(String version) { return Precision.valueOf(version.split(" ")[0]); }

    /** Runs a matmul call with the version's kernel: v2 by the test hook, else the launcher's choice. */
    static void run(String version, Runnable call) {
        CudaKernels.matmulPipe = !version.endsWith("v2");
        try { call.run(); } finally { CudaKernels.matmulPipe = true; }
    }

    @Test void beta_zero_ignores_nan_in_c() {
        Random r = new Random(23);
        int M = 37, N = 41, K = 19;
        float[] A = gaussian(r, M * K, 1), B = gaussian(r, K * N, 1), C = new float[M * N], ref = new float[M * N];
        java.util.Arrays.fill(C, Float.NaN);
        Gemm.ref(false, false, M, N, K, 1f, A, 0, K, B, 0, N, 0f, ref, 0, N);
        for (String v : VERSIONS) {
            Precision p = precision(v);
            DeviceBuffer dC = dev(C);
            run(v, () -> CudaKernels.matmul(false, false, M, N, K, 1f, dev(A).ptr(), K, dev(B).ptr(), N, 0f, dC.ptr(), N, p));
            assertClose("beta 0 " + v, ref, dC.toFloats(), tolerance(p, K), 0);
        }
    }

    @Test void agrees_with_cublas_at_vit_shapes() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Cublas.available(), Cublas.reason());
        Random r = new Random(24);
        // (M, N, K, transA, transB): qkv projection, fc2, and the weight gradient (dW = dY^T X)
        int[][] cases = {{400, 2304, 768, 0, 1}, {400, 768, 3072, 0, 1}, {768, 768, 400, 1, 0}, {250, 96, 257, 0, 0}};
        for (int[] c : cases) {
            int M = c[0], N = c[1], K = c[2];
            boolean ta = c[3] == 1, tb = c[4] == 1;
            int lda = ta ? M : K, ldb = tb ? K : N;
            float[] A = gaussian(r, M * K, 1), B = gaussian(r, K * N, 1), ref = new float[M * N];
            Gemm.ref(ta, tb, M, N, K, 1f, A, 0, lda, B, 0, ldb, 0f, ref, 0, N);
            DeviceBuffer dA = dev(A), dB = dev(B);
            for (String v : VERSIONS) {
                Precision p = precision(v);
                DeviceBuffer ours = devZeros((long) M * N), theirs = devZeros((long) M * N);
                run(v, () -> CudaKernels.matmul(ta, tb, M, N, K, 1f, dA.ptr(), lda, 0, dB.ptr(), ldb, 0, 0f, ours.ptr(), N, 0, 1, p));
                Cublas.gemm(ta, tb, M, N, K, 1f, dA.ptr(), lda, 0, dB.ptr(), ldb, 0, 0f, theirs.ptr(), N, 0, 1, p);
                String what = String.format("M=%d N=%d K=%d transA=%b transB=%b %s", M, N, K, ta, tb, v);
                // Both within the bound of the double reference; cuBLAS FP32 is also our FP32 kernel's twin.
                assertClose("ours " + what, ref, ours.toFloats(), tolerance(p, K), 0);
                assertClose("cuBLAS " + what, ref, theirs.toFloats(), tolerance(p, K), 0);
            }
        }
    }

    @Test void bad_leading_dimension_is_rejected_with_the_shapes() {
        DeviceBuffer a = devZeros(16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaKernels.matmul(
                false, false, 4, 4, 4, 1f, a.ptr(), 3, a.ptr(), 4, 0f, a.ptr(), 4, Precision.TF32));
        assertTrue(e.getMessage().contains("lda 3"), e.getMessage());
    }
}
