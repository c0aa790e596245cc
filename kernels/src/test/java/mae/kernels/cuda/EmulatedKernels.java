package mae.kernels.cuda;

import mae.kernels.Elementwise;
import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;
import mae.kernels.Gather;
import mae.kernels.Gelu;
import mae.kernels.Gemm;
import mae.kernels.LayerNorm;
import mae.kernels.Reduce;
import mae.kernels.Softmax;
import mae.kernels.cuda.EmulatedCudaBackend.EmuPtr;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CUDA kernels' contracts on the CPU, for the launches of {@link CudaKernels} diverted here by the emulated
 * backend. Each kernel reads its arguments in the order, and with the types, of its signature in
 * kernels/src/main/cuda/&lt;family&gt;.cu (pointers as emulated addresses, int, long long, float; a Boolean counts
 * as an int, as Cuda.Kernel passes it), and refuses a wrong type or count: a launcher that swaps two arguments
 * computes something else here, as on a GPU. Where a kernel's grid decides which rows or tiles it covers, only
 * those are computed, so a launcher's grid arithmetic counts too (emulated memory starts as NaN).
 *
 * <p>The arithmetic is the CPU kernels' where one fits (Elementwise, Reduce, Softmax, LayerNorm, Gelu, Gather,
 * Gemm), else plain loops in double (attention from lse and D, as the CUDA kernels recompute it); it is no model
 * of the GPU's rounding.
 */
final class EmulatedKernels implements CudaKernels.Launcher {
    private final int sms;
    /** Launches per kernel ("family/name"), for tests that check what ran. */
    final Map<String, Integer> launches = new ConcurrentHashMap<>();

    EmulatedKernels(int sms) { this.sms = sms; }

    @Override public int smCount() { return sms; }

    /** The arguments of one launch, read in signature order. */
    private static final class Args {
        private final String kernel;
        private final Object[] a;
        private int i;

        Args(String kernel, Object[] a) { this.kernel = kernel; this.a = a; }

        private Object next(String what) {
            if (i >= a.length) throw new IllegalArgumentException(kernel + ": " + a.length + " arguments, but the kernel takes more (" + what + " at " + i + ")");
            return a[i++];
        }

        private IllegalArgumentException type(String want, Object got) {
            return new IllegalArgumentException(kernel + ": argument " + (i - 1) + " should be " + want + ", got "
                    + (got == null ? "null" : got.getClass().getSimpleName() + " " + got));
        }

        /** A pointer; null only where the kernel accepts one. */
        EmuPtr ptr() {
            Object o = next("a pointer");
            if (o == null) return null;
            if (o instanceof EmuPtr p) return p;
            throw type("a pointer", o);
        }

        int i32() {
            Object o = next("an int");
            if (o instanceof Integer v) return v;
            if (o instanceof Boolean b) return b ? 1 : 0;
            throw type("an int", o);
        }

        long i64() {
            Object o = next("a long long");
            if (o instanceof Long v) return v;
            throw type("a long long", o);
        }

        float f32() {
            Object o = next("a float");
            if (o instanceof Float v) return v;
            throw type("a float", o);
        }

        int[] i32x4() { return new int[]{i32(), i32(), i32(), i32()}; }

        void end() {
            if (i != a.length) throw new IllegalArgumentException(kernel + ": " + a.length + " arguments, the kernel takes " + i);
        }
    }

    private static int n(long n) { return Math.toIntExact(n); }

    private static long numel(int[] s) {
        long n = 1;
        for (int v : s) n *= v;
        return n;
    }

    private static void requireCount(String kernel, long n, int[] shape) {
        if (n != numel(shape))
            throw new IllegalArgumentException(kernel + ": n = " + n + " but the shape " + java.util.Arrays.toString(shape) + " holds " + numel(shape));
    }

