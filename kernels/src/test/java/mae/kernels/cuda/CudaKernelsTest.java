package mae.kernels.cuda;

import mae.kernels.AdamW;
import mae.kernels.Elementwise;
import mae.kernels.Gather;
import mae.kernels.Gelu;
import mae.kernels.LayerNorm;
import mae.kernels.Reduce;
import mae.kernels.Softmax;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every non-matmul, non-attention CUDA kernel against its CPU reference in mae.kernels (the plain-loop *Ref
 * versions where a fast CPU path exists), on awkward sizes
 * (1, odd, primes, not multiples of 8/16/32, larger than one block or one grid pass).
 */
class CudaKernelsTest extends CudaTestBase {
    static final int[] SIZES = {1, 7, 33, 1000, 100_003};

    // ------------------------------------------------------------------------------------------- elementwise

    /** Inputs inside each op's domain. */
    static float[] unaryInput(Elementwise.Unary op, Random r, int n) {
        switch (op) {
            case LOG: case SQRT: case RSQRT: case RECIPROCAL: return uniform(r, n, 0.01, 10);
            default: return gaussian(r, n, 3);
        }
    }

    @Test void unary_ops_match_cpu() {
        Random r = new Random(1);
        for (Elementwise.Unary op : Elementwise.Unary.values())
            for (int n : SIZES) {
                float[] x = unaryInput(op, r, n), ref = new float[n];
                Elementwise.unary(op, ref, 0, new int[]{n}, x, 0, new int[]{1});
                DeviceBuffer dx = dev(x), out = devZeros(n);
                CudaKernels.unary(op, out.ptr(), dx.ptr(), n);
                // CUDA's expf, logf, tanhf, erff, powf are within 2 ulp (CUDA C Programming Guide, "Mathematical
                // functions"); the CPU rounds a double result (0.5 ulp): 4 ulp ~ 2.4e-7 relative, plus an absolute
                // floor for results near 0 (tanh, erf of tiny x).
                assertClose(op + " n=" + n, ref, out.toFloats(), 1e-7, 5e-7);
            }
    }

    @Test void binary_ops_match_cpu() {
        Random r = new Random(2);
        for (Elementwise.Binary op : Elementwise.Binary.values())
            for (int n : SIZES) {
                float[] a = op == Elementwise.Binary.POW ? uniform(r, n, 0.1, 3) : gaussian(r, n, 2);
                float[] b = op == Elementwise.Binary.POW ? uniform(r, n, -2, 2) : gaussian(r, n, 2);
                float[] ref = new float[n];
                Elementwise.binary(op, ref, 0, new int[]{n}, a, 0, new int[]{1}, b, 0, new int[]{1});
                DeviceBuffer out = devZeros(n);
                CudaKernels.binary(op, out.ptr(), dev(a).ptr(), dev(b).ptr(), n);
                // + - * / are IEEE-exact in both; powf is within 2 ulp.
                assertClose(op + " n=" + n, ref, out.toFloats(), 0, op == Elementwise.Binary.POW ? 5e-7 : 0);
            }
    }

    @Test void max_min_propagate_nan_like_java() {
        float[] a = {Float.NaN, 1, 2, Float.NaN}, b = {1, Float.NaN, 3, Float.NaN};
        for (Elementwise.Binary op : new Elementwise.Binary[]{Elementwise.Binary.MAX, Elementwise.Binary.MIN}) {
            float[] ref = new float[4];
            Elementwise.binary(op, ref, 0, new int[]{4}, a, 0, new int[]{1}, b, 0, new int[]{1});
            DeviceBuffer out = devZeros(4);
            CudaKernels.binary(op, out.ptr(), dev(a).ptr(), dev(b).ptr(), 4);
            assertExact(op.toString(), ref, out.toFloats());
        }
    }

    @Test void strided_unary_and_copy_match_cpu() {
        Random r = new Random(3);
        // a (5, 3, 7) buffer viewed transposed as (7, 5, 3): strides (1, 21, 7); and a column slice with offset.
        float[] x = gaussian(r, 5 * 3 * 7, 1);
        int[] shape = {7, 5, 3}, strides = {1, 21, 7};
        for (Elementwise.Unary op : new Elementwise.Unary[]{null, Elementwise.Unary.EXP, Elementwise.Unary.SQUARE}) {
            float[] ref = new float[105];
            if (op == null) Elementwise.copy(ref, 0, shape, x, 0, strides);
            else Elementwise.unary(op, ref, 0, shape, x, 0, strides);
            DeviceBuffer out = devZeros(105);
            CudaKernels.unaryStrided(op, out.ptr(), shape, dev(x).ptr(), strides);
            assertClose("strided " + op, ref, out.toFloats(), 1e-7, 5e-7);
        }
        // offset view: rows 1.. of a (6, 9) buffer, columns 2..6, shape (5, 5) strides (9, 1), offset 11
        float[] y = gaussian(r, 54, 1), ref = new float[25];
        Elementwise.copy(ref, 0, new int[]{5, 5}, y, 11, new int[]{9, 1});
        DeviceBuffer out = devZeros(25);
        CudaKernels.unaryStrided(null, out.ptr(), new int[]{5, 5}, dev(y).at(11), new int[]{9, 1});
        assertExact("offset copy", ref, out.toFloats());
    }

