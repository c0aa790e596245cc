package mae.kernels;

import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;

/**
 * The one seam between tensors and compute. {@code mae.tensor.Tensor} and {@code Ops} keep the shape logic
 * (views, broadcasting, strides, checks) and hand raw work on storages to the backend of their inputs:
 * {@link CpuBackend} (the Java kernels of this package) or mae.kernels.cuda.CudaBackend (CUDA kernels through
 * JCuda). Tests plug an emulated CUDA backend in through {@link Backends#install}.
 *
 * <p>Conventions. A view is (storage, offset, strides) over a shape; a stride of 0 broadcasts. A {@link Buf}
 * is a contiguous operand from an offset. Outputs are fresh storages of this backend, written from element 0,
 * unless a method says otherwise. Backward methods ADD into their gradient outputs (callers pass zeroed
 * storages), as the CPU kernels do. Launches may be queued: only {@link #toHost}, {@link #max} with an arg
 * array and {@link #argsortRows} wait for the work before them.
 */
public interface Backend {
    /** The device name tensors report: "cpu" or "cuda". */
    String device();

    /** One line on what runs, e.g. "fast kernels, 2 threads, 16 float lanes" or "NVIDIA H200, sm_90, TF32 matmul". */
    String describe();

    // ---------------------------------------------------------------- memory

    /**
     * n elements, zeroed when asked (else undefined). Made while a {@link Workspace} scope is open on this
     * thread, the memory goes back when the scope closes; otherwise when the storage becomes unreachable.
     */
    Storage allocate(long n, boolean zeroed);

    /**
     * Keeps taken, made by {@link #allocate} in the {@link Workspace} scope open on this thread, past the scope's end,
     * and gives the scope given (the same length, not the scope's) to release in its place. Then a leaf's first
     * gradient of a step becomes its gradient buffer instead of being copied into it. False, and nothing changed,
     * where this backend does not pool its memory that way or taken is not the open scope's.
     */
    default boolean exchange(Storage taken, Storage given) { return false; }

    /** This backend's copy of host values (the CPU wraps the array itself). */
    Storage fromHost(float[] values);

    /** dst.length elements from src into dst (waits for the work that writes them). */
    void toHost(Buf src, float[] dst);

    /** Waits until every queued op has finished. */
    void sync();

    // ---------------------------------------------------------------- elementwise over views

    /** out (contiguous, shape, from element 0) = op(x viewed with xStrides from xOff). */
    void unary(Unary op, Storage out, int[] shape, Storage x, int xOff, int[] xStrides);

    /** out (contiguous, shape) = op(a, b), each a view of shape; out may be a itself (in-place updates). */
    void binary(Binary op, Buf out, int[] shape, Storage a, int aOff, int[] aStrides, Storage b, int bOff, int[] bStrides);

    /** out viewed with outStrides from outOff = x viewed with xStrides: a slice assignment. */
    void copy(Storage out, int outOff, int[] outStrides, int[] shape, Storage x, int xOff, int[] xStrides);

    /** out[0, n) = v. */
    void fill(Buf out, int n, float v);

    /** out[0, n) *= a. */
    void scale(Buf out, int n, float a);

    // ---------------------------------------------------------------- reductions (contiguous (outer, n, inner))

    /** out (outer, inner) = sum over n of x (outer, n, inner). */
    void sum(Storage out, Buf x, int outer, int n, int inner);

    /** out (outer) = variance over n of x (outer, n), divided by n - correction. */
    void var(Storage out, Buf x, int outer, int n, int correction);

    /** out (outer, inner) = max over n; arg (host, may be null) receives the index of the first maximum. */
    void max(Storage out, int[] arg, Buf x, int outer, int n, int inner);

    /** out (rows, n, host) = stable ascending order of each row of x (rows, n). */
    void argsortRows(int[] out, Buf x, int rows, int n);

    // ---------------------------------------------------------------- products

