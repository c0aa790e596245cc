package mae.tensor;

import mae.kernels.cuda.CudaKernels;
import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;
import mae.tensor.DeviceKernels.Ptr;

import java.util.Arrays;
import java.util.Locale;

/**
 * The CUDA side of {@link Tensor} and {@link Ops}: each method is what its namesake does when its inputs live on
 * the GPU, launched through {@link DeviceKernels} (mae.kernels.cuda.CudaKernels). Shapes, broadcasting and
 * reduced-dim bookkeeping stay in Tensor, shared with the CPU; this class allocates device memory and launches.
 *
 * <p>Results are contiguous, as on the CPU. Strided kernels take 4 dims: views are merged down to 4 where their
 * strides allow, and the dims that remain are looped over with one launch each. Launches are queued on the
 * one stream and return at once; only downloads (toArray, item, get, to(CPU), Index results) wait.
 */
final class CudaOps {
    private CudaOps() {}

    private static DeviceKernels k() { return DeviceKernels.current(); }

    static Ptr ptr(Tensor t) { return new Ptr(t.cuda, t.offset); }

    // ---------------------------------------------------------------- devices and memory

    /** Every tensor (nulls skipped) must be on CUDA; the error names the op and each shape and device. */
    static void requireCuda(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t == null || t.cuda != null) continue;
            StringBuilder s = new StringBuilder(op + ": tensors on different devices:");
            String sep = " ";
            for (Tensor u : ts) {
                if (u == null) continue;
                s.append(sep).append(Shapes.str(u.shape)).append(" on ").append(u.device().name().toLowerCase(Locale.ROOT));
                sep = ", ";
            }
            throw new IllegalArgumentException(s.append("; move them with .to(Device)").toString());
        }
    }

    /** A new contiguous CUDA tensor; its values are undefined until written. */
    static Tensor empty(int... shape) { return Tensor.onCuda(CudaStorage.allocate(Shapes.numel(shape)), shape); }

    static Tensor full(float v, int... shape) {
        Tensor t = empty(shape);
        k().fill(ptr(t), v, t.numel());
        return t;
    }

    static Tensor zeros(int... shape) { return full(0f, shape); }

    static Tensor scalar(float v) { return full(v); }

    /** A CUDA copy of a CPU tensor. */
    static Tensor upload(Tensor cpu) {
        CudaStorage.require("Tensor" + Shapes.str(cpu.shape) + ".to(CUDA)");
        return Tensor.onCuda(CudaStorage.of(cpu.toArray()), cpu.shape);
    }

    /** The values row-major on the host (waits for the kernels that write them). */
    static float[] toArray(Tensor t) {
        Tensor c = t.contiguous();
        return c.cuda.download(c.offset, Workspace.floats(c.numel()));
    }

    static float get(Tensor t, int pos) { return t.cuda.download(pos, new float[1])[0]; }

    static void set(Tensor t, int pos, float v) { k().fill(new Ptr(t.cuda, pos), v, 1); }

    // ---------------------------------------------------------------- strided launches

    /** One launch over a piece of at most 4 dims: its shape, each view's address and strides. */
    private interface Piece { void run(int[] shape, Ptr[] at, int[][] strides); }

    /**
     * Runs body over shape for views (at[v], strides[v]) merged to at most 4 dims. Where more remain, loops over
     * the extra dims with one launch per index: the leading dims (needed when view 0 is a contiguous output), or
     * with anyDims the smallest ones (fewest launches; for copies, whose output is a strided view too).
     */
    private static void strided(int[] shape, Ptr[] at, int[][] strides, boolean anyDims, Piece body) {
        if (Shapes.numel(shape) == 0) return;
        int[][] c = CudaKernels.merge(shape, strides);
        int[] s = c[0];
        int r = s.length, views = at.length;
        int[][] st = Arrays.copyOfRange(c, 1, c.length);
        if (r <= 4) { body.run(s, at, st); return; }
        boolean[] looped = loopedDims(s, r - 4, anyDims);
        int[] ks = new int[4], ls = new int[r - 4];
        int[][] kst = new int[views][4], lst = new int[views][r - 4];
        for (int d = 0, ki = 0, li = 0; d < r; d++) {
            if (looped[d]) { ls[li] = s[d]; for (int v = 0; v < views; v++) lst[v][li] = st[v][d]; li++; }
            else { ks[ki] = s[d]; for (int v = 0; v < views; v++) kst[v][ki] = st[v][d]; ki++; }
        }
        int[] idx = new int[ls.length];
        Ptr[] p = new Ptr[views];
        for (long i = 0, n = Shapes.numel(ls); i < n; i++) {
            for (int v = 0; v < views; v++) {
                long off = 0;
                for (int j = 0; j < ls.length; j++) off += (long) idx[j] * lst[v][j];
                p[v] = at[v].plus(off);
            }
            body.run(ks, p, kst);
            for (int j = ls.length - 1; j >= 0 && ++idx[j] == ls[j]; j--) idx[j] = 0;   // next index, last dim fastest
        }
    }

    /** Which dims to loop over: the first {@code count}, or with anyDims the {@code count} smallest. */
    private static boolean[] loopedDims(int[] s, int count, boolean anyDims) {
        boolean[] looped = new boolean[s.length];
        for (int c = 0; c < count; c++) {
            int pick = -1;
            for (int d = 0; d < s.length; d++)
                if (!looped[d] && (pick < 0 || (anyDims && s[d] < s[pick]))) pick = d;
            looped[pick] = true;
        }
        return looped;
    }


    // ---------------------------------------------------------------- copies

    /** A contiguous copy. */
    static Tensor copy(Tensor x) {
        Tensor out = empty(x.shape);
        copyInto(out, x);
        return out;
    }

    /** dst (a view, any strides) = src (same shape, any strides): slice assignment. */
    static void copyInto(Tensor dst, Tensor src) {
        strided(dst.shape, new Ptr[]{ptr(dst), ptr(src)}, new int[][]{dst.strides, src.strides}, true,
                (s, p, st) -> k().copyStrided(p[0], st[0], s, p[1], st[1]));
    }

    /** dst (contiguous) = src, either of them possibly on the CPU: a device copy, an upload or a download. */
    static void copyFrom(Tensor dst, Tensor src) {
        if (dst.cuda != null && src.cuda != null) copyInto(dst, src);
        else if (dst.cuda != null) dst.cuda.upload(dst.offset, src.toArray());
        else System.arraycopy(toArray(src), 0, dst.data, dst.offset, src.numel());
    }

    // ---------------------------------------------------------------- elementwise

    static Tensor map(Unary op, Tensor x) {
        Tensor out = empty(x.shape);
        if (x.isContiguous()) k().unary(op, ptr(out), ptr(x), x.numel());
        else strided(x.shape, new Ptr[]{ptr(out), ptr(x)}, new int[][]{out.strides, x.strides}, false,
                (s, p, st) -> k().unaryStrided(op, p[0], s, p[1], st[1]));
        return out;
    }

    /** a op b with broadcasting, as Tensor.zip. */
    static Tensor zip(Binary op, Tensor a, Tensor b) {
        String name = op.name().toLowerCase(Locale.ROOT);
        requireCuda(name, a, b);
        int[] s = Shapes.broadcast(a.shape, b.shape, name);
        Tensor out = empty(s);
        binaryInto(op, out, a.expand(s), b.expand(s));
        return out;
    }

    /** out (contiguous) = op(x, y), x and y views of out's shape; out may be x. */
    private static void binaryInto(Binary op, Tensor out, Tensor x, Tensor y) {
        if (x.isContiguous() && y.isContiguous()) k().binary(op, ptr(out), ptr(x), ptr(y), out.numel());
        else strided(out.shape, new Ptr[]{ptr(out), ptr(x), ptr(y)}, new int[][]{out.strides, x.strides, y.strides}, false,
                (s, p, st) -> k().binaryStrided(op, p[0], s, p[1], st[1], p[2], st[2]));
    }

    /** t (contiguous) += b broadcast to t's shape. */
    static void addInPlace(Tensor t, Tensor b) {
        requireCuda("addInPlace", t, b);
        binaryInto(Binary.ADD, t, t, b.expand(t.shape));
    }

    static void mulInPlace(Tensor t, float s) { binaryInto(Binary.MUL, t, t, scalar(s).expand(t.shape)); }

    static void fill(Tensor t, float v) { k().fill(ptr(t), v, t.numel()); }

    // ---------------------------------------------------------------- reductions

    /** Sum over n of a contiguous x read as (outer, n, inner), shaped outShape (outer * inner elements). */
    static Tensor sum(Tensor x, int outer, int n, int inner, int[] outShape) {
        Tensor out = empty(outShape);
        k().sum(ptr(out), ptr(x), outer, n, inner);
        return out;
    }

    /** Variance over the last n of a contiguous (outer, n), divided by n - correction; two passes, as Reduce.var. */
    static Tensor var(Tensor x, int outer, int n, int correction, int[] outShape) {
        Tensor rows = x.view(outer, n);
        Tensor mean = sum(rows, outer, n, 1, new int[]{outer, 1}).div(n);
        Tensor centered = rows.sub(mean);
        return sum(centered.square(), outer, n, 1, outShape).div(n - correction);
    }

    /** Max over n of a contiguous (outer, n, inner) and its first index (downloaded: a sync point). */
    static Tensor.MaxResult max(Tensor x, int outer, int n, int inner, int[] outShape) {
        Tensor out = empty(outShape);
        CudaStorage arg = CudaStorage.allocate((long) outer * inner);
        k().max(ptr(out), new Ptr(arg, 0), ptr(x), outer, n, inner);
        return new Tensor.MaxResult(out, new Index(arg.downloadInts(outer * inner), outShape));
    }

    /** The row maxima of a contiguous (rows, n), kept on the device: (rows, 1). */
    private static Tensor rowMax(Tensor x, int rows, int n) {
        Tensor out = empty(rows, 1);
        CudaStorage arg = CudaStorage.allocate(rows);
        k().max(ptr(out), new Ptr(arg, 0), ptr(x), rows, n, 1);
        return out;
    }

    /** Softmax over the last dim of a contiguous (rows, cols). */
    static Tensor softmax(Tensor x, int rows, int cols) {
        Tensor out = empty(x.shape);
        k().softmaxForward(ptr(out), ptr(x), rows, cols);
        return out;
    }

    // ---------------------------------------------------------------- matmul

    /**
     * out (batch..., M, N) = op(a) op(b) per batch index, a and b expanded to the batch dims, each matrix read in
     * place with its row stride (lda, ldb; transposed when ta/tb), as Tensor.matmul on the CPU. Batch dims that
     * merge become one batched launch (at most 65535 matrices each); the others are looped over.
     */
    static Tensor matmul(Tensor a, boolean ta, int lda, Tensor b, boolean tb, int ldb, int M, int N, int K,
                         int[] batch, int[] outShape) {
        Tensor out = empty(outShape);
        if (out.numel() == 0) return out;
        // A row stride is only read across rows; where there is one row (or column, transposed) any value serves,
        // but the kernel checks it against the matrix width.
        int la = Math.max(Math.max(lda, ta ? M : K), 1), lb = Math.max(Math.max(ldb, tb ? K : N), 1);
        int[] outBatchStrides = Arrays.copyOf(Shapes.contiguousStrides(outShape), batch.length);
        int[][] c = CudaKernels.merge(batch, new int[][]{outBatchStrides, Arrays.copyOf(a.strides, batch.length), Arrays.copyOf(b.strides, batch.length)});
        int[] s = c[0];
        int r = s.length;
        int count = r == 0 ? 1 : s[r - 1];
        long so = r == 0 ? 0 : c[1][r - 1], sa = r == 0 ? 0 : c[2][r - 1], sb = r == 0 ? 0 : c[3][r - 1];
        int[] outer = Arrays.copyOf(s, Math.max(0, r - 1));
        int[] idx = new int[outer.length];
        for (long i = 0, n = Shapes.numel(outer); i < n; i++) {
            long oo = 0, ao = 0, bo = 0;
            for (int j = 0; j < outer.length; j++) { oo += (long) idx[j] * c[1][j]; ao += (long) idx[j] * c[2][j]; bo += (long) idx[j] * c[3][j]; }
            for (int first = 0; first < count; first += 65535) {
                int chunk = Math.min(65535, count - first);
                k().matmul(ta, tb, M, N, K, ptr(a).plus(ao + first * sa), la, sa, ptr(b).plus(bo + first * sb), lb, sb,
                        ptr(out).plus(oo + first * so), Math.max(N, 1), so, chunk);
            }
            for (int j = outer.length - 1; j >= 0 && ++idx[j] == outer[j]; j--) idx[j] = 0;
        }
        return out;
    }

    // ---------------------------------------------------------------- indexing

    /** The CPU's index check (Gather.check), done on the host before the upload. */
    private static CudaStorage upload(Index index, int S, String op) {
        for (int s : index.data())
            if (s < 0 || s >= S) throw new IndexOutOfBoundsException(op + ": gather index " + s + " out of range [0, " + S + ")");
        return CudaStorage.ofInts(index.data());
    }

    /** out (outer, J, inner) = x (contiguous, outer, S, inner) gathered by the (host) index, shaped outShape. */
    static Tensor gather(Tensor x, Index index, int outer, int S, int J, int inner, int idxInner, int[] outShape) {
        CudaStorage idx = upload(index, S, "gather");
        Tensor out = empty(outShape);
        k().gather(ptr(out), ptr(x), new Ptr(idx, 0), outer, S, J, inner, idxInner);
        return out;
    }

    /** zeros(shape) with src (outer, J, inner) added at the index along S. */
    static Tensor scatterAdd(int[] shape, Tensor src, Index index, int outer, int S, int J, int inner, int idxInner) {
        CudaStorage idx = upload(index, S, "scatterAdd");
        Tensor out = zeros(shape);
        k().scatterAdd(ptr(out), ptr(src.contiguous()), new Ptr(idx, 0), outer, S, J, inner, idxInner);
        return out;
    }

    // ---------------------------------------------------------------- Ops: linear, layer norm, GELU, softmax

    /** x (rows, in) W^T + b: one matmul, then the bias added in place. */
    static Tensor linear(Tensor x, Tensor w, Tensor b) {
        requireCuda("linear", x, w, b);
        int rows = x.size(0), in = x.size(1), out = w.size(0);
        Tensor xc = x.contiguous(), wc = w.contiguous(), y = empty(rows, out);
        k().matmul(false, true, rows, out, in, ptr(xc), Math.max(in, 1), 0, ptr(wc), Math.max(in, 1), 0, ptr(y), Math.max(out, 1), 0, 1);
        if (b != null) k().addBias(ptr(y), ptr(y), ptr(b.contiguous()), rows, out);
        return y;
    }

    static Ops.LayerNormOut layerNorm(Tensor x, Tensor w, Tensor b, float eps, int rows, int C) {
        requireCuda("layerNorm", x, w, b);
        Tensor out = empty(x.shape), mean = empty(rows), rstd = empty(rows);
        k().layerNormForward(ptr(out), ptr(mean), ptr(rstd), ptr(x.contiguous()), ptr(w.contiguous()), ptr(b.contiguous()), rows, C, eps);
        return new Ops.LayerNormOut(out, mean, rstd);
    }

    static Tensor[] layerNormBackward(Tensor dout, Tensor x, Tensor w, Tensor mean, Tensor rstd, int rows, int C) {
        requireCuda("layerNormBackward", dout, x, w, mean, rstd);
        Tensor dx = zeros(x.shape), dw = zeros(C), db = zeros(C);
        k().layerNormBackward(ptr(dx), ptr(dw), ptr(db), ptr(dout.contiguous()), ptr(x.contiguous()), ptr(w.contiguous()),
                ptr(mean.contiguous()), ptr(rstd.contiguous()), rows, C);
        return new Tensor[]{dx, dw, db};
    }

    static Tensor gelu(Tensor x) {
        Tensor out = empty(x.shape);
        k().geluForward(ptr(out), ptr(x.contiguous()), x.numel());
        return out;
    }

    static Tensor geluBackward(Tensor dout, Tensor x) {
        requireCuda("geluBackward", dout, x);
        Tensor dx = zeros(x.shape);
        k().geluBackward(ptr(dx), ptr(dout.contiguous()), ptr(x.contiguous()), x.numel());
        return dx;
    }

    /** dx (rows, cols) = y * (dy - sum(dy * y)) per row. */
    static Tensor softmaxBackward(Tensor dy, Tensor y, int rows, int cols) {
        requireCuda("softmaxBackward", dy, y);
        Tensor dx = zeros(y.shape);
        k().softmaxBackward(ptr(dx), ptr(dy.contiguous()), ptr(y.contiguous()), rows, cols);
        return dx;
    }

    // ---------------------------------------------------------------- Ops: attention

    /**
     * softmax(q k^T * scale) v over (B, H, T, hd): the fused kernel where one is compiled for hd, else composed
     * of batched matmuls and a softmax (the (T, T) scores then live in memory).
     */
    static Ops.AttentionOut attention(Tensor q, Tensor k, Tensor v, float scale) {
        requireCuda("attention", q, k, v);
        int[] s = q.shape;
        int BH = s[0] * s[1], T = s[2], hd = s[3];
        if (!k().fusedAttention(hd)) return composedAttention(q, k, v, scale);
        Tensor out = empty(s), lse = empty(s[0], s[1], T);
        k().attentionForward(ptr(out), ptr(lse), ptr(q.contiguous()), ptr(k.contiguous()), ptr(v.contiguous()), BH, T, hd, scale);
        return new Ops.AttentionOut(out, lse);
    }

    static Tensor[] attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, float scale) {
        requireCuda("attentionBackward", dout, q, k, v, out, lse);
        int[] s = q.shape;
        int BH = s[0] * s[1], T = s[2], hd = s[3];
        if (!k().fusedAttention(hd)) return composedAttentionBackward(dout, q, k, v, lse, scale);
        Tensor dq = zeros(s), dk = zeros(s), dv = zeros(s);
        k().attentionBackward(ptr(dq), ptr(dk), ptr(dv), ptr(dout.contiguous()), ptr(q.contiguous()), ptr(k.contiguous()),
                ptr(v.contiguous()), ptr(out.contiguous()), ptr(lse.contiguous()), BH, T, hd, scale);
        return new Tensor[]{dq, dk, dv};
    }

    /** scores S = q k^T scale (B, H, T, T); lse = max + log sum exp(S - max); out = softmax(S) v. */
    private static Ops.AttentionOut composedAttention(Tensor q, Tensor k, Tensor v, float scale) {
        int[] s = q.shape;
        int rows = s[0] * s[1] * s[2], T = s[2];
        Tensor scores = q.matmul(k.transpose(-2, -1)).mul(scale);                   // (B, H, T, T)
        Tensor max = rowMax(scores, rows, T).view(s[0], s[1], T, 1);
        Tensor lse = scores.sub(max).exp().sum(new int[]{-1}, true).log().add(max);  // (B, H, T, 1)
        Tensor out = scores.softmax().matmul(v);                                      // (B, H, T, hd)
        return new Ops.AttentionOut(out, lse.view(s[0], s[1], T));
    }

    /** P = exp(S - lse); dv = P^T dout; dS = P * (dout v^T - rowsum); dq = scale dS k; dk = scale dS^T q. */
    private static Tensor[] composedAttentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor lse, float scale) {
        Tensor scores = q.matmul(k.transpose(-2, -1)).mul(scale);
        Tensor p = scores.sub(lse.unsqueeze(-1)).exp();                               // (B, H, T, T)
        Tensor dv = p.transpose(-2, -1).matmul(dout);
        Tensor dp = dout.matmul(v.transpose(-2, -1));
        int T = p.size(-1);
        Tensor ds = softmaxBackward(dp, p, p.numel() / Math.max(1, T), T).mul(scale);
        return new Tensor[]{ds.matmul(k), ds.transpose(-2, -1).matmul(q), dv};
    }

    // ---------------------------------------------------------------- Ops: AdamW

    /** One AdamW step in place on contiguous, unshared p, m, v. */
    static void adamw(Tensor p, Tensor g, Tensor m, Tensor v, long t, float lr, float beta1, float beta2, float eps, float wd) {
        requireCuda("adamw", p, g, m, v);
        k().adamwStep(ptr(p), ptr(g.contiguous()), ptr(m), ptr(v), p.numel(), t, lr, beta1, beta2, eps, wd);
    }
}
