package mae.kernels.cuda;

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
import mae.kernels.cuda.CudaKernels.Precision;
import mae.kernels.cuda.EmulatedCudaBackend.EmuPtr;
import mae.kernels.cuda.EmulatedCudaBackend.Emulated;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every launcher of {@link CudaKernels} on emulated device memory, its launches run by {@link EmulatedKernels}
 * (each kernel's contract on the CPU, reading the arguments in the kernel's signature order), against the CPU kernel
 * of the same contract. Sizes differ from each other (rows != cols, S != J, ...) and buffers sit at offsets, so a
 * launcher that swaps two arguments of one type, or sizes its grid too small, fails here without a GPU. The kernels
 * themselves are the GPU tests' (CudaKernelsTest) and the CUDA-on-CPU emulator's.
 */
class EmulatedCudaKernelsTest {
    private EmulatedKernels emulated;
    private CudaKernels.Launcher was;

    @BeforeEach void emulate() { emulated = new EmulatedKernels(EmulatedCudaBackend.SMS); was = CudaKernels.divert(emulated); }

    @AfterEach void restore() { CudaKernels.divert(was); }

    static float[] gaussian(Random r, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (scale * r.nextGaussian());
        return x;
    }

    /** An emulated buffer holding values from element 3 on (garbage before), so that offsets count. */
    static EmuPtr dev(float[] values) {
        float[] v = new float[values.length + 3];
        Arrays.fill(v, 0, 3, -777f);
        System.arraycopy(values, 0, v, 3, values.length);
        return new EmuPtr(Emulated.of(v), 3);
    }

    static EmuPtr dev(int[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) f[i] = Float.intBitsToFloat(values[i]);
        return dev(f);
    }

    /** n elements of never-written memory (NaN). */
    static EmuPtr nan(int n) {
        float[] v = new float[n];
        Arrays.fill(v, Float.NaN);
        return dev(v);
    }