    /**
     * out (batch..., M, N), contiguous = op(A) op(B) for every batch index. The matrix of batch index i starts at
     * aOff + sum_d i_d aBatchStrides[d] (likewise B), with row stride lda (ldb); op is a transpose when ta (tb).
     */
    void matmul(boolean ta, boolean tb, int M, int N, int K, int[] batch,
                Storage a, int aOff, int[] aBatchStrides, int lda,
                Storage b, int bOff, int[] bBatchStrides, int ldb, Storage out);

    /** y (rows, out) = x (rows, in) W^T + bias, W (out, in), bias (out) or null. */
    void linear(Storage y, Buf x, Buf w, Buf bias, int rows, int in, int out);

    // ---------------------------------------------------------------- fused neural-network ops, forward beside backward

    /** out (rows, C) = layer norm of x over C with w, b (C); saves mean and rstd (rows). */
    void layerNorm(Storage out, Storage mean, Storage rstd, Buf x, Buf w, Buf b, int rows, int C, float eps);

    /** dx (rows, C) written; dw, db (C) added to (any of the three may be null): mae.kernels.LayerNorm#backward. */
    void layerNormBackward(Storage dx, Storage dw, Storage db, Buf dout, Buf x, Buf w, Buf mean, Buf rstd, int rows, int C);

    void gelu(Storage out, Buf x, int n);

    /** dx (n) = dout * gelu'(x), written (not added to). */
    void geluBackward(Storage dx, Buf dout, Buf x, int n);

    /** out (rows, cols) = softmax of each row of x. */
    void softmax(Storage out, Buf x, int rows, int cols);

    /** dx += y * (dy - sum(dy * y)) per row, y the forward output. */
    void softmaxBackward(Storage dx, Buf dy, Buf y, int rows, int cols);

    /** Whether {@link #attention} has a fused kernel for head width hd (else Ops composes it of matmul and softmax). */
    boolean hasFusedAttention(int hd);

    /** out (BH, T, hd) = softmax(q k^T scale) v; lse (BH, T) the row log-sum-exp saved for backward. */
    void attention(Storage out, Storage lse, Buf q, Buf k, Buf v, int BH, int T, int hd, float scale);

    void attentionBackward(Storage dq, Storage dk, Storage dv, Buf dout, Buf q, Buf k, Buf v, Buf out, Buf lse,
                           int BH, int T, int hd, float scale);

    /**
     * Whether {@link #attentionHeads} runs for head width hd: attention on the heads of a fused qkv projection read
     * and written where they lie. Else Ops copies the heads out into (B, H, T, hd) tensors and back.
     */
    default boolean hasHeadsAttention(int hd) { return false; }

    /**
     * {@link #attention} on the H heads of qkv (B, T, 3, H, hd), read in place: out (B, T, H, hd), lse (B, H, T).
     * Only where {@link #hasHeadsAttention} says so.
     */
    default void attentionHeads(Storage out, Storage lse, Buf qkv, int B, int H, int T, int hd, float scale) {
        throw new UnsupportedOperationException(device() + " backend: attention on the heads in place");
    }

    /**
     * dqkv (B, T, 3, H, hd) = the gradients of {@link #attentionHeads}' q, k, v (written: dqkv need not be zeroed);
     * dout and out (B, T, H, hd), lse (B, H, T).
     */
    default void attentionHeadsBackward(Storage dqkv, Buf dout, Buf qkv, Buf out, Buf lse, int B, int H, int T, int hd, float scale) {
        throw new UnsupportedOperationException(device() + " backend: attention on the heads in place");
    }

    /** One AdamW step in place on p, m, v (n elements from 0) with gradient g. */
    void adamw(Storage p, Buf g, Storage m, Storage v, int n, long t, float lr, float beta1, float beta2, float eps, float wd);

    // ---------------------------------------------------------------- indexing (indices on the host)

    /** out (outer, J, inner) = x (outer, S, inner) gathered along S by index (outer, J, idxInner). */
    void gather(Storage out, Buf x, int[] index, int outer, int S, int J, int inner, int idxInner);

    /** out (outer, S, inner) += src (outer, J, inner) at index along S: the adjoint of gather. */
    void scatterAdd(Storage out, Buf src, int[] index, int outer, int S, int J, int inner, int idxInner);
}
