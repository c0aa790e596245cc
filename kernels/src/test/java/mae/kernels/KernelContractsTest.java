package mae.kernels;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The kernels' contracts at their edges, against plain definitions written here: every elementwise op, strided
 * views walked index by index, gather at every index layout, reductions over a middle axis (NaN, ties), the GEMM's
 * BLAS conventions (empty products, beta 0 ignoring NaN, alpha 0), the dot product, erf to 13 digits, and that
 * reference mode really runs the references.
 */
class KernelContractsTest {
    static float[] gaussian(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    // ---------------------------------------------------------------- elementwise

    @Test void every_unary_and_binary_op_is_its_definition() {
        float[] xs = {-2.5f, -1f, -0f, 0f, 0.3f, 1f, 4f};
        for (float x : xs) {
            assertEquals(-x, Elementwise.Unary.NEG.apply(x));
            assertEquals((float) Math.exp(x), Elementwise.Unary.EXP.apply(x));
            assertEquals((float) Math.tanh(x), Elementwise.Unary.TANH.apply(x));
            assertEquals((float) Erf.erf(x), Elementwise.Unary.ERF.apply(x));
            assertEquals(Math.abs(x), Elementwise.Unary.ABS.apply(x));
            assertEquals(x > 0 ? x : 0f, Elementwise.Unary.RELU.apply(x));
            assertEquals(x * x, Elementwise.Unary.SQUARE.apply(x));
            assertEquals(1f / x, Elementwise.Unary.RECIPROCAL.apply(x));
            if (x > 0) {
                assertEquals((float) Math.log(x), Elementwise.Unary.LOG.apply(x));
                assertEquals((float) Math.sqrt(x), Elementwise.Unary.SQRT.apply(x));
                assertEquals((float) (1 / Math.sqrt(x)), Elementwise.Unary.RSQRT.apply(x));
            }
            for (float y : new float[]{-1.5f, 0.5f, 2f}) {
                assertEquals(x + y, Elementwise.Binary.ADD.apply(x, y));
                assertEquals(x - y, Elementwise.Binary.SUB.apply(x, y));
                assertEquals(x * y, Elementwise.Binary.MUL.apply(x, y));
                assertEquals(x / y, Elementwise.Binary.DIV.apply(x, y));
                assertEquals((float) Math.pow(x, y), Elementwise.Binary.POW.apply(x, y));
                assertEquals(Math.max(x, y), Elementwise.Binary.MAX.apply(x, y));
                assertEquals(Math.min(x, y), Elementwise.Binary.MIN.apply(x, y));
            }
        }
        assertEquals(0f, Elementwise.Unary.RELU.apply(0f));
        assertEquals(Float.floatToIntBits(0f), Float.floatToIntBits(Elementwise.Unary.RELU.apply(-0f)), "RELU(-0) is +0");
        assertEquals(2f, Elementwise.Unary.RSQRT.apply(0.25f));
        assertEquals(-4f, Elementwise.Unary.RECIPROCAL.apply(-0.25f));
    }

    /** Offset of a row-major multi-index i (flat position p over shape) in a view (off, strides). */
    static int at(int p, int[] shape, int[] strides, int off) {
        for (int d = shape.length - 1; d >= 0; d--) { off += (p % shape[d]) * strides[d]; p /= shape[d]; }
        return off;
    }

    /** Random shapes (size-1 and rank-0 included) and strides: permuted, broadcast (0), padded, contiguous. */
    static int[][] view(Random r, int rank, boolean allowBroadcast) {
        int[] shape = new int[rank];
        for (int d = 0; d < rank; d++) shape[d] = 1 + r.nextInt(4);
        int[] strides = new int[rank];
        int kind = r.nextInt(4);
        int acc = 1 + (kind == 2 ? 1 : 0);
        for (int d = rank - 1; d >= 0; d--) { strides[d] = acc; acc *= shape[d] + (kind == 2 ? 1 : 0); }
        if (kind == 1 && rank > 1) { int t = strides[0]; strides[0] = strides[rank - 1]; strides[rank - 1] = t; }
        if (allowBroadcast && kind == 3 && rank > 0) strides[r.nextInt(rank)] = 0;
        return new int[][]{shape, strides};
    }

    static int span(int[] shape, int[] strides) {
        int m = 0;
        for (int d = 0; d < shape.length; d++) m += (shape[d] - 1) * strides[d];
        return m + 1;
    }

    @Test void strided_unary_binary_copy_walk_every_index() {
        Random r = new Random(11);
        for (int t = 0; t < 400; t++) {
            int rank = r.nextInt(5);
            int[][] v = view(r, rank, true), w = view(r, rank, true);
            int[] shape = v[0], xs = v[1];
            int[] ys = w[1];                                            // another view's strides over the same shape
            int n = Elementwise.numel(shape), xo = r.nextInt(3), yo = r.nextInt(3), oo = r.nextInt(3);
            float[] x = gaussian(r, xo + span(shape, xs) + 2), y = gaussian(r, yo + span(shape, ys) + 2);
            String what = Arrays.toString(shape) + " x " + Arrays.toString(xs) + " y " + Arrays.toString(ys);

            float[] u = new float[oo + n + 1];
            Elementwise.unary(Elementwise.Unary.SQUARE, u, oo, shape, x, xo, xs);
            float[] c = new float[oo + n + 1];
            Elementwise.copy(c, oo, shape, x, xo, xs);
            for (int p = 0; p < n; p++) {
                float xv = x[at(p, shape, xs, xo)];
                assertEquals(xv * xv, u[oo + p], "unary " + what + " at " + p);
                assertEquals(xv, c[oo + p], "copy " + what + " at " + p);
            }
            assertEquals(0f, u[oo + n]);
            assertEquals(0f, c[oo + n]);
            for (Elementwise.Binary op : Elementwise.Binary.values()) {
                float[] b = new float[oo + n + 1];
                Elementwise.binary(op, b, oo, shape, x, xo, xs, y, yo, ys);
                for (int p = 0; p < n; p++)
                    assertEquals(op.apply(x[at(p, shape, xs, xo)], y[at(p, shape, ys, yo)]), b[oo + p], "binary " + op + " " + what + " at " + p);
                assertEquals(0f, b[oo + n]);
            }

            // copyStrided into a view of a larger buffer (rows padded or not): every other element untouched
            int[] os = contiguousPadded(shape, r.nextInt(2));
            float[] dst = gaussian(r, oo + span(shape, os) + 2), want = dst.clone();
            for (int p = 0; p < n; p++) want[at(p, shape, os, oo)] = x[at(p, shape, xs, xo)];
            Elementwise.copyStrided(dst, oo, os, shape, x, xo, xs);
            assertArrayEquals(want, dst, "copyStrided " + what + " into " + Arrays.toString(os));
        }
        float[] dst = {5f};
        Elementwise.copyStrided(dst, 0, new int[]{1, 1}, new int[]{0, 3}, new float[]{1f}, 0, new int[]{1, 1});
        Elementwise.copyStrided(dst, 0, new int[]{1, 1}, new int[]{3, 0}, new float[]{1f}, 0, new int[]{1, 1});
        assertEquals(5f, dst[0], "an empty copy writes nothing");
    }

    /** Row-major strides of shape with `pad` extra elements after each row of each dim (a view into a larger buffer). */
    static int[] contiguousPadded(int[] shape, int pad) {
        int[] st = new int[shape.length];
        int acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) { st[d] = acc; acc = acc * shape[d] + pad; }
        return st;
    }