    static void close(String what, float[] want, float[] got, double tol) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++)
            assertTrue(Math.abs(want[i] - got[i]) <= tol * (1 + Math.abs(want[i])), what + " [" + i + "]: " + want[i] + " vs " + got[i]);
    }

    @Test void elementwise_launchers() {
        Random r = new Random(1);
        int n = 37;
        float[] x = gaussian(r, n, 1), y = gaussian(r, n, 1);
        for (Unary op : new Unary[]{Unary.EXP, Unary.NEG, Unary.TANH}) {
            float[] want = new float[n];
            Elementwise.unary(op, want, 0, new int[]{n}, x, 0, new int[]{1});
            EmuPtr out = nan(n);
            CudaKernels.unary(op, out, dev(x), n);
            assertArrayEquals(want, out.floats(n), "unary " + op);
        }
        for (Binary op : new Binary[]{Binary.SUB, Binary.DIV, Binary.MAX}) {
            float[] want = new float[n];
            Elementwise.binary(op, want, 0, new int[]{n}, x, 0, new int[]{1}, y, 0, new int[]{1});
            EmuPtr out = nan(n);
            CudaKernels.binary(op, out, dev(x), dev(y), n);
            assertArrayEquals(want, out.floats(n), "binary " + op);
        }
        // (7, 5, 3) viewed transposed from a (5, 3, 7) buffer; a broadcast row for the binary
        float[] t = gaussian(r, 105, 1), row = gaussian(r, 3, 1);
        int[] shape = {7, 5, 3}, strides = {1, 21, 7}, rowStrides = {0, 0, 1}, contiguous = {15, 3, 1};
        for (Unary op : new Unary[]{null, Unary.SQUARE}) {
            float[] want = new float[105];
            if (op == null) Elementwise.copy(want, 0, shape, t, 0, strides);
            else Elementwise.unary(op, want, 0, shape, t, 0, strides);
            EmuPtr out = nan(105);
            CudaKernels.unaryStrided(op, out, shape, dev(t), strides);
            assertArrayEquals(want, out.floats(105), "strided unary " + op);
        }
        float[] want = new float[105];
        Elementwise.binary(Binary.SUB, want, 0, shape, t, 0, strides, row, 0, rowStrides);
        EmuPtr out = nan(105);
        CudaKernels.binaryStrided(Binary.SUB, out, shape, dev(t), strides, dev(row), rowStrides);
        assertArrayEquals(want, out.floats(105), "strided binary");
        // a (7, 5, 3) contiguous source written into a transposed view
        float[] into = gaussian(r, 105, 1), wantCopy = into.clone();
        Elementwise.copyStrided(wantCopy, 0, strides, shape, t, 0, contiguous);
        EmuPtr dst = dev(into);
        CudaKernels.copyStrided(dst, strides, shape, dev(t), contiguous);
        assertArrayEquals(wantCopy, dst.floats(105), "strided copy");

        int rows = 5, C = 3;
        float[] m = gaussian(r, rows * C, 1), bias = gaussian(r, C, 1), wantBias = new float[rows * C];
        for (int i = 0; i < wantBias.length; i++) wantBias[i] = m[i] + bias[i % C];
        EmuPtr ob = nan(rows * C);
        CudaKernels.addBias(ob, dev(m), dev(bias), rows, C);
        assertArrayEquals(wantBias, ob.floats(rows * C), "add bias");
        EmuPtr f = nan(n + 1);
        CudaKernels.fill(f, 2.5f, n);
        float[] filled = f.floats(n + 1);
        for (int i = 0; i < n; i++) assertEquals(2.5f, filled[i]);
        assertTrue(Float.isNaN(filled[n]), "fill writes n elements only");
    }

    @Test void reductions_in_one_and_in_several_chunks() {
        Random r = new Random(2);
        // (outer, n, inner): rows, split rows (zero-filled, then accumulated), middle axis, split middle axis
        for (int[] s : new int[][]{{11, 13, 1}, {1, 20_000, 1}, {3, 10, 5}, {2, 3000, 40}, {3, 70, 33}}) {
            int outer = s[0], n = s[1], inner = s[2];
            float[] x = gaussian(r, outer * n * inner, 1), want = new float[outer * inner];
            Reduce.sumRef(want, x, 0, outer, n, inner);
            EmuPtr out = nan(outer * inner);
            CudaKernels.sum(out, dev(x), outer, n, inner);
            close("sum " + Arrays.toString(s), want, out.floats(outer * inner), 1e-5 * Math.sqrt(n));
        }
        for (int[] s : new int[][]{{11, 13, 1}, {3, 10, 5}}) {
            int outer = s[0], n = s[1], inner = s[2];
            float[] x = gaussian(r, outer * n * inner, 1), want = new float[outer * inner];
            int[] arg = new int[outer * inner];
            Reduce.max(want, arg, x, 0, outer, n, inner);
            EmuPtr out = nan(outer * inner), args = nan(outer * inner);
            CudaKernels.max(out, args, dev(x), outer, n, inner);
            assertArrayEquals(want, out.floats(outer * inner), "max " + Arrays.toString(s));
            assertArrayEquals(arg, args.ints(outer * inner), "argmax " + Arrays.toString(s));
        }
        assertTrue(emulated.launches.containsKey("elementwise/fill_f32"), "the split sums zeroed their output first");
    }

    @Test void softmax_layer_norm_and_gelu() {
        Random r = new Random(3);
        int rows = 13, cols = 7;                          // 13 rows: two blocks of 8
        float[] x = gaussian(r, rows * cols, 2), dy = gaussian(r, rows * cols, 1), y = new float[rows * cols];
        Softmax.forwardRef(y, x, rows, cols);
        EmuPtr gy = nan(rows * cols);
        CudaKernels.softmaxForward(gy, dev(x), rows, cols);
        assertArrayEquals(y, gy.floats(rows * cols), "softmax");
        float[] dx0 = gaussian(r, rows * cols, 1), dx = dx0.clone();
        Softmax.backwardRef(dx, dy, y, rows, cols);
        EmuPtr gdx = dev(dx0);
        CudaKernels.softmaxBackward(gdx, dev(dy), dev(y), rows, cols);
        assertArrayEquals(dx, gdx.floats(rows * cols), "softmax backward adds");

        int C = 6;
        float[] lx = gaussian(r, rows * C, 2), w = gaussian(r, C, 1), b = gaussian(r, C, 1), dout = gaussian(r, rows * C, 1);
        float[] out = new float[rows * C], mean = new float[rows], rstd = new float[rows];
        LayerNorm.forward(out, mean, rstd, lx, w, b, rows, C, 1e-5f);
        EmuPtr go = nan(rows * C), gm = nan(rows), gr = nan(rows);
        CudaKernels.layerNormForward(go, gm, gr, dev(lx), dev(w), dev(b), rows, C, 1e-5f);
        assertArrayEquals(out, go.floats(rows * C), "layer norm");
        assertArrayEquals(mean, gm.floats(rows), "mean");
        assertArrayEquals(rstd, gr.floats(rows), "rstd");
        float[] gx0 = gaussian(r, rows * C, 1), gw0 = gaussian(r, C, 1), gb0 = gaussian(r, C, 1);
        float[] gx = gx0.clone(), gw = gw0.clone(), gb = gb0.clone();
        LayerNorm.backward(gx, gw, gb, dout, lx, w, mean, rstd, rows, C);
        EmuPtr ex = dev(gx0), ew = dev(gw0), eb = dev(gb0);
        CudaKernels.layerNormBackward(ex, ew, eb, dev(dout), dev(lx), dev(w), dev(mean), dev(rstd), rows, C);
        assertArrayEquals(gx, ex.floats(rows * C), "layer norm dx");
        assertArrayEquals(gw, ew.floats(C), "dw");
        assertArrayEquals(gb, eb.floats(C), "db");
        EmuPtr only = dev(gx0);
        CudaKernels.layerNormBackward(only, null, null, dev(dout), dev(lx), dev(w), dev(mean), dev(rstd), rows, C);
        assertArrayEquals(gx, only.floats(rows * C), "dx without dw, db");

        int n = 1000;
        float[] g = gaussian(r, n, 2), gd = gaussian(r, n, 1), ge = new float[n], gdx0 = gaussian(r, n, 1), gdx1 = gdx0.clone();
        Gelu.forward(ge, g, n);
        Gelu.backward(gdx1, gd, g, n);
        EmuPtr eo = nan(n), edx = dev(gdx0);
        CudaKernels.geluForward(eo, dev(g), n);
        CudaKernels.geluBackward(edx, dev(gd), dev(g), n);
        assertArrayEquals(ge, eo.floats(n), "gelu");
        assertArrayEquals(gdx1, edx.floats(n), "gelu backward writes dx");
    }

    @Test void attention_forward_and_backward_for_every_head_width() {
        Random r = new Random(4);
        for (int hd : CudaKernels.ATTENTION_HEAD_WIDTHS) {
            int BH = 3, T = 21, n = BH * T * hd;              // T = 21: a full tile of 16 rows and a partial one
            float scale = (float) (1 / Math.sqrt(hd));
            float[] q = gaussian(r, n, 1), k = gaussian(r, n, 1), v = gaussian(r, n, 1), dout = gaussian(r, n, 1);
            float[] out = new float[n], lse = new float[BH * T];
            Attention.forwardRef(out, lse, q, k, v, BH, T, hd, scale);
            EmuPtr go = nan(n), gl = nan(BH * T);
            CudaKernels.attentionForward(go, gl, dev(q), dev(k), dev(v), BH, T, hd, scale);
            close("attention out hd " + hd, out, go.floats(n), 1e-5);
            close("attention lse hd " + hd, lse, gl.floats(BH * T), 1e-5);
            float[] dq = gaussian(r, n, 1), dk = gaussian(r, n, 1), dv = gaussian(r, n, 1);
            EmuPtr eq = dev(dq), ek = dev(dk), ev = dev(dv);
            Attention.backwardRef(dq, dk, dv, dout, q, k, v, out, lse, BH, T, hd, scale);
            CudaKernels.attentionBackward(eq, ek, ev, dev(dout), dev(q), dev(k), dev(v), dev(out), dev(lse), nan(BH * T), BH, T, hd, scale);
            close("attention dq hd " + hd, dq, eq.floats(n), 1e-4);
            close("attention dk hd " + hd, dk, ek.floats(n), 1e-4);
            close("attention dv hd " + hd, dv, ev.floats(n), 1e-4);
        }
    }

    /** The launcher computes the bias corrections on the host; three steps match the CPU kernel's bits. */
    @Test void adamw_over_three_steps() {
        Random r = new Random(5);
        int n = 333;
        float[] p = gaussian(r, n, 1), g = gaussian(r, n, 1), m = gaussian(r, n, 0.1), v = new float[n];
        for (int i = 0; i < n; i++) v[i] = Math.abs(g[i]) * 0.01f;
        EmuPtr ep = dev(p), eg = dev(g), em = dev(m), ev = dev(v);
        for (long t = 1; t <= 3; t++) {
            AdamW.stepRef(p, g, m, v, 0, n, t, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.05f);
            CudaKernels.adamwStep(ep, eg, em, ev, n, t, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.05f);
        }
        assertArrayEquals(p, ep.floats(n), "p");
        assertArrayEquals(m, em.floats(n), "m");
        assertArrayEquals(v, ev.floats(n), "v");
    }

    @Test void gather_and_scatter_add() {
        Random r = new Random(6);
        int outer = 2, S = 5, J = 3, inner = 4;
        float[] x = gaussian(r, outer * S * inner, 1), dout = gaussian(r, outer * J * inner, 1);
        for (int idxInner : new int[]{1, inner}) {
            int[] idx = new int[outer * J * idxInner];
            for (int i = 0; i < idx.length; i++) idx[i] = r.nextInt(S);
            float[] want = new float[outer * J * inner];
            Gather.gather(want, x, 0, idx, outer, S, J, inner, idxInner);
            EmuPtr out = nan(want.length);
            CudaKernels.gather(out, dev(x), dev(idx), outer, S, J, inner, idxInner);
            assertArrayEquals(want, out.floats(want.length), "gather, idxInner " + idxInner);
            float[] dx0 = gaussian(r, outer * S * inner, 1), dx = dx0.clone();
            Gather.scatterAdd(dx, dout, idx, outer, S, J, inner, idxInner);
            EmuPtr edx = dev(dx0);
            CudaKernels.scatterAdd(edx, dev(dout), dev(idx), outer, S, J, inner, idxInner);
            assertArrayEquals(dx, edx.floats(dx.length), "scatter add, idxInner " + idxInner);
        }
    }

    /** Every precision and transpose, padded strides, a batch of 3 with strides, alpha and beta; 150 rows: two row tiles. */
    @Test void matmul_every_kernel() {
        Random r = new Random(7);
        int M = 150, N = 70, K = 9, batch = 3;
        for (Precision pr : Precision.values())
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 1, ldc = N + 3;
                int sa = (ta ? K : M) * lda + 5, sb = (tb ? N : K) * ldb + 1, sc = M * ldc + 2;
                float[] A = gaussian(r, batch * sa, 1), B = gaussian(r, batch * sb, 1), C = gaussian(r, batch * sc, 1), want = C.clone();
                float alpha = 0.75f, beta = t == 3 ? 0f : 0.5f;
                for (int z = 0; z < batch; z++)
                    Gemm.ref(ta, tb, M, N, K, alpha, A, z * sa, lda, B, z * sb, ldb, beta, want, z * sc, ldc);
                EmuPtr eC = dev(C);
                CudaKernels.matmul(ta, tb, M, N, K, alpha, dev(A), lda, sa, dev(B), ldb, sb, beta, eC, ldc, sc, batch, pr);
                close("matmul " + pr + " ta " + ta + " tb " + tb, want, eC.floats(want.length), 1e-5);
            }
    }

    /** The emulation itself refuses what a kernel would not take: a wrong type, a wrong count, a bad grid. */
    @Test void the_emulation_refuses_arguments_the_kernel_does_not_take() {
        EmuPtr p = nan(16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> emulated.launch("elementwise/fill_f32", 1, 1, 1, 256, 0, new Object[]{p, 1f, 4}));
        assertTrue(e.getMessage().contains("long long"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> emulated.launch("elementwise/fill_f32", 1, 1, 1, 256, 0, new Object[]{p, 1f, 4L, 2}));
        assertTrue(e.getMessage().contains("takes 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> emulated.launch("elementwise/fill_f32", 1, 1, 1, 256, 0, new Object[]{p, 1f}));
        assertTrue(e.getMessage().contains("takes more"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> emulated.launch("elementwise/fill_f32", 1, 70_000, 1, 256, 0, new Object[]{p, 1f, 4L}));
        assertTrue(e.getMessage().contains("bad grid"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> emulated.launch("elementwise/nope", 1, 1, 1, 256, 0, new Object[0]));
        assertTrue(e.getMessage().contains("no emulation"), e.getMessage());
        emulated.launch("elementwise/fill_f32", 1, 1, 1, 256, 0, new Object[]{p, 1f, 4L});
        assertEquals(1f, p.floats(4)[3]);
    }
}
