package mae.kernels.cuda;

import mae.kernels.AdamW;
import mae.kernels.Attention;
import mae.kernels.Backend;
import mae.kernels.Backends;
import mae.kernels.Buf;
import mae.kernels.Elementwise;
import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;
import mae.kernels.Gather;
import mae.kernels.Gelu;
import mae.kernels.Gemm;
import mae.kernels.LayerNorm;
import mae.kernels.Reduce;
import mae.kernels.Softmax;
import mae.kernels.Storage;

import java.util.Arrays;

/**
 * The CUDA backend with the GPU replaced by host arrays, for tests on machines without one: {@link CudaBackend}
 * runs as it is (rank-4 merging and looping, batch chunks, the composed variance, index checks, workspace and
 * Cleaner lifetimes), and only its memory and launches (the protected methods) run the CPU kernel of the same
 * contract on emulated device memory. It says nothing about the CUDA kernels themselves: the CUDA-on-CPU
 * emulator (kernels/src/test/cuda-emu) and the cuda-tagged tests on a GPU check those.
 *
 * <p>Install it for a test class with {@link #install()} and put the previous backend back with
 * {@link #restore}: {@code Device.CUDA} tensors then live here.
 */
public final class EmulatedCudaBackend extends CudaBackend {
    private static volatile boolean active;

    /** Makes "cuda" this emulation; returns what to pass to {@link #restore}. */
    public static Backend install() {
        active = true;
        return Backends.install(new EmulatedCudaBackend());
    }

    public static void restore(Backend previous) {
        Backends.install(previous);
        active = previous instanceof EmulatedCudaBackend;
    }

    /** Whether the emulation is installed (GPU-only tests skip then). */
    public static boolean active() { return active; }

    @Override public String describe() { return "CUDA emulated on the CPU (EmulatedCudaBackend, for tests)"; }

    @Override public void sync() {}

    // ---------------------------------------------------------------- memory

    /**
     * Host memory standing in for device memory: starts as NaN (as uninitialized device memory may hold anything),
     * is poisoned with NaN when released, and refuses use after release, as DeviceBuffer does.
     */
    static final class Emulated extends Storage {
        private final Backend backend;
        private final float[] data;
        private volatile boolean released;

        Emulated(Backend backend, long n) {
            this.backend = backend;
            data = new float[Math.toIntExact(n)];
            Arrays.fill(data, Float.NaN);
        }

        float[] data() {
            if (released) throw new IllegalStateException("emulated device buffer of " + data.length + " elements used after close()");
            return data;
        }

        void close() {
            if (released) return;
            released = true;
            Arrays.fill(data, Float.NaN);
        }

        @Override public Backend backend() { return backend; }
        @Override public long length() { return data.length; }
        @Override public String toString() { return "emulated cuda storage of " + data.length + " elements"; }
    }

    private static float[] a(Storage s) {
        if (!(s instanceof Emulated)) throw new IllegalStateException(s + " reached the emulated kernels");
        return ((Emulated) s).data();
    }

    private static float[] a(Ptr p) { return a(p.s()); }

    private static int o(Ptr p) { return Math.toIntExact(p.off()); }

    private static int n(long n) { return Math.toIntExact(n); }

    /** A copy of elements [off, off + n) (inputs, and outputs the kernel adds into). */
    private static float[] in(Ptr p, long n) { return Arrays.copyOfRange(a(p), o(p), o(p) + n(n)); }

    private static float[] in(Buf b, long n) { return in(p(b), n); }

    private static float[] in(Storage s, long n) { return in(p(s), n); }

    private static int[] ints(Ptr p, long n) {
        float[] f = in(p, n);
        int[] v = new int[f.length];
        for (int i = 0; i < v.length; i++) v[i] = Float.floatToRawIntBits(f[i]);
        return v;
    }

    /** Writes v at p. */
    private static void put(Ptr p, float[] v) { System.arraycopy(v, 0, a(p), o(p), v.length); }

    private static void put(Storage s, float[] v) { put(p(s), v); }

    @Override protected Storage newStorage(long n) { return new Emulated(this, n); }

