package mae.tensor;

import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;

/**
 * The kernels {@link CudaOps} launches, on device addresses ({@link Ptr}: storage + element offset), with the
 * contracts of {@link mae.kernels.cuda.CudaKernels}: outputs first, backward kernels ADD into their gradients,
 * strided kernels take at most 4 dims (CudaOps loops over the rest). Two implementations: {@link GpuKernels}
 * (the CUDA kernels) and {@link EmulatedKernels} (the CPU kernels on host arrays, for tests without a GPU).
 */
interface DeviceKernels {
    /** Element {@code off} of a storage. */
    record Ptr(CudaStorage s, long off) {
        Ptr plus(long d) { return d == 0 ? this : new Ptr(s, off + d); }
    }

    /** The kernels for the current mode: emulated when {@link CudaEmulation} is on, else the GPU's. */
    static DeviceKernels current() { return CudaEmulation.enabled() ? EmulatedKernels.INSTANCE : GpuKernels.INSTANCE; }

    void unary(Unary op, Ptr out, Ptr x, long n);
    /** out (contiguous, shape) = op(x viewed with xStrides); op null copies. Rank <= 4 after merging. */
    void unaryStrided(Unary op, Ptr out, int[] shape, Ptr x, int[] xStrides);
    void binary(Binary op, Ptr out, Ptr a, Ptr b, long n);
    /** out (contiguous, shape) = op(a, b), each a strided view (0 strides broadcast). Rank <= 4 after merging. */
    void binaryStrided(Binary op, Ptr out, int[] shape, Ptr a, int[] aStrides, Ptr b, int[] bStrides);
    /** out viewed with outStrides = x viewed with xStrides. Rank <= 4 after merging. */
    void copyStrided(Ptr out, int[] outStrides, int[] shape, Ptr x, int[] xStrides);
    /** out (rows, C) = x (rows, C) + bias (C); out may be x. */
    void addBias(Ptr out, Ptr x, Ptr bias, int rows, int C);
    void fill(Ptr out, float value, long n);

    /** out (outer, inner) = sum over n of x (outer, n, inner). */
    void sum(Ptr out, Ptr x, int outer, int n, int inner);
    /** out, arg (ints) (outer, inner) = max over n and its first index. */
    void max(Ptr out, Ptr arg, Ptr x, int outer, int n, int inner);

    void softmaxForward(Ptr out, Ptr x, int rows, int cols);
    void softmaxBackward(Ptr dx, Ptr dy, Ptr y, int rows, int cols);
    void layerNormForward(Ptr out, Ptr mean, Ptr rstd, Ptr x, Ptr w, Ptr b, int rows, int C, float eps);
    void layerNormBackward(Ptr dx, Ptr dw, Ptr db, Ptr dout, Ptr x, Ptr w, Ptr mean, Ptr rstd, int rows, int C);
    void geluForward(Ptr out, Ptr x, long n);
    void geluBackward(Ptr dx, Ptr dout, Ptr x, long n);

    /** Whether a fused attention kernel exists for head width hd (else CudaOps composes matmul and softmax). */
    boolean fusedAttention(int hd);
    void attentionForward(Ptr out, Ptr lse, Ptr q, Ptr k, Ptr v, int BH, int T, int hd, float scale);
    void attentionBackward(Ptr dq, Ptr dk, Ptr dv, Ptr dout, Ptr q, Ptr k, Ptr v, Ptr out, Ptr lse,
                           int BH, int T, int hd, float scale);

    void adamwStep(Ptr p, Ptr g, Ptr m, Ptr v, long n, long t, float lr, float beta1, float beta2, float eps, float wd);

    /** out (outer, J, inner) = x (outer, S, inner) gathered along S by idx (ints, outer, J, idxInner). */
    void gather(Ptr out, Ptr x, Ptr idx, int outer, int S, int J, int inner, int idxInner);
    void scatterAdd(Ptr dx, Ptr dout, Ptr idx, int outer, int S, int J, int inner, int idxInner);

    /** C[b] (M, N) = op(A[b]) op(B[b]) for b < batch, row-major, as CudaKernels.matmul with alpha 1, beta 0. */
    void matmul(boolean transA, boolean transB, int M, int N, int K, Ptr A, int lda, long strideA,
                Ptr B, int ldb, long strideB, Ptr C, int ldc, long strideC, int batch);
}
