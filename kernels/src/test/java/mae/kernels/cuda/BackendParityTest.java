package mae.kernels.cuda;

import mae.kernels.Backend;
import mae.kernels.Buf;
import mae.kernels.CpuBackend;
import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;
import mae.kernels.Storage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every op of the seam on the CPU backend and on the emulated CUDA backend (CudaBackend's shape work and the real
 * launchers, the kernels emulated), from operands that start at offsets inside their storages, on views that do not
 * merge down to the CUDA kernels' 4 dims, and on batches beyond one launch's 65,535 matrices: both must agree.
 * What the CPU backend does with an offset, a size or a stride is checked here too: a wrong one disagrees.
 */
class BackendParityTest {
    static Backend was;
    static final Backend CPU = CpuBackend.INSTANCE;
    static EmulatedCudaBackend emu;

    @BeforeAll static void emulate() { was = EmulatedCudaBackend.install(); emu = new EmulatedCudaBackend(); }

    @AfterAll static void restore() { EmulatedCudaBackend.restore(was); }

    static float[] gaussian(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    /** A storage of b holding values (a copy: the CPU wraps the array it is given). */
    static Storage up(Backend b, float[] v) { return b.fromHost(v.clone()); }

    static float[] down(Backend b, Storage s, int n) {
        float[] d = new float[n];
        b.toHost(Buf.of(s), d);
        return d;
    }

    /** Runs op on both backends; each returns its outputs' values; they must agree to tol (relative to 1 + |cpu|). */
    static void agree(String what, double tol, BiFunction<Backend, Boolean, float[][]> op) {
        float[][] c = op.apply(CPU, false), g = op.apply(emu, true);
        assertEquals(c.length, g.length);
        for (int k = 0; k < c.length; k++) {
            assertEquals(c[k].length, g[k].length, what + " output " + k);
            for (int i = 0; i < c[k].length; i++)
                assertTrue(Math.abs(c[k][i] - g[k][i]) <= tol * (1 + Math.abs(c[k][i])),
                        what + " output " + k + " [" + i + "]: cpu " + c[k][i] + ", cuda " + g[k][i]);
        }
    }

    /** Strides of a contiguous shape. */
    static int[] contiguous(int[] shape) {
        int[] st = new int[shape.length];
        for (int i = shape.length - 1, acc = 1; i >= 0; i--) { st[i] = acc; acc *= shape[i]; }
        return st;
    }

    static int[] permute(int[] a, int[] p) {
        int[] o = new int[p.length];
        for (int i = 0; i < p.length; i++) o[i] = a[p[i]];
        return o;
    }

    @Test void elementwise_over_views_of_six_dims_at_offsets() {
        Random r = new Random(1);
        int[] base = {2, 3, 2, 3, 2, 2}, perm = {5, 0, 3, 1, 4, 2};   // a permuted view: no two dims merge
        int[] shape = permute(base, perm), strides = permute(contiguous(base), perm);
        int n = Arrays.stream(base).reduce(1, (a, b) -> a * b);
        float[] x = gaussian(r, n + 7), y = gaussian(r, n + 4), row = gaussian(r, 9);
        agree("unary, permuted 6-d view", 0, (b, g) -> {
            Storage out = b.allocate(n, false);
            b.unary(Unary.TANH, out, shape, up(b, x), 7, strides);
            return new float[][]{down(b, out, n)};
        });
        agree("unary, contiguous at an offset", 0, (b, g) -> {
            Storage out = b.allocate(n, false);
            b.unary(Unary.NEG, out, base, up(b, x), 5, contiguous(base));
            return new float[][]{down(b, out, n)};
        });
        int[] bcast = new int[6];
        bcast[1] = 1;                                                   // broadcast over every dim but one of size 2
        agree("binary, permuted view with a broadcast operand", 0, (b, g) -> {
            Storage out = b.allocate(n + 3, true);
            b.binary(Binary.SUB, new Buf(out, 3), shape, up(b, x), 7, strides, up(b, row), 4, bcast);
            return new float[][]{down(b, out, n + 3)};
        });
        agree("binary, contiguous operands at offsets", 0, (b, g) -> {
            Storage out = b.allocate(n, false);
            b.binary(Binary.MUL, Buf.of(out), base, up(b, x), 2, contiguous(base), up(b, y), 4, contiguous(base));
            return new float[][]{down(b, out, n)};
        });
        agree("copy into a permuted 6-d view at an offset", 0, (b, g) -> {
            Storage out = up(b, gaussian(new Random(9), n + 5));
            b.copy(out, 5, strides, shape, up(b, x), 1, contiguous(shape));
            return new float[][]{down(b, out, n + 5)};
        });
        agree("copy into a contiguous view", 0, (b, g) -> {
            Storage out = up(b, gaussian(new Random(10), n + 2));
            b.copy(out, 2, contiguous(shape), shape, up(b, x), 7, strides);
            return new float[][]{down(b, out, n + 2)};
        });
        agree("fill and scale from an offset", 0, (b, g) -> {
            Storage s = up(b, x);
            b.fill(new Buf(s, 3), 5, 2.5f);
            b.scale(new Buf(s, 6), 9, -3f);
            return new float[][]{down(b, s, n + 7)};
        });
    }

    @Test void reductions_from_offsets() {
        Random r = new Random(2);
        float[] x = gaussian(r, 3 * 50 * 7 + 5);
        agree("sum over the middle axis", 1e-5, (b, g) -> {
            Storage out = b.allocate(21, false);
            b.sum(out, new Buf(up(b, x), 5), 3, 50, 7);
            return new float[][]{down(b, out, 21)};
        });
        agree("sum of rows", 1e-5, (b, g) -> {
            Storage out = b.allocate(3, false);
            b.sum(out, new Buf(up(b, x), 4), 3, 350, 1);
            return new float[][]{down(b, out, 3)};
        });
        agree("variance, unbiased and not", 1e-5, (b, g) -> {
            Storage v1 = b.allocate(7, false), v0 = b.allocate(7, false);
            b.var(v1, new Buf(up(b, x), 3), 7, 50, 1);
            b.var(v0, new Buf(up(b, x), 3), 7, 50, 0);
            return new float[][]{down(b, v1, 7), down(b, v0, 7)};
        });
        agree("max and its index", 0, (b, g) -> {
            Storage out = b.allocate(21, false);
            int[] arg = new int[21];
            b.max(out, arg, new Buf(up(b, x), 2), 3, 50, 7);
            float[] argf = new float[21];
            for (int i = 0; i < 21; i++) argf[i] = arg[i];
            Storage out2 = b.allocate(21, false);
            b.max(out2, null, new Buf(up(b, x), 2), 3, 50, 7);
            return new float[][]{down(b, out, 21), argf, down(b, out2, 21)};
        });
        agree("argsort of rows", 0, (b, g) -> {
            int[] o = new int[4 * 30];
            b.argsortRows(o, new Buf(up(b, x), 6), 4, 30);
            float[] f = new float[o.length];
            for (int i = 0; i < o.length; i++) f[i] = o[i];
            return new float[][]{f};
        });
    }

    @Test void matmuls_with_batch_dims_that_do_not_merge_and_more_than_one_launch_of_matrices() {
        Random r = new Random(3);
        int M = 3, N = 4, K = 5;
        float[] a = gaussian(r, 2 * 3 * 4 * M * K + 3), bm = gaussian(r, 3 * K * N + 2);
        // A: batch (2, 3, 4) contiguous from offset 3; B: broadcast over the first and last batch dims (strides 0)
        int[] batch = {2, 3, 4}, aStr = {3 * 4 * M * K, 4 * M * K, M * K}, bStr = {0, K * N, 0};
        for (boolean ta : new boolean[]{false, true})
            for (boolean tb : new boolean[]{false, true}) {
                int lda = ta ? M : K, ldb = tb ? K : N;
                agree("matmul ta " + ta + " tb " + tb, 1e-5, (b, g) -> {
                    Storage out = b.allocate(2 * 3 * 4 * M * N, false);
                    b.matmul(ta, tb, M, N, K, batch, up(b, a), 3, aStr, lda, up(b, bm), 2, bStr, ldb, out);
                    return new float[][]{down(b, out, 2 * 3 * 4 * M * N)};
                });
            }
        // 70,000 (1 x 2) @ (2 x 1) products: two launches of at most 65,535
        int many = 70_000;
        float[] va = gaussian(r, 2 * many + 1), vb = gaussian(r, 2 * many);
        agree("matmul over 70,000 matrices", 1e-6, (b, g) -> {
            Storage out = b.allocate(many, false);
            b.matmul(false, false, 1, 1, 2, new int[]{many}, up(b, va), 1, new int[]{2}, 2, up(b, vb), 0, new int[]{2}, 1, out);
            return new float[][]{down(b, out, many)};
        });
        agree("matmul with one row: any row stride", 1e-6, (b, g) -> {
            Storage out = b.allocate(N, false);
            b.matmul(false, false, 1, N, K, new int[0], up(b, a), 0, new int[0], 0, up(b, bm), 0, new int[0], N, out);
            return new float[][]{down(b, out, N)};
        });
        agree("linear with and without bias, x at an offset", 1e-5, (b, g) -> {
            Storage y1 = b.allocate(6 * N, false), y2 = b.allocate(6 * N, false);
            Storage x = up(b, a), w = up(b, bm);
            b.linear(y1, new Buf(x, 3), new Buf(w, 2), new Buf(x, 1), 6, K, N);
            b.linear(y2, new Buf(x, 3), new Buf(w, 2), null, 6, K, N);
            return new float[][]{down(b, y1, 6 * N), down(b, y2, 6 * N)};
        });
        agree("empty matmul", 0, (b, g) -> {
            Storage out = b.allocate(1, true);
            b.matmul(false, false, 0, N, K, new int[]{2}, up(b, a), 0, new int[]{1}, K, up(b, bm), 0, new int[]{0}, N, out);
            return new float[][]{down(b, out, 1)};
        });
    }

    /** Products of fewer tiles than multiprocessors run as slices of K (CudaKernels.splitK), summed in order. */
    @Test void products_of_few_tiles_split_k_and_agree() {
        Random r = new Random(4);
        // (M, N, K): 2 tiles on the emulated 4 SMs, so 4 slices: K = 3000 ends in a shorter slice, 2048 does not
        // (sizes that reach the 2^28 multiply-adds a split needs would take the emulator minutes: M x N is small
        // here and K long, and the threshold is lifted for the test)
        int[][] cases = {{130, 100, 3000}, {100, 130, 2048}};
        CudaKernels.splitKMinMacs = 0;
        try {
            for (int[] c : cases) splitCase(r, c[0], c[1], c[2]);
        } finally {
            CudaKernels.splitKMinMacs = 1L << 28;
        }
    }

    private void splitCase(Random r, int M, int N, int K) {
        assertEquals(4, CudaKernels.splitK(M, N, K), "slices for " + M + " x " + N + " x " + K);
        for (boolean ta : new boolean[]{false, true})
            for (boolean tb : new boolean[]{false, true}) {
                float[] a = gaussian(r, M * K), bm = gaussian(r, K * N);
                int lda = ta ? M : K, ldb = tb ? K : N;
                agree("split-K matmul " + M + " x " + N + " x " + K + " ta " + ta + " tb " + tb, 1e-4, (b, g) -> {
                    Storage out = b.allocate(M * N, false);
                    b.matmul(ta, tb, M, N, K, new int[0], up(b, a), 0, new int[0], lda, up(b, bm), 0, new int[0], ldb, out);
                    return new float[][]{down(b, out, M * N)};
                });
            }
    }

    @Test void fused_ops_from_offsets() {
        Random r = new Random(4);
        int rows = 13, C = 6, n = rows * C;
        float[] x = gaussian(r, n + 9), w = gaussian(r, C + 2), d = gaussian(r, n + 9);
        agree("layer norm and its backward", 1e-5, (b, g) -> {
            Storage out = b.allocate(n, false), mean = b.allocate(rows, false), rstd = b.allocate(rows, false);
            Storage sx = up(b, x), sw = up(b, w);
            b.layerNorm(out, mean, rstd, new Buf(sx, 9), new Buf(sw, 2), new Buf(sw, 1), rows, C, 1e-5f);
            Storage dx = b.allocate(n, true), dw = b.allocate(C, true), db = b.allocate(C, true);
            float[] mr = new float[2 * rows + 4];
            System.arraycopy(down(b, mean, rows), 0, mr, 4, rows);
            System.arraycopy(down(b, rstd, rows), 0, mr, 4 + rows, rows);
            Storage m = up(b, mr);
            b.layerNormBackward(dx, dw, db, new Buf(up(b, d), 5), new Buf(sx, 9), new Buf(sw, 2), new Buf(m, 4), new Buf(m, 4 + rows), rows, C);
            return new float[][]{down(b, out, n), down(b, mean, rows), down(b, rstd, rows), down(b, dx, n), down(b, dw, C), down(b, db, C)};
        });
        agree("gelu and its backward", 1e-5, (b, g) -> {
            Storage out = b.allocate(n, false), dx = b.allocate(n, true);
            b.gelu(out, new Buf(up(b, x), 4), n);
            b.geluBackward(dx, new Buf(up(b, d), 2), new Buf(up(b, x), 4), n);
            return new float[][]{down(b, out, n), down(b, dx, n)};
        });
        agree("softmax and its backward", 1e-5, (b, g) -> {
            Storage y = b.allocate(n, false), dx = b.allocate(n, true);
            b.softmax(y, new Buf(up(b, x), 3), rows, C);
            float[] yv = new float[n + 1];
            System.arraycopy(down(b, y, n), 0, yv, 1, n);
            b.softmaxBackward(dx, new Buf(up(b, d), 6), new Buf(up(b, yv), 1), rows, C);
            return new float[][]{down(b, y, n), down(b, dx, n)};
        });
        int BH = 3, T = 19, hd = 32, m = BH * T * hd;
        float[] q = gaussian(r, m + 5), k = gaussian(r, m + 5), v = gaussian(r, m + 5), dout = gaussian(r, m + 5);
        assertTrue(emu.hasFusedAttention(hd) && CPU.hasFusedAttention(hd));
        agree("attention and its backward", 1e-4, (b, g) -> {
            Storage out = b.allocate(m, false), lse = b.allocate(BH * T, false);
            b.attention(out, lse, new Buf(up(b, q), 5), new Buf(up(b, k), 4), new Buf(up(b, v), 3), BH, T, hd, 0.2f);
            float[] o = new float[m + 2], l = new float[BH * T + 3];
            System.arraycopy(down(b, out, m), 0, o, 2, m);
            System.arraycopy(down(b, lse, BH * T), 0, l, 3, BH * T);
            Storage dq = b.allocate(m, true), dk = b.allocate(m, true), dv = b.allocate(m, true);
            b.attentionBackward(dq, dk, dv, new Buf(up(b, dout), 1), new Buf(up(b, q), 5), new Buf(up(b, k), 4), new Buf(up(b, v), 3),
                    new Buf(up(b, o), 2), new Buf(up(b, l), 3), BH, T, hd, 0.2f);
            return new float[][]{down(b, out, m), down(b, lse, BH * T), down(b, dq, m), down(b, dk, m), down(b, dv, m)};
        });
        agree("adamw with the gradient at an offset", 0, (b, g) -> {
            Storage p = up(b, Arrays.copyOf(x, n)), mm = b.allocate(n, true), vv = b.allocate(n, true);
            for (long t = 1; t <= 2; t++) b.adamw(p, new Buf(up(b, d), 7), mm, vv, n, t, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f);
            return new float[][]{down(b, p, n), down(b, mm, n), down(b, vv, n)};
        });
    }

    @Test void gather_and_scatter_add_from_offsets() {
        Random r = new Random(5);
        int outer = 2, S = 5, J = 3, inner = 4;
        float[] x = gaussian(r, outer * S * inner + 6), src = gaussian(r, outer * J * inner + 2);
        for (int idxInner : new int[]{1, inner}) {
            int[] idx = new int[outer * J * idxInner];
            for (int i = 0; i < idx.length; i++) idx[i] = r.nextInt(S);
            idx[0] = S - 1;
            agree("gather and scatter-add, idxInner " + idxInner, 1e-6, (b, g) -> {
                Storage out = b.allocate(outer * J * inner, false), dx = b.allocate(outer * S * inner, true);
                b.gather(out, new Buf(up(b, x), 6), idx, outer, S, J, inner, idxInner);
                b.scatterAdd(dx, new Buf(up(b, src), 2), idx, outer, S, J, inner, idxInner);
                return new float[][]{down(b, out, outer * J * inner), down(b, dx, outer * S * inner)};
            });
        }
        for (int bad : new int[]{-1, S}) {
            int[] idx = {0, 1, bad};
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> emu.gather(emu.allocate(3, false), Buf.of(up(emu, x)), idx, 1, S, 3, 1, 1));
            assertTrue(e.getMessage().contains("gather index " + bad), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> emu.scatterAdd(emu.allocate(S, true), Buf.of(up(emu, x)), idx, 1, S, 3, 1, 1));
        }
    }