    @Override protected Runnable releaser(Storage s) { return ((Emulated) s)::close; }

    @Override protected void upload(Storage s, long off, float[] src) { System.arraycopy(src, 0, a(s), n(off), src.length); }

    @Override protected void download(Storage s, long off, float[] dst) { System.arraycopy(a(s), n(off), dst, 0, dst.length); }

    @Override protected Storage uploadInts(int[] values) {
        Storage s = allocate(values.length, false);
        for (int i = 0; i < values.length; i++) a(s)[i] = Float.intBitsToFloat(values[i]);
        return s;
    }

    @Override protected int[] downloadInts(Storage s, int n) { return ints(p(s), n); }

    // ---------------------------------------------------------------- launches

    @Override protected void unaryF32(Unary op, Ptr out, Ptr x, long n) {
        Elementwise.unary(op, a(out), o(out), new int[]{n(n)}, a(x), o(x), new int[]{1});
    }

    @Override protected void unaryStridedF32(Unary op, Ptr out, int[] shape, Ptr x, int[] xStrides) {
        if (op == null) Elementwise.copy(a(out), o(out), shape, a(x), o(x), xStrides);
        else Elementwise.unary(op, a(out), o(out), shape, a(x), o(x), xStrides);
    }

    @Override protected void binaryF32(Binary op, Ptr out, Ptr a, Ptr b, long n) {
        int[] s = {n(n)}, one = {1};
        Elementwise.binary(op, a(out), o(out), s, a(a), o(a), one, a(b), o(b), one);
    }

    @Override protected void binaryStridedF32(Binary op, Ptr out, int[] shape, Ptr a, int[] aStrides, Ptr b, int[] bStrides) {
        Elementwise.binary(op, a(out), o(out), shape, a(a), o(a), aStrides, a(b), o(b), bStrides);
    }

    @Override protected void copyStridedF32(Ptr out, int[] outStrides, int[] shape, Ptr x, int[] xStrides) {
        Elementwise.copyStrided(a(out), o(out), outStrides, shape, a(x), o(x), xStrides);
    }

    @Override protected void addBiasF32(Ptr out, Ptr x, Ptr bias, int rows, int C) {
        float[] xv = in(x, (long) rows * C), bv = in(bias, C);
        for (int i = 0; i < xv.length; i++) xv[i] += bv[i % C];
        put(out, xv);
    }

    @Override protected void fillF32(Ptr out, float value, long n) { Arrays.fill(a(out), o(out), o(out) + n(n), value); }

    @Override protected void maxF32(Ptr out, Ptr arg, Ptr x, int outer, int n, int inner) {
        float[] r = new float[outer * inner], argf = new float[outer * inner];
        int[] ai = new int[outer * inner];
        Reduce.max(r, ai, in(x, (long) outer * n * inner), 0, outer, n, inner);
        for (int i = 0; i < ai.length; i++) argf[i] = Float.intBitsToFloat(ai[i]);
        put(out, r);
        put(arg, argf);
    }

    @Override protected void matmulF32(boolean ta, boolean tb, int M, int N, int K, Ptr A, int lda, long strideA,
                                       Ptr B, int ldb, long strideB, Ptr C, int ldc, long strideC, int batch) {
        if (batch > 65535) throw new IllegalArgumentException("matmul: batch > 65535 (batch " + batch + ")");
        for (int b = 0; b < batch; b++) {
            int c0 = n(o(C) + b * strideC);
            for (int i = 0; i < M; i++) Arrays.fill(a(C), c0 + i * ldc, c0 + i * ldc + N, 0f);   // beta 0: C is not read
            Gemm.gemm(ta, tb, M, N, K, 1f, a(A), n(o(A) + b * strideA), lda, a(B), n(o(B) + b * strideB), ldb, 0f, a(C), c0, ldc);
        }
    }

    @Override protected void gatherF32(Ptr out, Ptr x, Ptr idx, int outer, int S, int J, int inner, int idxInner) {
        float[] r = new float[outer * J * inner];
        Gather.gather(r, in(x, (long) outer * S * inner), 0, ints(idx, (long) outer * J * idxInner), outer, S, J, inner, idxInner);
        put(out, r);
    }