    /**
     * Views large enough for the rows of a strided binary op to be split over the threads, each chunk starting its
     * index counter mid-way: the loss's pred - target (pred drops a cls row: (N, 1 + L, P) narrowed to (N, L, P)),
     * a per-row broadcast value (t - mean, mean (N, L, 1)), a broadcast row, a transposed operand, odd sizes.
     */
    @Test void strided_binary_ops_split_over_threads_match_every_element() {
        Random r = new Random(5);
        int N = 7, L = 61, P = 333;                                      // 427 rows of 333: past the threading threshold
        int[] shape = {N, L, P};
        int[][][] views = {                                               // {strides a, strides b}
                {{(L + 1) * P, P, 1}, {L * P, P, 1}},                     // narrowed pred, contiguous target
                {{L * P, P, 1}, {L, 1, 0}},                               // a row against its broadcast mean
                {{L * P, P, 1}, {0, 0, 1}},                               // a broadcast row
                {{L * P, 1, L}, {(L + 1) * P, P, 1}},                     // a transposed view (last dim strided)
        };
        for (int[][] v : views)
            for (Elementwise.Binary op : new Elementwise.Binary[]{Elementwise.Binary.SUB, Elementwise.Binary.DIV, Elementwise.Binary.MAX}) {
                int ao = r.nextInt(3), bo = r.nextInt(3), oo = 1, n = N * L * P;
                float[] a = gaussian(r, ao + span(shape, v[0]) + 1), b = gaussian(r, bo + span(shape, v[1]) + 1);
                float[] out = new float[oo + n + 1];
                Arrays.fill(out, Float.NaN);
                Elementwise.binary(op, out, oo, shape, a, ao, v[0], b, bo, v[1]);
                for (int p = 0; p < n; p++)
                    assertEquals(op.apply(a[at(p, shape, v[0], ao)], b[at(p, shape, v[1], bo)]), out[oo + p],
                            op + " a " + Arrays.toString(v[0]) + " b " + Arrays.toString(v[1]) + " at " + p);
                assertTrue(Float.isNaN(out[0]) && Float.isNaN(out[oo + n]), "nothing written outside the output");
            }
    }

