package mae.tensor;

import mae.kernels.AdamW;
import mae.kernels.Attention;
import mae.kernels.Elementwise;
import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;
import mae.kernels.Gather;
import mae.kernels.Gelu;
import mae.kernels.Gemm;
import mae.kernels.LayerNorm;
import mae.kernels.Reduce;
import mae.kernels.Softmax;

import java.util.Arrays;

/**
 * {@link DeviceKernels} on host arrays, for {@link CudaEmulation}: each call runs the CPU kernel of the same
 * contract on the emulated storages, so that the whole CUDA dispatch path of {@link CudaOps} (storage sharing,
 * offsets, strides, rank-4 splitting, batching, lifetimes) runs and is checked on a machine without a GPU.
 * It says nothing about the CUDA kernels themselves (kernels/src/test/cuda-emu and the cuda tests check those).
 * Fused attention is emulated for the head widths that have a CUDA kernel, so the composed path for other
 * widths runs here too.
 */
final class EmulatedKernels implements DeviceKernels {
    static final EmulatedKernels INSTANCE = new EmulatedKernels();

    private EmulatedKernels() {}

    private static float[] a(Ptr p) {
        if (p.s().emu == null) throw new IllegalStateException("a tensor on the GPU reached the emulated kernels");
        return p.s().emu.data();
    }

    private static int o(Ptr p) { return Math.toIntExact(p.off()); }

    /** A copy of elements [off, off + n) of p (inputs, and outputs the kernel adds into). */
    private static float[] in(Ptr p, long n) { return Arrays.copyOfRange(a(p), o(p), o(p) + Math.toIntExact(n)); }

    private static int[] ints(Ptr p, long n) {
        float[] f = in(p, n);
        int[] v = new int[f.length];
        for (int i = 0; i < v.length; i++) v[i] = Float.floatToRawIntBits(f[i]);
        return v;
    }

    /** Writes v to p. */
    private static void put(Ptr p, float[] v) { System.arraycopy(v, 0, a(p), o(p), v.length); }

    private static int n(long n) { return Math.toIntExact(n); }

    @Override public void unary(Unary op, Ptr out, Ptr x, long n) {
        Elementwise.unary(op, a(out), o(out), new int[]{n(n)}, a(x), o(x), new int[]{1});
    }

    @Override public void unaryStrided(Unary op, Ptr out, int[] shape, Ptr x, int[] xStrides) {
        if (op == null) Elementwise.copy(a(out), o(out), shape, a(x), o(x), xStrides);
        else Elementwise.unary(op, a(out), o(out), shape, a(x), o(x), xStrides);
    }

    @Override public void binary(Binary op, Ptr out, Ptr a, Ptr b, long n) {
        int[] s = {n(n)}, one = {1};
        Elementwise.binary(op, a(out), o(out), s, a(a), o(a), one, a(b), o(b), one);
    }

    @Override public void binaryStrided(Binary op, Ptr out, int[] shape, Ptr a, int[] aStrides, Ptr b, int[] bStrides) {
        Elementwise.binary(op, a(out), o(out), shape, a(a), o(a), aStrides, a(b), o(b), bStrides);
    }

    @Override public void copyStrided(Ptr out, int[] outStrides, int[] shape, Ptr x, int[] xStrides) {
        Elementwise.copyStrided(a(out), o(out), outStrides, shape, a(x), o(x), xStrides);
    }

    @Override public void addBias(Ptr out, Ptr x, Ptr bias, int rows, int C) {
        float[] xv = in(x, (long) rows * C), bv = in(bias, C);
        for (int i = 0; i < xv.length; i++) xv[i] += bv[i % C];
        put(out, xv);
    }

    @Override public void fill(Ptr out, float value, long n) {
        Arrays.fill(a(out), o(out), o(out) + n(n), value);
    }

    @Override public void sum(Ptr out, Ptr x, int outer, int n, int inner) {
        float[] r = new float[outer * inner];
        Reduce.sumRef(r, in(x, (long) outer * n * inner), 0, outer, n, inner);
        put(out, r);
    }

    @Override public void max(Ptr out, Ptr arg, Ptr x, int outer, int n, int inner) {
        float[] r = new float[outer * inner], argf = new float[outer * inner];
        int[] ai = new int[outer * inner];
        Reduce.max(r, ai, in(x, (long) outer * n * inner), 0, outer, n, inner);
        for (int i = 0; i < ai.length; i++) argf[i] = Float.intBitsToFloat(ai[i]);
        put(out, r);
        put(arg, argf);
    }

    @Override public void softmaxForward(Ptr out, Ptr x, int rows, int cols) {
        float[] r = new float[rows * cols];
        Softmax.forward(r, in(x, r.length), rows, cols);
        put(out, r);
    }