    @Test void strided_copy_into_a_slice_matches_cpu() {
        Random r = new Random(16);
        // x: a transposed (4, 6) view of a (6, 4) buffer; out: columns 2..7 of rows 1..4 of a (5, 9) buffer
        float[] x = gaussian(r, 24, 1), out = gaussian(r, 45, 1), ref = out.clone();
        int[] shape = {4, 6}, outStrides = {9, 1}, xStrides = {1, 4};
        Elementwise.copyStrided(ref, 11, outStrides, shape, x, 0, xStrides);
        DeviceBuffer dOut = dev(out);
        CudaKernels.copyStrided(dOut.at(11), outStrides, shape, dev(x).ptr(), xStrides);
        assertExact("copyStrided", ref, dOut.toFloats());
    }

    @Test void broadcast_binary_matches_cpu_up_to_rank_5_when_dims_merge() {
        Random r = new Random(4);
        int[][] shapes = {{4, 5, 6}, {4, 5, 6}, {2, 3, 4, 5, 6}, {1, 1, 1}, {33, 1, 17}, {3, 1, 5, 7}};
        int[][][] strides = {
                {{30, 6, 1}, {0, 1, 0}},              // (4,5,6) + (5,1)
                {{1, 4, 20}, {6, 0, 1}},              // a transposed view, b (4,1,6)
                {{360, 120, 30, 6, 1}, {0, 0, 0, 0, 1}},  // bias over the last dim, rank 5 merges to 2
                {{0, 0, 0}, {0, 0, 0}},               // scalars
                {{17, 0, 1}, {0, 0, 1}},
                {{35, 0, 7, 1}, {0, 0, 1, 5}}};       // b a transposed (5, 7) broadcast over the first dim
        for (int c = 0; c < shapes.length; c++) {
            int[] shape = shapes[c];
            int n = (int) CudaKernels.numel(shape);
            float[] a = gaussian(r, span(shape, strides[c][0]), 1), b = gaussian(r, span(shape, strides[c][1]), 1);
            for (Elementwise.Binary op : new Elementwise.Binary[]{Elementwise.Binary.ADD, Elementwise.Binary.MUL, Elementwise.Binary.DIV}) {
                float[] ref = new float[n];
                Elementwise.binary(op, ref, 0, shape, a, 0, strides[c][0], b, 0, strides[c][1]);
                DeviceBuffer out = devZeros(n);
                CudaKernels.binaryStrided(op, out.ptr(), shape, dev(a).ptr(), strides[c][0], dev(b).ptr(), strides[c][1]);
                assertExact("case " + c + " " + op, ref, out.toFloats());
            }
        }
    }

    static int span(int[] shape, int[] strides) {
        int s = 1;
        for (int d = 0; d < shape.length; d++) s += (shape[d] - 1) * strides[d];
        return s;
    }

    @Test void add_bias_and_fill() {
        Random r = new Random(5);
        int rows = 197, C = 77;
        float[] x = gaussian(r, rows * C, 1), bias = gaussian(r, C, 1), ref = new float[rows * C];
        Elementwise.binary(Elementwise.Binary.ADD, ref, 0, new int[]{rows, C}, x, 0, new int[]{C, 1}, bias, 0, new int[]{0, 1});
        DeviceBuffer dx = dev(x);
        CudaKernels.addBias(dx.ptr(), dx.ptr(), dev(bias).ptr(), rows, C);   // in place
        assertExact("addBias", ref, dx.toFloats());

        DeviceBuffer f = devZeros(1001);
        CudaKernels.fill(f.ptr(), 3.5f, 1001);
        float[] three = new float[1001];
        java.util.Arrays.fill(three, 3.5f);
        assertExact("fill", three, f.toFloats());
    }

    // ------------------------------------------------------------------------------------------------ reduce

