package mae.kernels;

import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;

import java.util.Arrays;

/**
 * {@link Backend} on the CPU: every op runs the Java kernel of this package on host arrays, in the calling
 * thread's order (synchronous). Each kernel dispatches between its fast version and its plain-loop reference
 * on {@link KernelMode}. Memory comes from the open {@link Workspace} or the heap.
 */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    /** The array of a CPU storage. */
    static float[] a(Storage s) {
        if (s instanceof HostStorage) return ((HostStorage) s).data;
        throw new IllegalArgumentException(s + " reached the cpu backend");
    }

    /** The n values of a contiguous operand from index 0: the array itself when it starts there, else a copy. */
    static float[] in(Buf b, int n) {
        float[] d = a(b.s());
        return b.off() == 0 ? d : Arrays.copyOfRange(d, b.off(), b.off() + n);
    }

    @Override public String device() { return "cpu"; }

    @Override public String describe() {
        return (KernelMode.reference() ? "reference" : "fast") + " kernels, " + Parallel.threads() + " threads, "
                + Gelu.S.length() + " float lanes";
    }

    // ---------------------------------------------------------------- memory

    @Override public Storage allocate(long n, boolean zeroed) { return new HostStorage(Workspace.floats(Math.toIntExact(n), zeroed)); }

    @Override public boolean exchange(Storage taken, Storage given) {
        return taken instanceof HostStorage t && given instanceof HostStorage g && Workspace.exchange(t.data, g.data);
    }

    @Override public Storage fromHost(float[] values) { return new HostStorage(values); }

    @Override public void toHost(Buf src, float[] dst) { System.arraycopy(a(src.s()), src.off(), dst, 0, dst.length); }

    @Override public void sync() {}

    // ---------------------------------------------------------------- elementwise

    @Override public void unary(Unary op, Storage out, int[] shape, Storage x, int xOff, int[] xStrides) {
        Elementwise.unary(op, a(out), 0, shape, a(x), xOff, xStrides);
    }

    @Override public void binary(Binary op, Buf out, int[] shape, Storage a, int aOff, int[] aStrides, Storage b, int bOff, int[] bStrides) {
        Elementwise.binary(op, a(out.s()), out.off(), shape, a(a), aOff, aStrides, a(b), bOff, bStrides);
    }

    @Override public void copy(Storage out, int outOff, int[] outStrides, int[] shape, Storage x, int xOff, int[] xStrides) {
        if (Elementwise.isContiguous(shape, outStrides)) Elementwise.copy(a(out), outOff, shape, a(x), xOff, xStrides);
        else Elementwise.copyStrided(a(out), outOff, outStrides, shape, a(x), xOff, xStrides);
    }

    @Override public void fill(Buf out, int n, float v) { Arrays.fill(a(out.s()), out.off(), out.off() + n, v); }

    @Override public void scale(Buf out, int n, float s) {
        float[] d = a(out.s());
        for (int i = out.off(), e = out.off() + n; i < e; i++) d[i] *= s;
    }

    // ---------------------------------------------------------------- reductions

    @Override public void sum(Storage out, Buf x, int outer, int n, int inner) {
        if (n > 0) Reduce.sum(a(out), a(x.s()), x.off(), outer, n, inner);
    }

    @Override public void var(Storage out, Buf x, int outer, int n, int correction) {
        Reduce.var(a(out), a(x.s()), x.off(), outer, n, 1, correction);
    }

    @Override public void max(Storage out, int[] arg, Buf x, int outer, int n, int inner) {
        Reduce.max(a(out), arg != null ? arg : new int[outer * inner], a(x.s()), x.off(), outer, n, inner);
    }

    @Override public void argsortRows(int[] out, Buf x, int rows, int n) { Gather.argsortRows(out, a(x.s()), x.off(), rows, n); }

    // ---------------------------------------------------------------- products

    @Override public void matmul(boolean ta, boolean tb, int M, int N, int K, int[] batch,
                                 Storage a, int aOff, int[] aBatchStrides, int lda,
                                 Storage b, int bOff, int[] bBatchStrides, int ldb, Storage out) {
        int batches = Elementwise.numel(batch);
        int[] bi = new int[batch.length];
        for (int t = 0; t < batches; t++) {
            int ao = aOff, bo = bOff, rem = t;
            for (int d = batch.length - 1; d >= 0; d--) {
                bi[d] = rem % batch[d];
                rem /= batch[d];
                ao += bi[d] * aBatchStrides[d];
                bo += bi[d] * bBatchStrides[d];
            }
            Gemm.gemm(ta, tb, M, N, K, 1f, a(a), ao, lda, a(b), bo, ldb, 0f, a(out), t * M * N, N);
        }
    }

    /** Up to this many rows (the tokens of one or two images), {@link #linear} multiplies in the other orientation. */
    static final int FEW_ROWS = 128;

    /**
     * One GEMM that adds the bias as it stores its first sums (Gemm.gemmBias: no pass over y before it). With few rows and a wider output, it computes y^T = W x^T and
     * transposes that into y: the weight is then GEMM's A, read along its rows, and only the few rows of x are
     * packed. In the usual orientation the whole weight is packed for every call, which costs more than the
     * multiply when only a few rows use it (a ViT-L on one image's 50 visible tokens: about 2x slower). Every
     * element is the same sum in the same order either way (the same k blocks, fma(a, b) = fma(b, a)), so the
     * two give identical bits.
     */
    @Override public void linear(Storage y, Buf x, Buf w, Buf bias, int rows, int in, int out) {
        float[] yv = a(y);
        if (rows <= FEW_ROWS && out > rows) {
            float[] yt = Workspace.floats(out * rows);                       // (out, rows)
            if (bias != null) {
                float[] bv = in(bias, out);
                for (int o = 0; o < out; o++) Arrays.fill(yt, o * rows, (o + 1) * rows, bv[o]);
            }
            Gemm.gemm(false, true, out, rows, in, 1f, a(w.s()), w.off(), in, a(x.s()), x.off(), in, bias == null ? 0f : 1f, yt, 0, rows);
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < out; o++) yv[r * out + o] = yt[o * rows + r];
            return;
        }
        Gemm.gemmBias(false, true, rows, out, in, 1f, a(x.s()), x.off(), in, a(w.s()), w.off(), in, bias == null ? null : a(bias.s()), bias == null ? 0 : bias.off(), yv, 0, out);
    }

    // ---------------------------------------------------------------- fused ops

    @Override public void layerNorm(Storage out, Storage mean, Storage rstd, Buf x, Buf w, Buf b, int rows, int C, float eps) {
        LayerNorm.forward(a(out), a(mean), a(rstd), in(x, rows * C), in(w, C), in(b, C), rows, C, eps);
    }

    @Override public void layerNormBackward(Storage dx, Storage dw, Storage db, Buf dout, Buf x, Buf w, Buf mean, Buf rstd, int rows, int C) {
        LayerNorm.backward(a(dx), a(dw), a(db), in(dout, rows * C), in(x, rows * C), in(w, C), in(mean, rows), in(rstd, rows), rows, C);
    }

    @Override public void gelu(Storage out, Buf x, int n) { Gelu.forward(a(out), in(x, n), n); }

    @Override public void geluBackward(Storage dx, Buf dout, Buf x, int n) { Gelu.backward(a(dx), in(dout, n), in(x, n), n); }

    @Override public void softmax(Storage out, Buf x, int rows, int cols) { Softmax.forward(a(out), in(x, rows * cols), rows, cols); }

    @Override public void softmaxBackward(Storage dx, Buf dy, Buf y, int rows, int cols) {
        Softmax.backward(a(dx), in(dy, rows * cols), in(y, rows * cols), rows, cols);
    }

    @Override public boolean hasFusedAttention(int hd) { return true; }

    @Override public void attention(Storage out, Storage lse, Buf q, Buf k, Buf v, int BH, int T, int hd, float scale) {
        int n = BH * T * hd;
        Attention.forward(a(out), a(lse), in(q, n), in(k, n), in(v, n), BH, T, hd, scale);
    }

    @Override public void attentionBackward(Storage dq, Storage dk, Storage dv, Buf dout, Buf q, Buf k, Buf v, Buf out, Buf lse,
                                            int BH, int T, int hd, float scale) {
        int n = BH * T * hd;
        Attention.backward(a(dq), a(dk), a(dv), in(dout, n), in(q, n), in(k, n), in(v, n), in(out, n), in(lse, BH * T), BH, T, hd, scale);
    }

    @Override public boolean hasHeadsAttention(int hd) { return true; }

    @Override public void attentionHeads(Storage out, Storage lse, Buf qkv, int B, int H, int T, int hd, float scale) {
        Attention.forwardHeads(a(out), a(lse), in(qkv, 3 * B * T * H * hd), B, H, T, hd, scale);
    }

    @Override public void attentionHeadsBackward(Storage dqkv, Buf dout, Buf qkv, Buf out, Buf lse, int B, int H, int T, int hd, float scale) {
        int n = B * T * H * hd;
        Attention.backwardHeads(a(dqkv), in(dout, n), in(qkv, 3 * n), in(out, n), in(lse, B * H * T), B, H, T, hd, scale);
    }

    @Override public void adamw(Storage p, Buf g, Storage m, Storage v, int n, long t, float lr, float beta1, float beta2, float eps, float wd) {
        AdamW.step(a(p), in(g, n), a(m), a(v), 0, n, t, lr, beta1, beta2, eps, wd);
    }

    // ---------------------------------------------------------------- indexing

    @Override public void gather(Storage out, Buf x, int[] index, int outer, int S, int J, int inner, int idxInner) {
        Gather.gather(a(out), a(x.s()), x.off(), index, outer, S, J, inner, idxInner);
    }

    @Override public void scatterAdd(Storage out, Buf src, int[] index, int outer, int S, int J, int inner, int idxInner) {
        Gather.scatterAdd(a(out), in(src, outer * J * inner), index, outer, S, J, inner, idxInner);
    }
}
