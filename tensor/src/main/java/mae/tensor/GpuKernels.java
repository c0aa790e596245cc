package mae.tensor;

import jcuda.driver.CUdeviceptr;
import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;
import mae.kernels.cuda.CudaKernels;
import mae.kernels.cuda.CudaKernels.Precision;

import java.lang.ref.Reference;
import java.util.Locale;

/**
 * {@link DeviceKernels} on the GPU: each call launches its {@link CudaKernels} kernel on the stream and returns.
 * The storages of the arguments are kept reachable until the launch is queued (a tensor that became garbage
 * mid-op could otherwise hand its memory to the op's own next allocation).
 */
final class GpuKernels implements DeviceKernels {
    static final GpuKernels INSTANCE = new GpuKernels();

    /** Matmul input precision: -Dmae.cuda.matmul=fp32|tf32|bf16, TF32 by default. */
    static final Precision PRECISION = precision(System.getProperty("mae.cuda.matmul", "tf32"));

    private GpuKernels() {}

    static Precision precision(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "fp32": return Precision.FP32;
            case "tf32": return Precision.TF32;
            case "bf16": return Precision.BF16;
            default: throw new IllegalArgumentException("-Dmae.cuda.matmul=" + s + ": expected fp32, tf32 or bf16");
        }
    }

    /** The device address of p (null stays null). */
    private static CUdeviceptr d(Ptr p) {
        if (p == null) return null;
        if (p.s().buf == null) throw new IllegalStateException("a tensor made under CUDA emulation reached the GPU kernels");
        return p.s().buf.at(p.off());
    }

    private static void keep(Object... refs) { Reference.reachabilityFence(refs); }

    @Override public void unary(Unary op, Ptr out, Ptr x, long n) {
        CudaKernels.unary(op, d(out), d(x), n);
        keep(out, x);
    }

    @Override public void unaryStrided(Unary op, Ptr out, int[] shape, Ptr x, int[] xStrides) {
        CudaKernels.unaryStrided(op, d(out), shape, d(x), xStrides);
        keep(out, x);
    }

    @Override public void binary(Binary op, Ptr out, Ptr a, Ptr b, long n) {
        CudaKernels.binary(op, d(out), d(a), d(b), n);
        keep(out, a, b);
    }

    @Override public void binaryStrided(Binary op, Ptr out, int[] shape, Ptr a, int[] aStrides, Ptr b, int[] bStrides) {
        CudaKernels.binaryStrided(op, d(out), shape, d(a), aStrides, d(b), bStrides);
        keep(out, a, b);
    }

    @Override public void copyStrided(Ptr out, int[] outStrides, int[] shape, Ptr x, int[] xStrides) {
        CudaKernels.copyStrided(d(out), outStrides, shape, d(x), xStrides);
        keep(out, x);
    }

    @Override public void addBias(Ptr out, Ptr x, Ptr bias, int rows, int C) {
        CudaKernels.addBias(d(out), d(x), d(bias), rows, C);
        keep(out, x, bias);
    }

    @Override public void fill(Ptr out, float value, long n) {
        CudaKernels.fill(d(out), value, n);
        keep(out);
    }

    @Override public void sum(Ptr out, Ptr x, int outer, int n, int inner) {
        CudaKernels.sum(d(out), d(x), outer, n, inner);
        keep(out, x);
    }

    @Override public void max(Ptr out, Ptr arg, Ptr x, int outer, int n, int inner) {
        CudaKernels.max(d(out), d(arg), d(x), outer, n, inner);
        keep(out, arg, x);
    }

    @Override public void softmaxForward(Ptr out, Ptr x, int rows, int cols) {
        CudaKernels.softmaxForward(d(out), d(x), rows, cols);
        keep(out, x);
    }

    @Override public void softmaxBackward(Ptr dx, Ptr dy, Ptr y, int rows, int cols) {
        CudaKernels.softmaxBackward(d(dx), d(dy), d(y), rows, cols);
        keep(dx, dy, y);
    }

    @Override public void layerNormForward(Ptr out, Ptr mean, Ptr rstd, Ptr x, Ptr w, Ptr b, int rows, int C, float eps) {
        CudaKernels.layerNormForward(d(out), d(mean), d(rstd), d(x), d(w), d(b), rows, C, eps);
        keep(out, mean, rstd, x, w, b);
    }

    @Override public void layerNormBackward(Ptr dx, Ptr dw, Ptr db, Ptr dout, Ptr x, Ptr w, Ptr mean, Ptr rstd, int rows, int C) {
        CudaKernels.layerNormBackward(d(dx), d(dw), d(db), d(dout), d(x), d(w), d(mean), d(rstd), rows, C);
        keep(dx, dw, db, dout, x, w, mean, rstd);
    }

    @Override public void geluForward(Ptr out, Ptr x, long n) {
        CudaKernels.geluForward(d(out), d(x), n);
        keep(out, x);
    }

    @Override public void geluBackward(Ptr dx, Ptr dout, Ptr x, long n) {
        CudaKernels.geluBackward(d(dx), d(dout), d(x), n);
        keep(dx, dout, x);
    }

    @Override public boolean fusedAttention(int hd) { return hasAttentionKernel(hd); }

    static boolean hasAttentionKernel(int hd) {
        for (int w : CudaKernels.ATTENTION_HEAD_WIDTHS) if (w == hd) return true;
        return false;
    }

    @Override public void attentionForward(Ptr out, Ptr lse, Ptr q, Ptr k, Ptr v, int BH, int T, int hd, float scale) {
        CudaKernels.attentionForward(d(out), d(lse), d(q), d(k), d(v), BH, T, hd, scale);
        keep(out, lse, q, k, v);
    }

    @Override public void attentionBackward(Ptr dq, Ptr dk, Ptr dv, Ptr dout, Ptr q, Ptr k, Ptr v, Ptr out, Ptr lse,
                                            int BH, int T, int hd, float scale) {
        CudaKernels.attentionBackward(d(dq), d(dk), d(dv), d(dout), d(q), d(k), d(v), d(out), d(lse), BH, T, hd, scale);
        keep(dq, dk, dv, dout, q, k, v, out, lse);
    }

    @Override public void adamwStep(Ptr p, Ptr g, Ptr m, Ptr v, long n, long t, float lr, float beta1, float beta2, float eps, float wd) {
        CudaKernels.adamwStep(d(p), d(g), d(m), d(v), n, t, lr, beta1, beta2, eps, wd);
        keep(p, g, m, v);
    }

    @Override public void gather(Ptr out, Ptr x, Ptr idx, int outer, int S, int J, int inner, int idxInner) {
        CudaKernels.gather(d(out), d(x), d(idx), outer, S, J, inner, idxInner);
        keep(out, x, idx);
    }

    @Override public void scatterAdd(Ptr dx, Ptr dout, Ptr idx, int outer, int S, int J, int inner, int idxInner) {
        CudaKernels.scatterAdd(d(dx), d(dout), d(idx), outer, S, J, inner, idxInner);
        keep(dx, dout, idx);
    }

    @Override public void matmul(boolean transA, boolean transB, int M, int N, int K, Ptr A, int lda, long strideA,
                                 Ptr B, int ldb, long strideB, Ptr C, int ldc, long strideC, int batch) {
        CudaKernels.matmul(transA, transB, M, N, K, 1f, d(A), lda, strideA, d(B), ldb, strideB, 0f, d(C), ldc, strideC,
                batch, PRECISION);
        keep(A, B, C);
    }
}