    static final int[][] REDUCE_SHAPES = {{1, 1, 1}, {3, 7, 1}, {1, 100_003, 1}, {5000, 33, 1}, {7, 13, 5},
            {2, 1000, 33}, {1, 20_000, 200}, {1, 3, 100_003}};

    @Test void sum_is_exact_on_integers_and_close_on_floats() {
        Random r = new Random(6);
        for (int[] s : REDUCE_SHAPES) {
            int outer = s[0], n = s[1], inner = s[2];
            for (boolean integers : new boolean[]{true, false}) {
                float[] x = integers ? ints(r, outer * n * inner, -3, 3) : gaussian(r, outer * n * inner, 1);
                float[] ref = new float[outer * inner], absSum = new float[outer * inner], ax = new float[x.length];
                Reduce.sumRef(ref, x, 0, outer, n, inner);
                for (int i = 0; i < x.length; i++) ax[i] = Math.abs(x[i]);
                Reduce.sumRef(absSum, ax, 0, outer, n, inner);
                DeviceBuffer out = devZeros(outer * inner);
                CudaKernels.sum(out.ptr(), dev(x).ptr(), outer, n, inner);
                String what = "sum " + java.util.Arrays.toString(s) + (integers ? " integers" : " gaussian");
                float[] got = out.toFloats();
                if (integers) { assertExact(what, ref, got); continue; }   // partial sums < 2^24: exact in any order
                // Gaussian: float runs of at most ceil(n/8) terms per thread, then a tree and atomics. The rounding
                // error is a random walk, ~ 2^-24 * sqrt(run) * sum|x| / sqrt(n) and far below 1e-6 * sum|x|
                // (which is ~50x that for n = 1e5); a dropped or doubled term shows in the integer case above.
                for (int i = 0; i < ref.length; i++)
                    assertEquals(ref[i], got[i], 1e-6 * absSum[i] + 1e-6, what + " element " + i);
            }
        }
    }

    @Test void max_and_argmax_match_cpu_with_ties_and_nan() {
        Random r = new Random(7);
        int[][] shapes = {{1, 1, 1}, {3, 7, 1}, {100, 1000, 1}, {4, 9, 5}, {2, 300, 33}};
        for (int[] s : shapes) {
            int outer = s[0], n = s[1], inner = s[2];
            float[] x = ints(r, outer * n * inner, -5, 5);              // many ties: the first index must win
            if (x.length > 40) { x[17] = Float.NaN; x[x.length - 3] = Float.NaN; }
            float[] ref = new float[outer * inner];
            int[] refArg = new int[outer * inner];
            Reduce.max(ref, refArg, x, 0, outer, n, inner);
            DeviceBuffer out = devZeros(outer * inner), arg = devZeros(outer * inner);
            CudaKernels.max(out.ptr(), arg.ptr(), dev(x).ptr(), outer, n, inner);
            assertExact("max " + java.util.Arrays.toString(s), ref, out.toFloats());
            assertArrayEquals(refArg, arg.toInts(), "argmax " + java.util.Arrays.toString(s));
        }
    }

    // ----------------------------------------------------------------------------------------------- softmax

    @Test void softmax_forward_backward_match_cpu() {
        Random r = new Random(8);
        int[][] shapes = {{1, 1}, {3, 7}, {100, 197}, {17, 1000}, {2, 5000}};
        for (int[] s : shapes) {
            int rows = s[0], cols = s[1];
            float[] x = gaussian(r, rows * cols, 3), ref = new float[rows * cols];
            Softmax.forward(ref, x, rows, cols);
            DeviceBuffer y = devZeros(rows * cols);
            CudaKernels.softmaxForward(y.ptr(), dev(x).ptr(), rows, cols);
            // expf within 2 ulp, the row sum in float (relative error ~ log2(cols) ulp): 1e-5 relative.
            float[] got = y.toFloats();
            assertClose("softmax " + rows + "x" + cols, ref, got, 1e-8, 1e-5);

            float[] dy = gaussian(r, rows * cols, 1), dx = gaussian(r, rows * cols, 1), dxRef = dx.clone();
            Softmax.backward(dxRef, dy, ref, rows, cols);
            DeviceBuffer ddx = dev(dx);
            CudaKernels.softmaxBackward(ddx.ptr(), dev(dy).ptr(), dev(ref).ptr(), rows, cols);
            // dot(dy, y) in float vs double: |error| <= cols * 2^-24 * sum|dy y| ~ 1e-6; dx is O(1).
            assertClose("softmax backward " + rows + "x" + cols, dxRef, ddx.toFloats(), 2e-6, 1e-5);
        }
    }

