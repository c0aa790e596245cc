package mae.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision matrix multiply on row-major buffers:
 * {@code C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * C}, where op(X) is X or X^T.
 * A is stored (M, K) with row stride lda, or (K, M) when transA; B is (K, N) with stride ldb, or (N, K) when transB.
 *
 * <p>{@link #ref} is the plain-loop reference and test oracle; {@link #gemm} is the fast path (Vector API,
 * several threads), checked against the reference in tests.
 */
public final class Gemm {
    private Gemm() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Fast path on unless -Dmae.gemm=ref. */
    static final boolean FAST = !"ref".equals(System.getProperty("mae.gemm"));

    /** Plain triple loop: the definition. Accumulates in double so that it can serve as an oracle. */
    public static void ref(boolean transA, boolean transB, int M, int N, int K, float alpha,
                           float[] A, int aOff, int lda, float[] B, int bOff, int ldb,
                           float beta, float[] C, int cOff, int ldc) {
        for (int m = 0; m < M; m++) {
            for (int n = 0; n < N; n++) {
                double acc = 0;
                for (int k = 0; k < K; k++) {
                    float a = transA ? A[aOff + k * lda + m] : A[aOff + m * lda + k];
                    float b = transB ? B[bOff + n * ldb + k] : B[bOff + k * ldb + n];
                    acc += (double) a * b;
                }
                int c = cOff + m * ldc + n;
                C[c] = (float) (alpha * acc + (beta == 0 ? 0 : beta * C[c]));
            }
        }
    }

    /** Same contract as {@link #ref}; dispatches to the fast kernel unless disabled. */
    public static void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha,
                            float[] A, int aOff, int lda, float[] B, int bOff, int ldb,
                            float beta, float[] C, int cOff, int ldc) {
        if (!FAST) { ref(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc); return; }
        // Bring both operands to the canonical layout A (M, K), B (K, N) so the inner loop is a contiguous axpy.
        float[] a = A; int ao = aOff, la = lda;
        if (transA) { a = transpose(A, aOff, lda, K, M); ao = 0; la = K; }
        float[] b = B; int bo = bOff, lb = ldb;
        if (transB) { b = transpose(B, bOff, ldb, N, K); bo = 0; lb = N; }
        final float[] fa = a, fb = b; final int fao = ao, fla = la, fbo = bo, flb = lb;
        long work = (long) M * N * K;
        Parallel.forRange(M, work < 1 << 16 ? M : 8, (m0, m1) ->
                rowsAxpy(m0, m1, N, K, alpha, fa, fao, fla, fb, fbo, flb, beta, C, cOff, ldc));
    }

    /** Rows m0..m1 of C: for each k, C[m, :] += alpha * A[m, k] * B[k, :]; four k at a time. */
    private static void rowsAxpy(int m0, int m1, int N, int K, float alpha, float[] A, int aOff, int lda,
                                 float[] B, int bOff, int ldb, float beta, float[] C, int cOff, int ldc) {
        int nv = S.loopBound(N);
        for (int m = m0; m < m1; m++) {
            int c0 = cOff + m * ldc;
            if (beta == 0) java.util.Arrays.fill(C, c0, c0 + N, 0f);
            else if (beta != 1) for (int n = 0; n < N; n++) C[c0 + n] *= beta;
            int a0 = aOff + m * lda;
            int k = 0;
            for (; k + 4 <= K; k += 4) {
                float s0 = alpha * A[a0 + k], s1 = alpha * A[a0 + k + 1], s2 = alpha * A[a0 + k + 2], s3 = alpha * A[a0 + k + 3];
                int b0 = bOff + k * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                FloatVector v0 = FloatVector.broadcast(S, s0), v1 = FloatVector.broadcast(S, s1),
                        v2 = FloatVector.broadcast(S, s2), v3 = FloatVector.broadcast(S, s3);
                int n = 0;
                for (; n < nv; n += S.length()) {
                    FloatVector c = FloatVector.fromArray(S, C, c0 + n);
                    c = FloatVector.fromArray(S, B, b0 + n).fma(v0, c);
                    c = FloatVector.fromArray(S, B, b1 + n).fma(v1, c);
                    c = FloatVector.fromArray(S, B, b2 + n).fma(v2, c);
                    c = FloatVector.fromArray(S, B, b3 + n).fma(v3, c);
                    c.intoArray(C, c0 + n);
                }
                for (; n < N; n++) C[c0 + n] += s0 * B[b0 + n] + s1 * B[b1 + n] + s2 * B[b2 + n] + s3 * B[b3 + n];
            }
            for (; k < K; k++) {
                float s = alpha * A[a0 + k];
                FloatVector vs = FloatVector.broadcast(S, s);
                int b0 = bOff + k * ldb;
                int n = 0;
                for (; n < nv; n += S.length())
                    FloatVector.fromArray(S, B, b0 + n).fma(vs, FloatVector.fromArray(S, C, c0 + n)).intoArray(C, c0 + n);
                for (; n < N; n++) C[c0 + n] += s * B[b0 + n];
            }
        }
    }

    /** (rows, cols) with row stride ld, starting at off -> a new (cols, rows) contiguous array. */
    static float[] transpose(float[] X, int off, int ld, int rows, int cols) {
        float[] t = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = X[off + r * ld + c];
        return t;
    }

    /** Dot product of two contiguous runs, vectorized. */
    public static float dot(float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, nv = S.loopBound(n);
        for (; i < nv; i += S.length())
            acc = FloatVector.fromArray(S, x, xOff + i).fma(FloatVector.fromArray(S, y, yOff + i), acc);
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += x[xOff + i] * y[yOff + i];
        return s;
    }
}