    @Test void contiguity_ignores_size_one_dims() {
        assertTrue(Elementwise.isContiguous(new int[]{2, 1, 3}, new int[]{3, 99, 1}));
        assertFalse(Elementwise.isContiguous(new int[]{2, 2, 3}, new int[]{6, 99, 1}));
        assertFalse(Elementwise.isContiguous(new int[]{2, 3}, new int[]{1, 2}));
        assertTrue(Elementwise.isContiguous(new int[0], new int[0]));
        assertEquals(1, Elementwise.numel(new int[0]));
        assertEquals(0, Elementwise.numel(new int[]{3, 0}));
    }

    // ---------------------------------------------------------------- gather

    @Test void gather_and_scatter_add_at_every_index_layout() {
        Random r = new Random(12);
        for (int[] s : new int[][]{{1, 4, 3, 1}, {3, 4, 5, 2}, {2, 3, 6, 5}}) {
            int outer = s[0], S = s[1], J = s[2], inner = s[3];
            for (int idxInner : new int[]{1, inner}) {
                int[] idx = new int[outer * J * idxInner];
                for (int i = 0; i < idx.length; i++) idx[i] = r.nextInt(S);
                float[] x = gaussian(r, 3 + outer * S * inner), out = new float[outer * J * inner], dout = gaussian(r, out.length);
                float[] dx = gaussian(r, outer * S * inner), dxWant = dx.clone();
                Gather.gather(out, x, 3, idx, outer, S, J, inner, idxInner);
                Gather.scatterAdd(dx, dout, idx, outer, S, J, inner, idxInner);
                for (int o = 0; o < outer; o++)
                    for (int j = 0; j < J; j++)
                        for (int i = 0; i < inner; i++) {
                            int sIdx = idx[(o * J + j) * idxInner + (idxInner == 1 ? 0 : i)];
                            assertEquals(x[3 + (o * S + sIdx) * inner + i], out[(o * J + j) * inner + i], Arrays.toString(s) + " " + idxInner);
                            dxWant[(o * S + sIdx) * inner + i] += dout[(o * J + j) * inner + i];
                        }
                assertArrayEquals(dxWant, dx, 1e-6f, "scatter add " + Arrays.toString(s) + " " + idxInner);
            }
        }
        for (int bad : new int[]{-1, 3}) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> Gather.gather(new float[4], new float[6], 0, new int[]{0, 1, bad, 0}, 1, 3, 2, 2, 2));
            assertTrue(e.getMessage().contains("gather index " + bad + " out of range [0, 3)"), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> Gather.scatterAdd(new float[6], new float[2], new int[]{1, bad}, 1, 3, 2, 1, 1));
        }
        assertEquals(2, Gather.check(2, 3));
        assertEquals(0, Gather.check(0, 3));
    }

    // ---------------------------------------------------------------- reductions

    @Test void max_over_a_middle_axis_takes_the_first_maximum_and_nan_wins() {
        int outer = 2, n = 4, inner = 3;
        float[] x = new float[2 + outer * n * inner];
        Random r = new Random(13);
        for (int i = 0; i < x.length; i++) x[i] = r.nextInt(5);           // small integers: ties
        x[2 + (1 * n + 2) * inner + 1] = Float.NaN;                        // o 1, j 2, i 1
        x[2 + (1 * n + 3) * inner + 1] = 99;                               // after the NaN: NaN still wins
        float[] out = new float[outer * inner];
        int[] arg = new int[outer * inner];
        Reduce.max(out, arg, x, 2, outer, n, inner);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                float best = Float.NEGATIVE_INFINITY;
                int bi = -1;
                for (int j = 0; j < n; j++) {
                    float v = x[2 + (o * n + j) * inner + i];
                    if (Float.isNaN(v)) { best = v; bi = j; break; }
                    if (v > best) { best = v; bi = j; }
                }
                assertEquals(best, out[o * inner + i], "max o" + o + " i" + i);
                assertEquals(bi, arg[o * inner + i], "argmax o" + o + " i" + i);
            }
        assertTrue(Float.isNaN(out[inner + 1]));
        assertEquals(2, arg[inner + 1]);
    }

    @Test void variance_over_a_middle_axis_with_and_without_correction() {
        Random r = new Random(14);
        int outer = 3, n = 5, inner = 4;
        float[] x = gaussian(r, 1 + outer * n * inner);
        for (int corr = 0; corr <= 1; corr++) {
            float[] out = new float[outer * inner];
            Reduce.var(out, x, 1, outer, n, inner, corr);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++) {
                    double m = 0, ss = 0;
                    for (int j = 0; j < n; j++) m += x[1 + (o * n + j) * inner + i];
                    m /= n;
                    for (int j = 0; j < n; j++) { double d = x[1 + (o * n + j) * inner + i] - m; ss += d * d; }
                    assertEquals(ss / (n - corr), out[o * inner + i], 1e-6, "var o" + o + " i" + i + " correction " + corr);
                }
        }
    }

    /** The sums overwrite their output (it may hold anything), on every split. */
    @Test void sums_overwrite_what_the_output_held() {
        Random r = new Random(15);
        for (int[] s : new int[][]{{600, 9, 1}, {2, 5, 300}, {3, 7, 5}}) {
            float[] x = gaussian(r, 4 + s[0] * s[1] * s[2]), ref = new float[s[0] * s[2]];
            Reduce.sumRef(ref, x, 4, s[0], s[1], s[2]);
            for (int t : new int[]{1, 3}) {
                float[] out = new float[ref.length];
                Arrays.fill(out, 123f);
                Parallel.splitAs(t, () -> Reduce.sum(out, x, 4, s[0], s[1], s[2]));
                KernelsTest.assertClose(ref, out, 1e-5, "sum " + Arrays.toString(s) + " over " + t);
            }
        }
    }

    // ---------------------------------------------------------------- GEMM conventions and the dot product

    @Test void gemm_follows_blas_conventions() {
        Random r = new Random(16);
        float[] A = gaussian(r, 40), B = gaussian(r, 40);
        for (boolean fast : new boolean[]{true, false}) {
            boolean was = KernelMode.setReference(!fast);
            try {
                String mode = fast ? "fast" : "reference";
                float[] C = {1, 2, 3, 4, 5, 6};
                Gemm.gemm(false, false, 0, 3, 2, 1f, A, 0, 2, B, 0, 3, 0f, C, 0, 3);
                Gemm.gemm(false, false, 2, 0, 2, 1f, A, 0, 2, B, 0, 3, 0f, C, 0, 3);
                assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, C, mode + ": an empty C is not touched");
                Gemm.gemm(false, false, 2, 3, 0, 1f, A, 0, 2, B, 0, 3, 0.5f, C, 0, 3);
                assertArrayEquals(new float[]{0.5f, 1, 1.5f, 2, 2.5f, 3}, C, mode + ": K = 0 leaves beta C");
                Gemm.gemm(false, false, 2, 3, 2, 0f, A, 0, 2, B, 0, 3, -2f, C, 0, 3);
                assertArrayEquals(new float[]{-1, -2, -3, -4, -5, -6}, C, mode + ": alpha 0 leaves beta C");
                float[] nan = {Float.NaN, Float.NaN, Float.NaN, Float.NaN, Float.NaN, Float.NaN}, want = new float[6];
                Gemm.gemm(false, false, 2, 3, 2, 1f, A, 0, 2, B, 0, 3, 0f, nan, 0, 3);
                Gemm.ref(false, false, 2, 3, 2, 1f, A, 0, 2, B, 0, 3, 0f, want, 0, 3);
                assertArrayEquals(want, nan, 1e-6f, mode + ": beta 0 ignores NaN in C");
                float[] keep = {1, 2, 3, 4, 5, 6};
                Gemm.gemm(false, false, 2, 3, 0, 1f, A, 0, 2, B, 0, 3, 1f, keep, 0, 3);
                assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, keep, mode + ": beta 1, K = 0");
            } finally {
                KernelMode.setReference(was);
            }
        }
        float[] C = {Float.NaN, Float.NaN};
        Gemm.ref(false, false, 1, 2, 1, 1f, new float[]{2}, 0, 1, new float[]{3, 4}, 0, 2, 0f, C, 0, 2);
        assertArrayEquals(new float[]{6, 8}, C, "ref: beta 0 ignores NaN too");
        float[] nanA = new float[600 * 40], bb = new float[40 * 600], cc = new float[600 * 600];
        java.util.Arrays.fill(nanA, Float.NaN);
        java.util.Arrays.fill(cc, 2f);
        Gemm.gemm(false, false, 600, 600, 40, 0f, nanA, 0, 40, bb, 0, 600, 0.5f, cc, 0, 600);
        for (float v : cc) assertEquals(1f, v, "alpha 0: A is not read (BLAS), even when it holds NaN");
    }

    @Test void dot_products_of_any_length_and_offset() {
        Random r = new Random(17);
        for (int n : new int[]{0, 1, 7, 16, 37, 100}) {
            float[] x = gaussian(r, n + 3), y = gaussian(r, n + 5);
            double want = 0;
            for (int i = 0; i < n; i++) want += (double) x[3 + i] * y[5 + i];
            assertEquals(want, Gemm.dot(x, 3, y, 5, n), 1e-5 * (1 + Math.sqrt(n)), "n " + n);
        }
        float[] big = new float[45];
        Arrays.fill(big, 1f);
        big[44] = 1000f;                                                   // the last element, in the scalar tail
        assertEquals(44f, Gemm.dot(big, 0, big, 0, 44));
        assertEquals(44f + 1_000_000f, Gemm.dot(big, 0, big, 0, 45), "the tail counts");
    }

    // ---------------------------------------------------------------- erf

    @Test void erf_to_thirteen_digits_across_its_methods() {
        // values of Python's math.erf
        double[][] t = {{1e-3, 0.0011283787909692363}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149},
                {2, 0.9953222650189527}, {2.4, 0.9993114861033549}, {2.5, 0.9995930479825550},
                {3, 0.9999779095030014}, {4.5, 0.9999999998033839}, {5.9, 0.9999999999999999}, {6, 1.0}, {7, 1.0}};
        for (double[] p : t) {
            assertEquals(p[1], Erf.erf(p[0]), 3e-14, "erf(" + p[0] + ")");
            assertEquals(-p[1], Erf.erf(-p[0]), 3e-14, "erf(-" + p[0] + ")");
        }
        assertTrue(Double.isNaN(Erf.erf(Double.NaN)));
        assertEquals(0.0, Erf.erf(0.0));
        assertEquals(1.0, Erf.erf(Double.POSITIVE_INFINITY));
        assertEquals(-1.0, Erf.erf(Double.NEGATIVE_INFINITY));
    }

    /** Pooled buffers: from MIN_POOLED floats up, counted in the stats with their bytes. */
    @Test void the_workspace_pools_from_its_minimum_size_and_counts_bytes() {
        Workspace ws = new Workspace();
        try (Workspace.Scope s = ws.open()) {
            Workspace.floats(Workspace.MIN_POOLED - 1);
            assertEquals(0, ws.stats().created(), "smaller buffers come from the JVM");
            Workspace.floats(Workspace.MIN_POOLED);
            Workspace.floats(1000);
            s.close();
            s.close();                                                   // idempotent
        }
        assertEquals(2, ws.stats().created());
        assertEquals(4L * (Workspace.MIN_POOLED + 1000), ws.stats().createdBytes());
        try (Workspace.Scope s = ws.open()) {
            assertArrayEquals(new float[1000], Workspace.floats(1000), "a reused buffer comes back zeroed");
        }
        assertEquals(1, ws.stats().reused());
        assertFalse(Workspace.isOpen());
        HostStorage h = new HostStorage(new float[3]);
        assertEquals(3, h.length());
        assertEquals("cpu storage of 3 elements", h.toString());
        assertSame(CpuBackend.INSTANCE, h.backend());
    }

    // ---------------------------------------------------------------- reference mode

    /**
     * In reference mode the dispatching kernels give their plain-loop reference's bits; outside it, on these
     * inputs, the fast kernels give other bits (so the switch is what the check sees). Softmax, the layer norm
     * forward and AdamW compute the same bits both ways, by design (KernelsTest).
     */
    @Test void reference_mode_runs_the_references() {
        Random r = new Random(18);
        int M = 40, N = 50, K = 300, n = 5000;
        float[] A = gaussian(r, M * K), B = gaussian(r, K * N), x = gaussian(r, n), d = gaussian(r, n);
        int BH = 2, T = 40, hd = 16, m = BH * T * hd;
        float[] q = gaussian(r, m), k = gaussian(r, m), v = gaussian(r, m);
        for (boolean ref : new boolean[]{true, false}) {
            boolean was = KernelMode.setReference(ref);
            assertEquals(ref, KernelMode.reference());
            try {
                float[] c1 = new float[M * N], c2 = new float[M * N];
                Gemm.gemm(false, false, M, N, K, 1f, A, 0, K, B, 0, N, 0f, c1, 0, N);
                Gemm.ref(false, false, M, N, K, 1f, A, 0, K, B, 0, N, 0f, c2, 0, N);
                check(ref, "gemm", c2, c1);
                float[] g1 = new float[n], g2 = new float[n];
                Gelu.forward(g1, x, n);
                Gelu.forwardRef(g2, x, n);
                check(ref, "gelu", g2, g1);
                float[] b1 = d.clone(), b2 = d.clone();
                Gelu.backward(b1, d, x, n);
                Gelu.backwardRef(b2, d, x, n);
                check(ref, "gelu backward", b2, b1);
                float[] s1 = new float[10], s2 = new float[10];
                Reduce.sum(s1, x, 0, 10, 500, 1);
                Reduce.sumRef(s2, x, 0, 10, 500, 1);
                check(ref, "sum", s2, s1);
                float[] o1 = new float[m], o2 = new float[m], l1 = new float[BH * T], l2 = new float[BH * T];
                Attention.forward(o1, l1, q, k, v, BH, T, hd, 0.3f);
                Attention.forwardRef(o2, l2, q, k, v, BH, T, hd, 0.3f);
                check(ref, "attention", o2, o1);
                float[] dq1 = new float[m], dk1 = new float[m], dv1 = new float[m], dq2 = new float[m], dk2 = new float[m], dv2 = new float[m];
                Attention.backward(dq1, dk1, dv1, v, q, k, v, o2, l2, BH, T, hd, 0.3f);
                Attention.backwardRef(dq2, dk2, dv2, v, q, k, v, o2, l2, BH, T, hd, 0.3f);
                check(ref, "attention backward", dq2, dq1);
                int rows = 200, C = 25;
                float[] w = gaussian(r, C), mean = new float[rows], rstd = new float[rows];
                LayerNorm.forwardRef(new float[rows * C], mean, rstd, x, w, w, rows, C, 1e-5f);
                float[] dx1 = new float[rows * C], dw1 = new float[C], db1 = new float[C], dx2 = new float[rows * C], dw2 = new float[C], db2 = new float[C];
                Parallel.splitAs(2, () -> LayerNorm.backward(dx1, dw1, db1, d, x, w, mean, rstd, rows, C));
                LayerNorm.backwardRef(dx2, dw2, db2, d, x, w, mean, rstd, rows, C);
                check(ref, "layer norm backward dw", dw2, dw1);
            } finally {
                KernelMode.setReference(was);
            }
        }
        assertFalse(KernelMode.setReference(false));
        assertFalse(KernelMode.reference());
        assertFalse(KernelMode.setReference(true));
        assertTrue(CpuBackend.INSTANCE.describe().startsWith("reference kernels"), CpuBackend.INSTANCE.describe());
        assertTrue(KernelMode.setReference(false), "the previous mode, true");
        assertTrue(CpuBackend.INSTANCE.describe().startsWith("fast kernels"), CpuBackend.INSTANCE.describe());
    }

    private static void check(boolean ref, String what, float[] reference, float[] got) {
        if (ref) assertArrayEquals(reference, got, what + " in reference mode");
        else assertFalse(Arrays.equals(reference, got), what + ": the fast kernel's bits differ here, so the check above can fail");
    }
}