    // -------------------------------------------------------------------------------------------- layer norm

    @Test void layernorm_forward_backward_match_cpu() {
        Random r = new Random(9);
        int[][] shapes = {{1, 1}, {3, 7}, {50, 768}, {197, 100}, {1000, 33}};
        float eps = 1e-6f;
        for (int[] s : shapes) {
            int rows = s[0], C = s[1];
            float[] x = gaussian(r, rows * C, 2), w = gaussian(r, C, 1), b = gaussian(r, C, 1);
            for (int i = 0; i < x.length; i++) x[i] += 0.5f;   // a mean to subtract
            float[] out = new float[rows * C], mean = new float[rows], rstd = new float[rows];
            LayerNorm.forward(out, mean, rstd, x, w, b, rows, C, eps);
            DeviceBuffer dOut = devZeros(rows * C), dMean = devZeros(rows), dRstd = devZeros(rows);
            DeviceBuffer dX = dev(x), dW = dev(w), dB = dev(b);
            CudaKernels.layerNormForward(dOut.ptr(), dMean.ptr(), dRstd.ptr(), dX.ptr(), dW.ptr(), dB.ptr(), rows, C, eps);
            String what = "layernorm " + rows + "x" + C;
            // mean and variance in float (CPU: double): relative error ~ C * 2^-24 at worst for C = 768 -> 5e-5 of
            // the row's scale; out = xhat * w + b is O(3).
            assertClose(what + " mean", mean, dMean.toFloats(), 1e-5, 1e-5);
            assertClose(what + " rstd", rstd, dRstd.toFloats(), 0, 5e-5);
            assertClose(what + " out", out, dOut.toFloats(), 2e-4, 5e-5);

            // backward adds into random initial gradients
            float[] dout = gaussian(r, rows * C, 1);
            float[] dx = gaussian(r, rows * C, 1), dw = gaussian(r, C, 1), db = gaussian(r, C, 1);
            float[] dxRef = dx.clone(), dwRef = dw.clone(), dbRef = db.clone();
            LayerNorm.backward(dxRef, dwRef, dbRef, dout, x, w, mean, rstd, rows, C);
            DeviceBuffer gdx = dev(dx), gdw = dev(dw), gdb = dev(db);
            CudaKernels.layerNormBackward(gdx.ptr(), gdw.ptr(), gdb.ptr(), dev(dout).ptr(), dX.ptr(), dW.ptr(),
                    dev(mean).ptr(), dev(rstd).ptr(), rows, C);
            // dx: two float row means (CPU: double) of O(|w|) terms, times rstd ~ 0.5: ~1e-5 absolute for C <= 768.
            assertClose(what + " dx", dxRef, gdx.toFloats(), 5e-5, 1e-4);
            // dw, db: sums over rows of O(1) terms through shared and global atomics (any order):
            // error ~ rows * 2^-24 * sum|term| at worst -> 1e-6 * rows is generous.
            assertClose(what + " dw", dwRef, gdw.toFloats(), 1e-5 + 1e-6 * rows, 1e-5);
            assertClose(what + " db", dbRef, gdb.toFloats(), 1e-5 + 1e-6 * rows, 1e-5);

            // dw, db null: dx alone
            float[] dx2 = new float[rows * C], dx2Ref = new float[rows * C];
            LayerNorm.backward(dx2Ref, null, null, dout, x, w, mean, rstd, rows, C);
            DeviceBuffer gdx2 = dev(dx2);
            CudaKernels.layerNormBackward(gdx2.ptr(), null, null, dev(dout).ptr(), dX.ptr(), dW.ptr(),
                    dev(mean).ptr(), dev(rstd).ptr(), rows, C);
            assertClose(what + " dx alone", dx2Ref, gdx2.toFloats(), 5e-5, 1e-4);
        }
    }

    // -------------------------------------------------------------------------------------------------- gelu