    @Override protected void scatterAddF32(Ptr dx, Ptr dout, Ptr idx, int outer, int S, int J, int inner, int idxInner) {
        float[] r = in(dx, (long) outer * S * inner);
        Gather.scatterAdd(r, in(dout, (long) outer * J * inner), ints(idx, (long) outer * J * idxInner), outer, S, J, inner, idxInner);
        put(dx, r);
    }

    // ---------------------------------------------------------------- one-launch ops of the seam

    @Override public void sum(Storage out, Buf x, int outer, int n, int inner) {
        float[] r = new float[outer * inner];
        Reduce.sumRef(r, in(x, (long) outer * n * inner), 0, outer, n, inner);
        put(out, r);
    }

    @Override public void softmax(Storage out, Buf x, int rows, int cols) {
        float[] r = new float[rows * cols];
        Softmax.forward(r, in(x, r.length), rows, cols);
        put(out, r);
    }

    @Override public void softmaxBackward(Storage dx, Buf dy, Buf y, int rows, int cols) {
        float[] r = in(dx, (long) rows * cols);
        Softmax.backward(r, in(dy, r.length), in(y, r.length), rows, cols);
        put(dx, r);
    }

    @Override public void layerNorm(Storage out, Storage mean, Storage rstd, Buf x, Buf w, Buf b, int rows, int C, float eps) {
        float[] r = new float[rows * C], mu = new float[rows], rs = new float[rows];
        LayerNorm.forward(r, mu, rs, in(x, r.length), in(w, C), in(b, C), rows, C, eps);
        put(out, r);
        put(mean, mu);
        put(rstd, rs);
    }

    @Override public void layerNormBackward(Storage dx, Storage dw, Storage db, Buf dout, Buf x, Buf w, Buf mean, Buf rstd, int rows, int C) {
        float[] gx = in(dx, (long) rows * C), gw = in(dw, C), gb = in(db, C);
        LayerNorm.backward(gx, gw, gb, in(dout, gx.length), in(x, gx.length), in(w, C), in(mean, rows), in(rstd, rows), rows, C);
        put(dx, gx);
        put(dw, gw);
        put(db, gb);
    }

    @Override public void gelu(Storage out, Buf x, int n) {
        float[] r = new float[n];
        Gelu.forward(r, in(x, n), n);
        put(out, r);
    }

    @Override public void geluBackward(Storage dx, Buf dout, Buf x, int n) {
        float[] r = in(dx, n);
        Gelu.backward(r, in(dout, n), in(x, n), n);
        put(dx, r);
    }

    @Override public void attention(Storage out, Storage lse, Buf q, Buf k, Buf v, int BH, int T, int hd, float scale) {
        long n = (long) BH * T * hd;
        float[] r = new float[n(n)], l = new float[BH * T];
        Attention.forward(r, l, in(q, n), in(k, n), in(v, n), BH, T, hd, scale);
        put(out, r);
        put(lse, l);
    }

    @Override public void attentionBackward(Storage dq, Storage dk, Storage dv, Buf dout, Buf q, Buf k, Buf v, Buf out, Buf lse,
                                            int BH, int T, int hd, float scale) {
        long n = (long) BH * T * hd;
        float[] gq = in(dq, n), gk = in(dk, n), gv = in(dv, n);
        Attention.backward(gq, gk, gv, in(dout, n), in(q, n), in(k, n), in(v, n), in(out, n), in(lse, (long) BH * T), BH, T, hd, scale);
        put(dq, gq);
        put(dk, gk);
        put(dv, gv);
    }

    @Override public void adamw(Storage p, Buf g, Storage m, Storage v, int n, long t, float lr, float beta1, float beta2, float eps, float wd) {
        float[] pv = in(p, n), mv = in(m, n), vv = in(v, n);
        AdamW.step(pv, in(g, n), mv, vv, 0, n, t, lr, beta1, beta2, eps, wd);
        put(p, pv);
        put(m, mv);
        put(v, vv);
    }
}
