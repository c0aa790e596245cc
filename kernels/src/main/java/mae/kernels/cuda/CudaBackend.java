package mae.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import mae.kernels.Backend;
import mae.kernels.Buf;
import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;
import mae.kernels.Gather;
import mae.kernels.Storage;
import mae.kernels.Workspace;
import mae.kernels.cuda.CudaKernels.Precision;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@link Backend} on the GPU: device memory from the caching allocator and the launchers of {@link CudaKernels},
 * all queued in order on the one stream. What this class adds to the launchers is the GPU's own shape work: the
 * strided kernels take 4 dims, so views are merged down to 4 where their strides allow and the dims that remain
 * are looped over, one launch each; batched matmuls run at most 65,535 matrices per launch; a variance is composed
 * of sums; indices are checked on the host, then uploaded.
 *
 * <p>The {@code protected} methods are the memory and its device addresses. The emulated CUDA backend of the tests
 * (kernels/src/test: EmulatedCudaBackend) overrides exactly those with host arrays and has the launchers of
 * {@link CudaKernels} hand each launch to a CPU emulation of its kernel, so that everything else here, the
 * launchers and their argument lists included, runs and is checked on machines without a GPU.
 *
 * <p>Lifetime: memory made while a {@link Workspace} scope is open goes back to the allocator when the scope
 * closes; other memory (parameters, optimizer moments) through a {@link Cleaner} once no tensor refers to it.
 * Reuse is safe without waiting because every kernel runs in order on the one stream.
 */
public class CudaBackend implements Backend {
    private static final Cleaner CLEANER = Cleaner.create();
    private static volatile CudaBackend gpu;

    /** Matmul input precision: -Dmae.cuda.matmul=fp32|tf32|bf16, TF32 by default. */
    static final Precision PRECISION = precision(System.getProperty("mae.cuda.matmul", "tf32"));

    /** The GPU's backend; IllegalStateException with the reason where no GPU is usable. */
    public static CudaBackend gpu() {
        if (gpu == null) {
            synchronized (CudaBackend.class) {
                if (!Cuda.available()) throw new IllegalStateException("CUDA is not available: " + Cuda.reason());
                if (gpu == null) gpu = new CudaBackend();
            }
        }
        return gpu;
    }

    /** Whether a GPU is usable. Never throws. */
    public static boolean available() { return Cuda.available(); }

    /** The GPU's description, or why none is usable. Never throws. */
    public static String availability() { return Cuda.available() ? gpu().describe() : Cuda.reason(); }

    /** Whether b is the GPU's backend (not, say, a test's emulation of it). */
    public static boolean isGpu(Backend b) { return b != null && b == gpu; }

    protected CudaBackend() {}