    @Test void gelu_forward_backward_match_cpu() {
        Random r = new Random(10);
        for (int n : SIZES) {
            float[] x = gaussian(r, n, 3), ref = new float[n];
            Gelu.forwardRef(ref, x, n);
            DeviceBuffer dx = dev(x), out = devZeros(n);
            CudaKernels.geluForward(out.ptr(), dx.ptr(), n);
            // erff is within 2 ulp; for x < 0, 1 + erf cancels, so erff's error near -1 (2 ulp = 1.2e-7 absolute)
            // reaches gelu as 0.5 |x| * 1.2e-7 <= 1e-6 for |x| <= 15: atol 2e-6, plus a few roundings relative.
            assertClose("gelu n=" + n, ref, out.toFloats(), 2e-6, 2e-6);

            float[] dout = gaussian(r, n, 1), g = gaussian(r, n, 1), gRef = g.clone();
            Gelu.backwardRef(gRef, dout, x, n);
            DeviceBuffer dg = dev(g);
            CudaKernels.geluBackward(dg.ptr(), dev(dout).ptr(), dx.ptr(), n);
            // the same cancellation in Phi(x), times |dout| (<= ~5): atol 2e-6 * 5.
            assertClose("gelu backward n=" + n, gRef, dg.toFloats(), 1e-5, 2e-6);
        }
    }

    // ------------------------------------------------------------------------------------------------- adamw

    @Test void adamw_matches_cpu_to_the_ulp_over_three_steps() {
        Random r = new Random(11);
        int total = 100_003, off = 5, n = total - 9;
        float[] p = gaussian(r, total, 1), m = new float[total], v = new float[total];
        DeviceBuffer dp = dev(p), dm = dev(m), dv = dev(v);
        for (int t = 1; t <= 3; t++) {
            float[] g = gaussian(r, total, 0.1);
            AdamW.step(p, g, m, v, off, n, t, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.05f);
            CudaKernels.adamwStep(dp.at(off), dev(g).at(off), dm.at(off), dv.at(off), n, t, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.05f);
        }
        // adamw.cu does every operation in the CPU's order with single roundings (no FMA contraction), so the
        // results should agree bit for bit; one ulp (1.2e-7 relative) is left as margin.
        assertClose("adamw p", p, dp.toFloats(), 0, 1.2e-7);
        assertClose("adamw m", m, dm.toFloats(), 0, 1.2e-7);
        assertClose("adamw v", v, dv.toFloats(), 0, 1.2e-7);
    }

    // ------------------------------------------------------------------------------------------------ gather

    @Test void gather_and_scatter_add_match_cpu() {
        Random r = new Random(12);
        int[][] cases = {{2, 10, 4, 3, 1}, {2, 10, 4, 3, 3}, {1, 1, 1, 1, 1}, {3, 196, 49, 768, 1}, {5, 17, 23, 9, 9}};
        for (int[] c : cases) {
            int outer = c[0], S = c[1], J = c[2], inner = c[3], idxInner = c[4];
            float[] x = gaussian(r, outer * S * inner, 1);
            int[] idx = new int[outer * J * idxInner];
            for (int i = 0; i < idx.length; i++) idx[i] = r.nextInt(S);   // repeats on purpose (scatter must add)
            float[] ref = new float[outer * J * inner];
            Gather.gather(ref, x, 0, idx, outer, S, J, inner, idxInner);
            DeviceBuffer out = devZeros(ref.length), didx = dev(idx);
            CudaKernels.gather(out.ptr(), dev(x).ptr(), didx.ptr(), outer, S, J, inner, idxInner);
            assertExact("gather " + java.util.Arrays.toString(c), ref, out.toFloats());

            float[] dout = ints(r, ref.length, -4, 4), dx = ints(r, x.length, -4, 4), dxRef = dx.clone();
            Gather.scatterAdd(dxRef, dout, idx, outer, S, J, inner, idxInner);
            DeviceBuffer ddx = dev(dx);
            CudaKernels.scatterAdd(ddx.ptr(), dev(dout).ptr(), didx.ptr(), outer, S, J, inner, idxInner);
            assertExact("scatterAdd " + java.util.Arrays.toString(c), dxRef, ddx.toFloats());   // integers: any order
        }
    }

    /** The tensor layer checks indices on the host; a bad one that still arrives must not touch memory. */
    @Test void out_of_range_index_gathers_nan_and_scatters_nothing() {
        DeviceBuffer out = devZeros(2), x = dev(new float[]{1, 2, 3, 4, 5, 6}), idx = dev(new int[]{3});
        CudaKernels.gather(out.ptr(), x.ptr(), idx.ptr(), 1, 3, 1, 2, 1);
        assertExact("gather of index 3 of 3", new float[]{Float.NaN, Float.NaN}, out.toFloats());
        DeviceBuffer dx = dev(new float[]{1, 2, 3, 4, 5, 6});
        CudaKernels.scatterAdd(dx.ptr(), dev(new float[]{7, 8}).ptr(), dev(new int[]{-1}).ptr(), 1, 3, 1, 2, 1);
        assertExact("scatterAdd of index -1", new float[]{1, 2, 3, 4, 5, 6}, dx.toFloats());
    }
}