    @Override public void launch(String kernel, int gx, int gy, int gz, int block, int smem, Object[] args) {
        Cuda.checkGrid(kernel, gx, gy, gz);
        if (block <= 0 || block > 1024) throw new IllegalArgumentException(kernel + ": block " + block);
        if (smem < 0 || smem > 227 * 1024) throw new IllegalArgumentException(kernel + ": " + smem + " bytes of shared memory");
        launches.merge(kernel, 1, Integer::sum);
        Args a = new Args(kernel, args);
        String family = kernel.substring(0, kernel.indexOf('/')), name = kernel.substring(kernel.indexOf('/') + 1);
        if (name.startsWith("attention_") && name.contains("_hd")) { attention(a, name, gx); return; }
        if (name.startsWith("matmul_")) { matmul(a, name, gx, gy, gz, smem); return; }
        switch (kernel) {
            case "elementwise/unary_f32": {
                EmuPtr out = a.ptr(), x = a.ptr(); long n = a.i64(); int op = a.i32(); a.end();
                Elementwise.unary(Unary.values()[op], out.data(), out.off, new int[]{n(n)}, x.data(), x.off, new int[]{1});
                return;
            }
            case "elementwise/unary_strided_f32": {
                EmuPtr out = a.ptr(), x = a.ptr(); long n = a.i64(); int op = a.i32(); int[] s = a.i32x4(), xs = a.i32x4(); a.end();
                requireCount(kernel, n, s);
                if (op == -1) Elementwise.copy(out.data(), out.off, s, x.data(), x.off, xs);
                else Elementwise.unary(Unary.values()[op], out.data(), out.off, s, x.data(), x.off, xs);
                return;
            }
            case "elementwise/copy_strided_f32": {
                EmuPtr out = a.ptr(), x = a.ptr(); long n = a.i64(); int[] s = a.i32x4(), os = a.i32x4(), xs = a.i32x4(); a.end();
                requireCount(kernel, n, s);
                Elementwise.copyStrided(out.data(), out.off, os, s, x.data(), x.off, xs);
                return;
            }
            case "elementwise/binary_f32": {
                EmuPtr out = a.ptr(), x = a.ptr(), y = a.ptr(); long n = a.i64(); int op = a.i32(); a.end();
                int[] one = {1};
                Elementwise.binary(Binary.values()[op], out.data(), out.off, new int[]{n(n)}, x.data(), x.off, one, y.data(), y.off, one);
                return;
            }
            case "elementwise/binary_strided_f32": {
                EmuPtr out = a.ptr(), x = a.ptr(), y = a.ptr(); long n = a.i64(); int op = a.i32();
                int[] s = a.i32x4(), xs = a.i32x4(), ys = a.i32x4(); a.end();
                requireCount(kernel, n, s);
                Elementwise.binary(Binary.values()[op], out.data(), out.off, s, x.data(), x.off, xs, y.data(), y.off, ys);
                return;
            }
            case "elementwise/add_bias_f32": {
                EmuPtr out = a.ptr(), x = a.ptr(), bias = a.ptr(); int rows = a.i32(), C = a.i32(); a.end();
                float[] v = x.floats(rows * C), b = bias.floats(C);
                for (int i = 0; i < v.length; i++) v[i] += b[i % C];
                out.put(v);
                return;
            }
            case "elementwise/fill_f32": {
                EmuPtr out = a.ptr(); float value = a.f32(); long n = a.i64(); a.end();
                java.util.Arrays.fill(out.data(), out.off, out.off + n(n), value);
                return;
            }
            case "reduce/reduce_sum_rows_f32": {
                EmuPtr out = a.ptr(), x = a.ptr(); int rows = a.i32(), n = a.i32(), chunk = a.i32(), acc = a.i32(); a.end();
                for (int r = 0; r < rows; r++)                  // blocks (bx, by) stride over rows by gridDim.y
                    for (int bx = 0; bx < gx; bx++) {
                        double s = 0;
                        for (int j = bx * chunk; j < Math.min(n, bx * chunk + chunk); j++) s += x.data()[x.off + r * n + j];
                        if (acc != 0) out.data()[out.off + r] += (float) s; else out.data()[out.off + r] = (float) s;
                    }
                return;
            }
            case "reduce/reduce_sum_mid_f32": {
                EmuPtr out = a.ptr(), x = a.ptr(); int outer = a.i32(), n = a.i32(), inner = a.i32(), chunk = a.i32(), acc = a.i32(); a.end();
                for (int o = 0; o < outer; o++)
                    for (int i = 0; i < Math.min(inner, gx * 32); i++)   // 32 columns per block along x
                        for (int bz = 0; bz < gz; bz++) {
                            double s = 0;
                            for (int j = bz * chunk; j < Math.min(n, bz * chunk + chunk); j++) s += x.data()[x.off + (o * n + j) * inner + i];
                            int at = out.off + o * inner + i;
                            if (acc != 0) out.data()[at] += (float) s; else out.data()[at] = (float) s;
                        }
                return;
            }
            case "reduce/reduce_max_rows_f32": {
                EmuPtr out = a.ptr(), arg = a.ptr(), x = a.ptr(); int rows = a.i32(), n = a.i32(); a.end();
                max(out, arg, x, Math.min(rows, gx * 8), n, 1);   // one warp per row, 8 per block
                return;
            }
            case "reduce/reduce_max_mid_f32": {
                EmuPtr out = a.ptr(), arg = a.ptr(), x = a.ptr(); int outer = a.i32(), n = a.i32(), inner = a.i32(); a.end();
                max(out, arg, x, outer, n, inner);
                return;
            }
            case "softmax/softmax_forward_f32": {
                EmuPtr out = a.ptr(), x = a.ptr(); int rows = a.i32(), cols = a.i32(); a.end();
                int r = Math.min(rows, gx * 8);
                float[] y = new float[r * cols];
                Softmax.forwardRef(y, x.floats(r * cols), r, cols);
                out.put(y);
                return;
            }
            case "softmax/softmax_backward_f32": {
                EmuPtr dx = a.ptr(), dy = a.ptr(), y = a.ptr(); int rows = a.i32(), cols = a.i32(); a.end();
                int r = Math.min(rows, gx * 8);
                float[] g = dx.floats(r * cols);
                Softmax.backwardRef(g, dy.floats(r * cols), y.floats(r * cols), r, cols);
                dx.put(g);
                return;
            }
            case "layernorm/layernorm_forward_f32": {
                EmuPtr out = a.ptr(), mean = a.ptr(), rstd = a.ptr(), x = a.ptr(), w = a.ptr(), b = a.ptr();
                int rows = a.i32(), C = a.i32(); float eps = a.f32(); a.end();
                int r = Math.min(rows, gx * 8);
                float[] y = new float[r * C], mu = new float[r], rs = new float[r];
                LayerNorm.forward(y, mu, rs, x.floats(r * C), w.floats(C), b.floats(C), r, C, eps);
                out.put(y);
                mean.put(mu);
                rstd.put(rs);
                return;
            }
            case "layernorm/layernorm_backward_f32": {
                EmuPtr dx = a.ptr(), dw = a.ptr(), db = a.ptr(), dout = a.ptr(), x = a.ptr(), w = a.ptr(), mean = a.ptr(), rstd = a.ptr();
                int rows = a.i32(), C = a.i32(); a.end();
                if ((dw != null || db != null) && smem < 2 * C * 4)
                    throw new IllegalArgumentException(kernel + ": dw, db need 2 x C floats of shared memory, got " + smem + " bytes");
                float[] gx_ = dx == null ? new float[rows * C] : dx.floats(rows * C);
                float[] gw = dw == null ? new float[C] : dw.floats(C), gb = db == null ? new float[C] : db.floats(C);
                LayerNorm.backward(gx_, gw, gb, dout.floats(rows * C), x.floats(rows * C), w.floats(C), mean.floats(rows), rstd.floats(rows), rows, C);
                if (dx != null) dx.put(gx_);
                if (dw != null) dw.put(gw);
                if (db != null) db.put(gb);
                return;
            }
            case "gelu/gelu_forward_f32": {
                EmuPtr out = a.ptr(), x = a.ptr(); long n = a.i64(); a.end();
                float[] y = new float[n(n)];
                Gelu.forward(y, x.floats(n(n)), n(n));
                out.put(y);
                return;
            }
            case "gelu/gelu_backward_f32": {
                EmuPtr dx = a.ptr(), dout = a.ptr(), x = a.ptr(); long n = a.i64(); a.end();
                float[] g = dx.floats(n(n));
                Gelu.backward(g, dout.floats(n(n)), x.floats(n(n)), n(n));
                dx.put(g);
                return;
            }
            case "attention/attention_backward_dot_f32": {
                EmuPtr D = a.ptr(), dout = a.ptr(), out = a.ptr(); int rows = a.i32(), hd = a.i32(); a.end();
                for (int r = 0; r < Math.min(rows, gx * 8); r++) {
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double) dout.data()[dout.off + r * hd + d] * out.data()[out.off + r * hd + d];
                    D.data()[D.off + r] = (float) s;
                }
                return;
            }
            case "adamw/adamw_step_f32": {
                EmuPtr p = a.ptr(), g = a.ptr(), m = a.ptr(), v = a.ptr(); long n = a.i64();
                float beta1 = a.f32(), beta2 = a.f32(), eps = a.f32(), stepSize = a.f32(), bc2Sqrt = a.f32(), decay = a.f32(); a.end();
                float omb1 = 1f - beta1, omb2 = 1f - beta2;
                for (int i = 0; i < n; i++) {                   // adamw.cu's operations, each rounded once
                    float gi = g.data()[g.off + i];
                    float mi = beta1 * m.data()[m.off + i] + omb1 * gi;
                    float vi = beta2 * v.data()[v.off + i] + omb2 * gi * gi;
                    m.data()[m.off + i] = mi;
                    v.data()[v.off + i] = vi;
                    float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
                    p.data()[p.off + i] = p.data()[p.off + i] * decay - stepSize * mi / denom;
                }
                return;
            }
            case "gather/gather_f32": {
                EmuPtr out = a.ptr(), x = a.ptr(), idx = a.ptr(); int outer = a.i32(), S = a.i32(), J = a.i32(), inner = a.i32(), idxInner = a.i32(); a.end();
                float[] r = new float[outer * J * inner];
                Gather.gather(r, x.floats(outer * S * inner), 0, idx.ints(outer * J * idxInner), outer, S, J, inner, idxInner);
                out.put(r);
                return;
            }
            case "gather/scatter_add_f32": {
                EmuPtr dx = a.ptr(), dout = a.ptr(), idx = a.ptr(); int outer = a.i32(), S = a.i32(), J = a.i32(), inner = a.i32(), idxInner = a.i32(); a.end();
                float[] r = dx.floats(outer * S * inner);
                Gather.scatterAdd(r, dout.floats(outer * J * inner), idx.ints(outer * J * idxInner), outer, S, J, inner, idxInner);
                dx.put(r);
                return;
            }
            default:
                throw new IllegalArgumentException("no emulation of CUDA kernel " + kernel + " (family " + family + ")");
        }
    }

    /** Reduce.max over (outer, n, inner) from x, into out and the ints of arg. */
    private static void max(EmuPtr out, EmuPtr arg, EmuPtr x, int outer, int n, int inner) {
        float[] r = new float[outer * inner];
        int[] ai = new int[outer * inner];
        Reduce.max(r, ai, x.floats(outer * n * inner), 0, outer, n, inner);
        float[] af = new float[ai.length];
        for (int i = 0; i < ai.length; i++) af[i] = Float.intBitsToFloat(ai[i]);
        out.put(r);
        arg.put(af);
    }

    /**
     * attention.cu's three kernels of head width hd: a block is (bh, a tile of 16 rows), bh = block / tiles. The
     * forward and dq tiles are query rows, the dkv tiles key rows; each recomputes P = exp(scale q k^T - lse).
     */
    private static void attention(Args a, String name, int gx) {
        int hd = Integer.parseInt(name.substring(name.lastIndexOf("_hd") + 3));
        int rowsPerBlock = CudaKernels.ATT_ROWS;
        if (name.startsWith("attention_forward_hd")) {
            EmuPtr out = a.ptr(), lse = a.ptr(), q = a.ptr(), k = a.ptr(), v = a.ptr(); int T = a.i32(); float scale = a.f32(); a.end();
            int tiles = (T + rowsPerBlock - 1) / rowsPerBlock;
            double[] p = new double[T];
            for (int blk = 0; blk < gx; blk++) {
                int bh = blk / tiles, i0 = blk % tiles * rowsPerBlock, base = bh * T * hd;
                for (int i = i0; i < Math.min(T, i0 + rowsPerBlock); i++) {
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j < T; j++) { p[j] = scale * dot(q, base + i * hd, k, base + j * hd, hd); max = Math.max(max, p[j]); }
                    for (int j = 0; j < T; j++) { p[j] = Math.exp(p[j] - max); sum += p[j]; }
                    for (int d = 0; d < hd; d++) {
                        double o = 0;
                        for (int j = 0; j < T; j++) o += p[j] * v.data()[v.off + base + j * hd + d];
                        out.data()[out.off + base + i * hd + d] = (float) (o / sum);
                    }
                    lse.data()[lse.off + bh * T + i] = (float) (max + Math.log(sum));
                }
            }
            return;
        }
        boolean dq = name.startsWith("attention_backward_dq_hd");
        if (!dq && !name.startsWith("attention_backward_dkv_hd")) throw new IllegalArgumentException("no emulation of CUDA kernel attention/" + name);
        EmuPtr gq = dq ? a.ptr() : null, gk = dq ? null : a.ptr(), gv = dq ? null : a.ptr();
        EmuPtr dout = a.ptr(), q = a.ptr(), k = a.ptr(), v = a.ptr(), lse = a.ptr(), D = a.ptr(); int T = a.i32(); float scale = a.f32(); a.end();
        int tiles = (T + rowsPerBlock - 1) / rowsPerBlock;
        for (int blk = 0; blk < gx; blk++) {
            int bh = blk / tiles, t0 = blk % tiles * rowsPerBlock, base = bh * T * hd;
            for (int t = t0; t < Math.min(T, t0 + rowsPerBlock); t++) {
                double[] acc1 = new double[hd], acc2 = new double[hd];
                for (int u = 0; u < T; u++) {
                    int i = dq ? t : u, j = dq ? u : t;          // i: query row, j: key row
                    double s = dot(q, base + i * hd, k, base + j * hd, hd), dp = dot(dout, base + i * hd, v, base + j * hd, hd);
                    double p = Math.exp(scale * s - lse.data()[lse.off + bh * T + i]);
                    double ds = p * (dp - D.data()[D.off + bh * T + i]);
                    for (int d = 0; d < hd; d++) {
                        if (dq) acc1[d] += scale * ds * k.data()[k.off + base + j * hd + d];
                        else {
                            acc1[d] += scale * ds * q.data()[q.off + base + i * hd + d];
                            acc2[d] += p * dout.data()[dout.off + base + i * hd + d];
                        }
                    }
                }
                for (int d = 0; d < hd; d++) {
                    int at = base + t * hd + d;
                    if (dq) gq.data()[gq.off + at] += (float) acc1[d];
                    else {
                        gk.data()[gk.off + at] += (float) acc1[d];
                        gv.data()[gv.off + at] += (float) acc2[d];
                    }
                }
            }
        }
    }

    private static double dot(EmuPtr x, int xo, EmuPtr y, int yo, int n) {
        double s = 0;
        for (int d = 0; d < n; d++) s += (double) x.data()[x.off + xo + d] * y.data()[y.off + yo + d];
        return s;
    }

    /**
     * matmul.cu: C[z] = alpha op(A[z]) op(B[z]) + beta C[z] (beta 0 ignores C) for the grid's z; the grid's x and y
     * cover column and row tiles (64 wide for the FP32 kernel, 128 for the tensor-core ones). The FP32 kernel takes
     * the transposes as ints; the others are one kernel per (version, precision, transA, transB), named for them
     * (v3, matmul_pipe_*, needs its dynamic shared memory). TF32 and BF16
     * are emulated in FP32.
     */
    private static void matmul(Args a, String name, int gx, int gy, int gz, int smem) {
        boolean simt = name.equals("matmul_f32_simt");
        boolean ta, tb;
        if (simt) { ta = a.i32() != 0; tb = a.i32() != 0; }
        else {
            if (!name.matches("matmul_(pipe_)?(tf32|bf16)_[nt][nt]")) throw new IllegalArgumentException("no emulation of CUDA kernel matmul/" + name);
            if (name.startsWith("matmul_pipe_") && smem < CudaKernels.MATMUL_PIPE_SMEM)
                throw new IllegalArgumentException(name + ": needs " + CudaKernels.MATMUL_PIPE_SMEM + " bytes of shared memory, got " + smem);
            ta = name.charAt(name.length() - 2) == 't';
            tb = name.charAt(name.length() - 1) == 't';
        }
        int M = a.i32(), N = a.i32(), K = a.i32(); float alpha = a.f32();
        EmuPtr A = a.ptr(); int lda = a.i32(); long sa = a.i64();
        EmuPtr B = a.ptr(); int ldb = a.i32(); long sb = a.i64();
        float beta = a.f32();
        EmuPtr C = a.ptr(); int ldc = a.i32(); long sc = a.i64(); a.end();
        int tile = simt ? 64 : 128, rows = Math.min(M, gy * tile), cols = Math.min(N, gx * tile);
        for (int z = 0; z < gz; z++)
            Gemm.gemm(ta, tb, rows, cols, K, alpha, A.data(), n(A.off + z * sa), lda, B.data(), n(B.off + z * sb), ldb,
                    beta, C.data(), n(C.off + z * sc), ldc);
    }
}