    @Override public void softmaxBackward(Ptr dx, Ptr dy, Ptr y, int rows, int cols) {
        float[] r = in(dx, (long) rows * cols);
        Softmax.backward(r, in(dy, r.length), in(y, r.length), rows, cols);
        put(dx, r);
    }

    @Override public void layerNormForward(Ptr out, Ptr mean, Ptr rstd, Ptr x, Ptr w, Ptr b, int rows, int C, float eps) {
        float[] r = new float[rows * C], mu = new float[rows], rs = new float[rows];
        LayerNorm.forward(r, mu, rs, in(x, r.length), in(w, C), in(b, C), rows, C, eps);
        put(out, r);
        put(mean, mu);
        put(rstd, rs);
    }

    @Override public void layerNormBackward(Ptr dx, Ptr dw, Ptr db, Ptr dout, Ptr x, Ptr w, Ptr mean, Ptr rstd, int rows, int C) {
        float[] gx = in(dx, (long) rows * C), gw = in(dw, C), gb = in(db, C);
        LayerNorm.backward(gx, gw, gb, in(dout, gx.length), in(x, gx.length), in(w, C), in(mean, rows), in(rstd, rows), rows, C);
        put(dx, gx);
        put(dw, gw);
        put(db, gb);
    }

    @Override public void geluForward(Ptr out, Ptr x, long n) {
        float[] r = new float[n(n)];
        Gelu.forward(r, in(x, n), r.length);
        put(out, r);
    }

    @Override public void geluBackward(Ptr dx, Ptr dout, Ptr x, long n) {
        float[] r = in(dx, n);
        Gelu.backward(r, in(dout, n), in(x, n), r.length);
        put(dx, r);
    }

    @Override public boolean fusedAttention(int hd) { return GpuKernels.hasAttentionKernel(hd); }

    @Override public void attentionForward(Ptr out, Ptr lse, Ptr q, Ptr k, Ptr v, int BH, int T, int hd, float scale) {
        long n = (long) BH * T * hd;
        float[] r = new float[n(n)], l = new float[BH * T];
        Attention.forward(r, l, in(q, n), in(k, n), in(v, n), BH, T, hd, scale);
        put(out, r);
        put(lse, l);
    }

    @Override public void attentionBackward(Ptr dq, Ptr dk, Ptr dv, Ptr dout, Ptr q, Ptr k, Ptr v, Ptr out, Ptr lse,
                                            int BH, int T, int hd, float scale) {
        long n = (long) BH * T * hd;
        float[] gq = in(dq, n), gk = in(dk, n), gv = in(dv, n);
        Attention.backward(gq, gk, gv, in(dout, n), in(q, n), in(k, n), in(v, n), in(out, n), in(lse, (long) BH * T), BH, T, hd, scale);
        put(dq, gq);
        put(dk, gk);
        put(dv, gv);
    }

    @Override public void adamwStep(Ptr p, Ptr g, Ptr m, Ptr v, long n, long t, float lr, float beta1, float beta2, float eps, float wd) {
        float[] pv = in(p, n), mv = in(m, n), vv = in(v, n);
        AdamW.step(pv, in(g, n), mv, vv, 0, n(n), t, lr, beta1, beta2, eps, wd);
        put(p, pv);
        put(m, mv);
        put(v, vv);
    }

    @Override public void gather(Ptr out, Ptr x, Ptr idx, int outer, int S, int J, int inner, int idxInner) {
        float[] r = new float[outer * J * inner];
        Gather.gather(r, in(x, (long) outer * S * inner), 0, ints(idx, (long) outer * J * idxInner), outer, S, J, inner, idxInner);
        put(out, r);
    }

    @Override public void scatterAdd(Ptr dx, Ptr dout, Ptr idx, int outer, int S, int J, int inner, int idxInner) {
        float[] r = in(dx, (long) outer * S * inner);
        Gather.scatterAdd(r, in(dout, (long) outer * J * inner), ints(idx, (long) outer * J * idxInner), outer, S, J, inner, idxInner);
        put(dx, r);
    }

    @Override public void matmul(boolean transA, boolean transB, int M, int N, int K, Ptr A, int lda, long strideA,
                                 Ptr B, int ldb, long strideB, Ptr C, int ldc, long strideC, int batch) {
        for (int b = 0; b < batch; b++) {
            int c0 = n(o(C) + b * strideC);
            for (int i = 0; i < M; i++) Arrays.fill(a(C), c0 + i * ldc, c0 + i * ldc + N, 0f);   // beta 0: C is not read
            Gemm.gemm(transA, transB, M, N, K, 1f, a(A), n(o(A) + b * strideA), lda, a(B), n(o(B) + b * strideB), ldb,
                    0f, a(C), c0, ldc);
        }
    }
}