    @Test void zeroed_memory_is_zero_and_fused_attention_is_for_the_compiled_head_widths() {
        float[] z = down(emu, emu.allocate(300, true), 300);
        for (float f : z) assertEquals(0f, f);
        for (int hd : CudaKernels.ATTENTION_HEAD_WIDTHS) assertTrue(emu.hasFusedAttention(hd), "hd " + hd);
        for (int hd : new int[]{16, 48, 96, 256}) assertFalse(emu.hasFusedAttention(hd), "hd " + hd);
        assertEquals("cuda", emu.device());
        assertEquals("cpu", CPU.device());
        assertTrue(CPU.describe().contains("threads") && CPU.describe().contains("lanes"), CPU.describe());
    }

    /** Attention backward's scratch is returned once the launches are queued, and nothing runs for empty attention. */
    @Test void attention_backward_returns_its_scratch_memory() {
        int BH = 2, T = 5, hd = 32, m = BH * T * hd;
        Storage[] s = new Storage[9];
        for (int i = 0; i < s.length; i++) s[i] = emu.allocate(i == 8 ? BH * T : m, true);
        long live = EmulatedCudaBackend.Emulated.live();
        emu.attentionBackward(s[0], s[1], s[2], Buf.of(s[3]), Buf.of(s[4]), Buf.of(s[5]), Buf.of(s[6]), Buf.of(s[7]), Buf.of(s[8]), BH, T, hd, 1f);
        assertEquals(live, EmulatedCudaBackend.Emulated.live(), "the scratch D was released");
        emu.attentionBackward(s[0], s[1], s[2], Buf.of(s[3]), Buf.of(s[4]), Buf.of(s[5]), Buf.of(s[6]), Buf.of(s[7]), Buf.of(s[8]), 0, T, hd, 1f);
        assertEquals(live, EmulatedCudaBackend.Emulated.live(), "no scratch for empty attention");
    }
}