    static Precision precision(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "fp32": return Precision.FP32;
            case "tf32": return Precision.TF32;
            case "bf16": return Precision.BF16;
            default: throw new IllegalArgumentException("-Dmae.cuda.matmul=" + s + ": expected fp32, tf32 or bf16");
        }
    }

    @Override public String device() { return "cuda"; }

    @Override public String describe() { return Cuda.deviceName() + ", sm_" + Cuda.computeCapability() + ", " + PRECISION + " matmul"; }

    /** Element {@code off} of a storage. */
    protected record Ptr(Storage s, long off) {
        Ptr plus(long d) { return d == 0 ? this : new Ptr(s, off + d); }
    }

    protected static Ptr p(Buf b) { return new Ptr(b.s(), b.off()); }

    protected static Ptr p(Storage s) { return new Ptr(s, 0); }

    // ================================================================ memory (protected: the emulation's)

    /** n elements of device memory, contents undefined. */
    protected Storage newStorage(long n) { return new CudaStorage(this, deviceBuffer(n)); }

    /** What frees a storage's memory; refers to the memory, never to the storage (a Cleaner action). */
    protected Runnable releaser(Storage s) { return ((CudaStorage) s).buf::close; }

    /** Copies src into elements [off, off + src.length). */
    protected void upload(Storage s, long off, float[] src) { ((CudaStorage) s).buf.copyFrom(src, off); }

    /** Elements [off, off + dst.length) into dst (waits for the kernels that write them). */
    protected void download(Storage s, long off, float[] dst) { ((CudaStorage) s).buf.copyTo(dst, off); }

    protected Storage uploadInts(int[] values) {
        Storage s = allocate(values.length, false);
        ((CudaStorage) s).buf.copyFrom(values);
        return s;
    }

    protected int[] downloadInts(Storage s, int n) {
        int[] out = new int[n];
        return n == 0 ? out : ((CudaStorage) s).buf.copyTo(out);
    }

    /**
     * n floats from the caching allocator. Out of memory: a garbage collection, then retries for up to a second
     * while the Cleaner thread frees what the collector found unreachable (memory of tensors made outside a
     * workspace goes back only then). The last failure is thrown as it is.
     */
    private static DeviceBuffer deviceBuffer(long n) {
        try {
            return DeviceBuffer.allocate(n);
        } catch (IllegalStateException e) {
            if (!String.valueOf(e.getMessage()).contains("out of memory")) throw e;
            System.gc();
            long deadline = System.nanoTime() + 1_000_000_000L;
            while (true) {
                try {
                    return DeviceBuffer.allocate(n);
                } catch (IllegalStateException again) {
                    if (!String.valueOf(again.getMessage()).contains("out of memory") || System.nanoTime() > deadline) throw again;
                    try { Thread.sleep(20); } catch (InterruptedException ie) { Thread.currentThread().interrupt(); throw again; }
                }
            }
        }
    }

    // ================================================================ memory (the seam)

    @Override public final Storage allocate(long n, boolean zeroed) {
        Storage s = newStorage(n);
        Runnable free = releaser(s);
        if (!Workspace.atClose(free)) CLEANER.register(s, free);
        if (zeroed) fillF32(p(s), 0f, n);
        return s;
    }

    @Override public final Storage fromHost(float[] values) {
        Storage s = allocate(values.length, false);
        upload(s, 0, values);
        return s;
    }

    @Override public final void toHost(Buf src, float[] dst) { download(src.s(), src.off(), dst); }

    @Override public void sync() { Cuda.sync(); }

    // ================================================================ launches

    /** The device address of p (null stays null); the emulated backend of the tests gives addresses of its own. */
    protected CUdeviceptr d(Ptr p) {
        if (p == null) return null;
        if (!(p.s() instanceof CudaStorage)) throw new IllegalStateException(p.s() + " reached the GPU kernels");
        return ((CudaStorage) p.s()).buf.at(p.off());
    }

    /** Keeps the storages of a launch's arguments reachable until it is queued. */
    private static void keep(Object... refs) { Reference.reachabilityFence(refs); }

    private void unaryF32(Unary op, Ptr out, Ptr x, long n) { CudaKernels.unary(op, d(out), d(x), n); keep(out, x); }

    /** op null copies. Rank <= 4 after merging. */
    private void unaryStridedF32(Unary op, Ptr out, int[] shape, Ptr x, int[] xStrides) {
        CudaKernels.unaryStrided(op, d(out), shape, d(x), xStrides);
        keep(out, x);
    }

    private void binaryF32(Binary op, Ptr out, Ptr a, Ptr b, long n) { CudaKernels.binary(op, d(out), d(a), d(b), n); keep(out, a, b); }

    private void binaryStridedF32(Binary op, Ptr out, int[] shape, Ptr a, int[] aStrides, Ptr b, int[] bStrides) {
        CudaKernels.binaryStrided(op, d(out), shape, d(a), aStrides, d(b), bStrides);
        keep(out, a, b);
    }

    private void copyStridedF32(Ptr out, int[] outStrides, int[] shape, Ptr x, int[] xStrides) {
        CudaKernels.copyStrided(d(out), outStrides, shape, d(x), xStrides);
        keep(out, x);
    }

    /** out (rows, C) = x + bias (C); out may be x. */
    private void addBiasF32(Ptr out, Ptr x, Ptr bias, int rows, int C) { CudaKernels.addBias(d(out), d(x), d(bias), rows, C); keep(out, x, bias); }

    private void fillF32(Ptr out, float value, long n) { CudaKernels.fill(d(out), value, n); keep(out); }

    /** out (outer, inner) = max over n and arg (ints) its first index. */
    private void maxF32(Ptr out, Ptr arg, Ptr x, int outer, int n, int inner) { CudaKernels.max(d(out), d(arg), d(x), outer, n, inner); keep(out, arg, x); }

    /** C[b] (M, N) = op(A[b]) op(B[b]) for b < batch (at most 65,535), alpha 1, beta 0. */
    private void matmulF32(boolean ta, boolean tb, int M, int N, int K, Ptr A, int lda, long strideA,
                             Ptr B, int ldb, long strideB, Ptr C, int ldc, long strideC, int batch) {
        int slices = batch == 1 && ldc == N && PRECISION != Precision.FP32 ? CudaKernels.splitK(M, N, K) : 1;
        if (slices > 1) { matmulSplitK(ta, tb, M, N, K, A, lda, B, ldb, C, slices); return; }
        CudaKernels.matmul(ta, tb, M, N, K, 1f, d(A), lda, strideA, d(B), ldb, strideB, 0f, d(C), ldc, strideC, batch, PRECISION);
        keep(A, B, C);
    }

    /**
     * C (M, N) = op(A) op(B) as S slices of K (CudaKernels.splitK): W[s] (M, N) = the product over slice s, all
     * slices in one batched launch (the last, shorter one in a second), then C = sum over s of W (S, M, N), in slice
     * order, so the result does not depend on scheduling. Slices are a multiple of v3's K step (32) long.
     */
    private void matmulSplitK(boolean ta, boolean tb, int M, int N, int K, Ptr A, int lda, Ptr B, int ldb, Ptr C, int S) {
        int kc = ((K + S - 1) / S + 31) / 32 * 32;
        int full = K / kc, rest = K - full * kc, slices = full + (rest > 0 ? 1 : 0);
        long mn = (long) M * N;
        long sa = ta ? (long) kc * lda : kc, sb = tb ? kc : (long) kc * ldb;   // one slice further along K
        Storage W = newStorage(slices * mn);                                  // scratch, returned once queued
        try {
            Ptr w = p(W);
            CudaKernels.matmul(ta, tb, M, N, kc, 1f, d(A), lda, sa, d(B), ldb, sb, 0f, d(w), N, mn, full, PRECISION);
            if (rest > 0)
                CudaKernels.matmul(ta, tb, M, N, rest, 1f, d(A.plus(full * sa)), lda, 0, d(B.plus(full * sb)), ldb, 0,
                        0f, d(w.plus(full * mn)), N, 0, 1, PRECISION);
            CudaKernels.sum(d(C), d(w), 1, slices, (int) mn);
            keep(A, B, C, W);
        } finally {
            releaser(W).run();
        }
    }

    // ================================================================ the seam: elementwise

    /** One launch over a piece of at most 4 dims: its shape, each view's address and strides. */
    private interface Piece { void run(int[] shape, Ptr[] at, int[][] strides); }

    /**
     * Runs body over shape for views (at[v], strides[v]) merged to at most 4 dims. Where more remain, loops over
     * the extra dims with one launch per index: the leading dims (needed when view 0 is a contiguous output), or
     * with anyDims the smallest ones (fewest launches; for copies, whose output is a strided view too).
     */
    private static void strided(int[] shape, Ptr[] at, int[][] strides, boolean anyDims, Piece body) {
        if (numel(shape) == 0) return;
        int[][] c = CudaKernels.merge(shape, strides);
        int[] s = c[0];
        int r = s.length, views = at.length;
        int[][] st = Arrays.copyOfRange(c, 1, c.length);
        if (r <= 4) { body.run(s, at, st); return; }
        boolean[] looped = loopedDims(s, r - 4, anyDims);
        int[] ks = new int[4], ls = new int[r - 4];
        int[][] kst = new int[views][4], lst = new int[views][r - 4];
        for (int dd = 0, ki = 0, li = 0; dd < r; dd++) {
            if (looped[dd]) { ls[li] = s[dd]; for (int v = 0; v < views; v++) lst[v][li] = st[v][dd]; li++; }
            else { ks[ki] = s[dd]; for (int v = 0; v < views; v++) kst[v][ki] = st[v][dd]; ki++; }
        }
        int[] idx = new int[ls.length];
        Ptr[] q = new Ptr[views];
        for (long i = 0, n = numel(ls); i < n; i++) {
            for (int v = 0; v < views; v++) {
                long off = 0;
                for (int j = 0; j < ls.length; j++) off += (long) idx[j] * lst[v][j];
                q[v] = at[v].plus(off);
            }
            body.run(ks, q, kst);
            for (int j = ls.length - 1; j >= 0 && ++idx[j] == ls[j]; j--) idx[j] = 0;   // next index, last dim fastest
        }
    }

    /** Which dims to loop over: the first {@code count}, or with anyDims the {@code count} smallest. */
    private static boolean[] loopedDims(int[] s, int count, boolean anyDims) {
        boolean[] looped = new boolean[s.length];
        for (int c = 0; c < count; c++) {
            int pick = -1;
            for (int dd = 0; dd < s.length; dd++)
                if (!looped[dd] && (pick < 0 || (anyDims && s[dd] < s[pick]))) pick = dd;
            looped[pick] = true;
        }
        return looped;
    }

    private static long numel(int[] shape) {
        long n = 1;
        for (int s : shape) n *= s;
        return n;
    }

    private static boolean contiguous(int[] shape, int[] strides) { return mae.kernels.Elementwise.isContiguous(shape, strides); }

    private static int[] contiguousStrides(int[] shape) {
        int[] st = new int[shape.length];
        for (int i = shape.length - 1, acc = 1; i >= 0; i--) { st[i] = acc; acc *= shape[i]; }
        return st;
    }

    @Override public void unary(Unary op, Storage out, int[] shape, Storage x, int xOff, int[] xStrides) {
        if (contiguous(shape, xStrides)) unaryF32(op, p(out), new Ptr(x, xOff), numel(shape));
        else strided(shape, new Ptr[]{p(out), new Ptr(x, xOff)}, new int[][]{contiguousStrides(shape), xStrides}, false,
                (s, q, st) -> unaryStridedF32(op, q[0], s, q[1], st[1]));
    }

    @Override public void binary(Binary op, Buf out, int[] shape, Storage a, int aOff, int[] aStrides, Storage b, int bOff, int[] bStrides) {
        if (contiguous(shape, aStrides) && contiguous(shape, bStrides)) binaryF32(op, p(out), new Ptr(a, aOff), new Ptr(b, bOff), numel(shape));
        else strided(shape, new Ptr[]{p(out), new Ptr(a, aOff), new Ptr(b, bOff)}, new int[][]{contiguousStrides(shape), aStrides, bStrides}, false,
                (s, q, st) -> binaryStridedF32(op, q[0], s, q[1], st[1], q[2], st[2]));
    }

    @Override public void copy(Storage out, int outOff, int[] outStrides, int[] shape, Storage x, int xOff, int[] xStrides) {
        strided(shape, new Ptr[]{new Ptr(out, outOff), new Ptr(x, xOff)}, new int[][]{outStrides, xStrides}, true,
                (s, q, st) -> copyStridedF32(q[0], st[0], s, q[1], st[1]));
    }

    @Override public void fill(Buf out, int n, float v) { fillF32(p(out), v, n); }

    /** As a broadcast multiply by a one-element storage holding a. */
    @Override public void scale(Buf out, int n, float a) {
        Storage s = allocate(1, false);
        fillF32(p(s), a, 1);
        binary(Binary.MUL, out, new int[]{n}, out.s(), out.off(), new int[]{1}, s, 0, new int[]{0});
    }

    // ================================================================ the seam: reductions

    @Override public void sum(Storage out, Buf x, int outer, int n, int inner) {
        CudaKernels.sum(d(p(out)), d(p(x)), outer, n, inner);
        keep(out, x);
    }

    /** Two passes, as the CPU's Reduce.var: mean = sum / n; sum((x - mean)^2) / (n - correction). */
    @Override public void var(Storage out, Buf x, int outer, int n, int correction) {
        int[] shape = {outer, n}, rowStrides = {n, 1}, perRow = {1, 0};
        Storage mean = allocate(outer, false), centered = allocate((long) outer * n, false), sq = allocate((long) outer * n, false);
        sum(mean, x, outer, n, 1);
        divide(mean, outer, n);
        binary(Binary.SUB, Buf.of(centered), shape, x.s(), x.off(), rowStrides, mean, 0, perRow);
        unary(Unary.SQUARE, sq, shape, centered, 0, rowStrides);
        sum(out, Buf.of(sq), outer, n, 1);
        divide(out, outer, n - correction);
    }

    /** s[0, n) /= by, as a broadcast division by a one-element storage. */
    private void divide(Storage s, int n, float by) {
        Storage b = allocate(1, false);
        fillF32(p(b), by, 1);
        binary(Binary.DIV, Buf.of(s), new int[]{n}, s, 0, new int[]{1}, b, 0, new int[]{0});
    }

    @Override public void max(Storage out, int[] arg, Buf x, int outer, int n, int inner) {
        Storage a = allocate((long) outer * inner, false);
        maxF32(p(out), p(a), p(x), outer, n, inner);
        if (arg != null) System.arraycopy(downloadInts(a, outer * inner), 0, arg, 0, outer * inner);
    }

    /** Sorted on the host: the values are downloaded. */
    @Override public void argsortRows(int[] out, Buf x, int rows, int n) {
        float[] v = new float[rows * n];
        toHost(x, v);
        Gather.argsortRows(out, v, 0, rows, n);
    }

    // ================================================================ the seam: products

    /** Batch dims that merge become one batched launch (at most 65,535 matrices each); the others are looped over. */
    @Override public void matmul(boolean ta, boolean tb, int M, int N, int K, int[] batch,
                                 Storage a, int aOff, int[] aBatchStrides, int lda,
                                 Storage b, int bOff, int[] bBatchStrides, int ldb, Storage out) {
        if ((long) M * N * numel(batch) == 0) return;
        // A row stride is only read across rows; where there is one row (or column, transposed) any value serves,
        // but the kernel checks it against the matrix width.
        int la = Math.max(Math.max(lda, ta ? M : K), 1), lb = Math.max(Math.max(ldb, tb ? K : N), 1);
        int[] outBatchStrides = new int[batch.length];
        for (int i = batch.length - 1, acc = M * N; i >= 0; i--) { outBatchStrides[i] = acc; acc *= batch[i]; }
        int[][] c = CudaKernels.merge(batch, new int[][]{outBatchStrides, aBatchStrides, bBatchStrides});
        int[] s = c[0];
        int r = s.length;
        int count = r == 0 ? 1 : s[r - 1];
        long so = r == 0 ? 0 : c[1][r - 1], sa = r == 0 ? 0 : c[2][r - 1], sb = r == 0 ? 0 : c[3][r - 1];
        int[] outer = Arrays.copyOf(s, Math.max(0, r - 1));
        int[] idx = new int[outer.length];
        Ptr pa = new Ptr(a, aOff), pb = new Ptr(b, bOff), po = p(out);
        for (long i = 0, n = numel(outer); i < n; i++) {
            long oo = 0, ao = 0, bo = 0;
            for (int j = 0; j < outer.length; j++) { oo += (long) idx[j] * c[1][j]; ao += (long) idx[j] * c[2][j]; bo += (long) idx[j] * c[3][j]; }
            for (int first = 0; first < count; first += 65535) {
                int chunk = Math.min(65535, count - first);
                matmulF32(ta, tb, M, N, K, pa.plus(ao + first * sa), la, sa, pb.plus(bo + first * sb), lb, sb,
                        po.plus(oo + first * so), Math.max(N, 1), so, chunk);
            }
            for (int j = outer.length - 1; j >= 0 && ++idx[j] == outer[j]; j--) idx[j] = 0;
        }
    }

    /** One matmul, then the bias added in place. */
    @Override public void linear(Storage y, Buf x, Buf w, Buf bias, int rows, int in, int out) {
        matmulF32(false, true, rows, out, in, p(x), Math.max(in, 1), 0, p(w), Math.max(in, 1), 0, p(y), Math.max(out, 1), 0, 1);
        if (bias != null) addBiasF32(p(y), p(y), p(bias), rows, out);
    }

    // ================================================================ the seam: fused ops (one launch each)

    @Override public void layerNorm(Storage out, Storage mean, Storage rstd, Buf x, Buf w, Buf b, int rows, int C, float eps) {
        CudaKernels.layerNormForward(d(p(out)), d(p(mean)), d(p(rstd)), d(p(x)), d(p(w)), d(p(b)), rows, C, eps);
        keep(out, mean, rstd, x, w, b);
    }

    @Override public void layerNormBackward(Storage dx, Storage dw, Storage db, Buf dout, Buf x, Buf w, Buf mean, Buf rstd, int rows, int C) {
        CudaKernels.layerNormBackward(d(p(dx)), d(p(dw)), d(p(db)), d(p(dout)), d(p(x)), d(p(w)), d(p(mean)), d(p(rstd)), rows, C);
        keep(dx, dw, db, dout, x, w, mean, rstd);
    }

    @Override public void gelu(Storage out, Buf x, int n) { CudaKernels.geluForward(d(p(out)), d(p(x)), n); keep(out, x); }

    @Override public void geluBackward(Storage dx, Buf dout, Buf x, int n) {
        CudaKernels.geluBackward(d(p(dx)), d(p(dout)), d(p(x)), n);
        keep(dx, dout, x);
    }

    @Override public void softmax(Storage out, Buf x, int rows, int cols) { CudaKernels.softmaxForward(d(p(out)), d(p(x)), rows, cols); keep(out, x); }

    @Override public void softmaxBackward(Storage dx, Buf dy, Buf y, int rows, int cols) {
        CudaKernels.softmaxBackward(d(p(dx)), d(p(dy)), d(p(y)), rows, cols);
        keep(dx, dy, y);
    }

    /** The head widths compiled into attention.cu. */
    @Override public boolean hasFusedAttention(int hd) {
        for (int w : CudaKernels.ATTENTION_HEAD_WIDTHS) if (w == hd) return true;
        return false;
    }

    @Override public void attention(Storage out, Storage lse, Buf q, Buf k, Buf v, int BH, int T, int hd, float scale) {
        CudaKernels.attentionForward(d(p(out)), d(p(lse)), d(p(q)), d(p(k)), d(p(v)), BH, T, hd, scale);
        keep(out, lse, q, k, v);
    }

    @Override public void attentionBackward(Storage dq, Storage dk, Storage dv, Buf dout, Buf q, Buf k, Buf v, Buf out, Buf lse,
                                            int BH, int T, int hd, float scale) {
        if ((long) BH * T == 0) return;
        Storage D = newStorage((long) BH * T);                 // the launcher's scratch, returned once queued
        try {
            CudaKernels.attentionBackward(d(p(dq)), d(p(dk)), d(p(dv)), d(p(dout)), d(p(q)), d(p(k)), d(p(v)), d(p(out)), d(p(lse)),
                    d(p(D)), BH, T, hd, scale);
            keep(dq, dk, dv, dout, q, k, v, out, lse, D);
        } finally {
            releaser(D).run();
        }
    }

    @Override public void adamw(Storage p, Buf g, Storage m, Storage v, int n, long t, float lr, float beta1, float beta2, float eps, float wd) {
        CudaKernels.adamwStep(d(p(p)), d(p(g)), d(p(m)), d(p(v)), n, t, lr, beta1, beta2, eps, wd);
        keep(p, g, m, v);
    }

    // ================================================================ the seam: indexing

    /** The CPU's index check, on the host before the upload. */
    private Storage indices(int[] index, int S, String op) {
        for (int s : index)
            if (s < 0 || s >= S) throw new IndexOutOfBoundsException(op + ": gather index " + s + " out of range [0, " + S + ")");
        return uploadInts(index);
    }

    @Override public void gather(Storage out, Buf x, int[] index, int outer, int S, int J, int inner, int idxInner) {
        gatherF32(p(out), p(x), p(indices(index, S, "gather")), outer, S, J, inner, idxInner);
    }

    @Override public void scatterAdd(Storage out, Buf src, int[] index, int outer, int S, int J, int inner, int idxInner) {
        scatterAddF32(p(out), p(src), p(indices(index, S, "scatterAdd")), outer, S, J, inner, idxInner);
    }

    private void gatherF32(Ptr out, Ptr x, Ptr idx, int outer, int S, int J, int inner, int idxInner) {
        CudaKernels.gather(d(out), d(x), d(idx), outer, S, J, inner, idxInner);
        keep(out, x, idx);
    }

    private void scatterAddF32(Ptr dx, Ptr dout, Ptr idx, int outer, int S, int J, int inner, int idxInner) {
        CudaKernels.scatterAdd(d(dx), d(dout), d(idx), outer, S, J, inner, idxInner);
        keep(dx, dout, idx);
    }
}
