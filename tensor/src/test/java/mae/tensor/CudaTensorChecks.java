package mae.tensor;

import mae.kernels.Workspace;
import mae.kernels.Elementwise.Unary;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every Tensor and Ops operation on CUDA against the same operation on the CPU, on awkward inputs: odd sizes,
 * size-1 dims, broadcasts, transposed and other non-contiguous views, ranks above 4. Run on a GPU by
 * {@link CudaTensorTest} (tag cuda) and on the CPU stand-in of the kernels by {@link EmulatedCudaTensorTest}.
 *
 * <p>Tolerances: elementwise kernels use the same formulas in float with the CUDA math library (expf, tanhf,
 * erff: a few ulp), so 1e-5 relative (plus a tiny absolute term for values near 0). Reductions sum in another
 * order: 1e-5 relative to the sum of magnitudes. Matmul-based ops run in TF32 by default: inputs rounded to
 * 10 mantissa bits (relative error <= 2^-11 each), so a K-term dot product of unit Gaussians (size ~ sqrt(K))
 * is off by about 2^-10 sqrt(K) at worst in practice; we allow 4e-3 sqrt(K) absolute plus 4e-3 relative.
 */
abstract class CudaTensorChecks {
    static final float EW = 1e-5f;

    static Tensor randn(long seed, int... shape) { return Tensor.randn(new Rng(seed), shape); }

    static Tensor gpu(Tensor cpu) { return cpu.to(Device.CUDA); }

    /** got (on CUDA) matches want (CPU): same shape, |got - want| <= atol + rtol |want| everywhere. */
    static void close(String what, Tensor want, Tensor got, double atol, double rtol) {
        assertEquals(Device.CPU, want.device(), what + ": reference on the CPU");
        assertEquals(Device.CUDA, got.device(), what + ": the result stays on CUDA");
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        float[] w = want.toArray(), g = got.toArray();
        for (int i = 0; i < w.length; i++) {
            double err = Math.abs((double) g[i] - w[i]);
            boolean same = Float.isNaN(w[i]) ? Float.isNaN(g[i]) : err <= atol + rtol * Math.abs(w[i]) || w[i] == g[i];
            if (!same) fail(what + ": element " + i + " of " + Shapes.str(want.shape()) + " is " + g[i] + ", expected " + w[i]
                    + " (atol " + atol + ", rtol " + rtol + ")");
        }
    }

    static void close(String what, Tensor want, Tensor got) { close(what, want, got, 1e-6, EW); }

    static void tf32(String what, Tensor want, Tensor got, int K) { close(what, want, got, 4e-3 * Math.sqrt(Math.max(1, K)), 4e-3); }

    // ---------------------------------------------------------------- storage, views, transfers

    @Test void transfers_views_and_host_reads() {
        Tensor c = randn(1, 3, 5, 7), g = gpu(c);
        assertEquals(Device.CUDA, g.device());
        assertArrayEquals(c.toArray(), g.toArray());
        assertArrayEquals(c.toArray(), g.to(Device.CPU).toArray());
        assertSame(g, g.to(Device.CUDA));
        assertEquals(c.get(2, 4, 6), g.get(2, 4, 6));
        assertEquals(c.get(1, 2, 3), g.permute(2, 0, 1).get(3, 1, 2));
        assertEquals(c.get(2, 0, 1), gpu(Tensor.scalar(c.get(2, 0, 1))).item());
        IllegalStateException e = assertThrows(IllegalStateException.class, g::data);
        assertTrue(e.getMessage().contains("[3,5,7] is on cuda") && e.getMessage().contains(".to(Device.CPU)"), e.getMessage());
        assertTrue(g.toString().startsWith("Tensor[3,5,7] cuda ["), g.toString());

        Tensor n = g.narrow(2, 1, 3);                                      // a view shares the storage
        n.set(-5f, 0, 0, 0);
        assertEquals(-5f, g.get(0, 0, 1));
        close("narrow view", c.narrow(1, 1, 3).narrow(2, 2, 4), g.narrow(1, 1, 3).narrow(2, 2, 4).contiguous());
        c.set(-5f, 0, 0, 1);
        close("permuted copy", c.permute(2, 0, 1).contiguous(), g.permute(2, 0, 1).contiguous());
        close("reshape of a transposed view", c.transpose(0, 2).reshape(7, 15), g.transpose(0, 2).reshape(7, 15));
        close("expand then copy", c.narrow(0, 1, 1).expand(4, 5, 7), g.narrow(0, 1, 1).expand(4, 5, 7).contiguous());
        close("select, squeeze, unsqueeze", c.select(1, 3).unsqueeze(0), g.select(1, 3).unsqueeze(0).contiguous());
        close("zeros on cuda", Tensor.zeros(2, 3), Tensor.zeros(Device.CUDA, 2, 3));
        close("full on cuda", Tensor.full(2.5f, 4), Tensor.full(Device.CUDA, 2.5f, 4));
        close("empty tensor", Tensor.zeros(0, 3), gpu(Tensor.zeros(0, 3)).add(1f));
    }

    @Test void copies_of_rank_5_and_6_views_split_into_rank_4_launches() {
        // The patch embedding's (N, C, gh, p, gw, p) -> (N, gh, gw, C, p, p) and its inverse; and attention's qkv split.
        Tensor img = randn(2, 3, 3, 12, 8), g = gpu(img);
        Tensor want = img.reshape(3, 3, 3, 4, 2, 4).permute(0, 2, 4, 1, 3, 5).contiguous();
        Tensor got = g.reshape(3, 3, 3, 4, 2, 4).permute(0, 2, 4, 1, 3, 5).contiguous();
        close("rank 6 permute", want, got);
        close("rank 6 inverse", img, got.permute(0, 3, 1, 4, 2, 5).reshape(3, 3, 12, 8));
        Tensor qkv = randn(3, 2, 5, 3, 4, 8);
        close("rank 5 permute", qkv.permute(2, 0, 3, 1, 4).contiguous(), gpu(qkv).permute(2, 0, 3, 1, 4).contiguous());
        Tensor src = randn(4, 4, 3, 5, 5, 2).permute(4, 2, 3, 1, 0);          // (2, 5, 5, 3, 4), no two dims merge
        close("narrowInto a rank 5 slice", narrowInto(Tensor.zeros(2, 7, 5, 3, 4), 1, 2, src),
                narrowInto(Tensor.zeros(Device.CUDA, 2, 7, 5, 3, 4), 1, 2, gpu(randn(4, 4, 3, 5, 5, 2)).permute(4, 2, 3, 1, 0)));
    }

    @Test void elementwise_unary_on_non_contiguous_inputs() {
        Tensor c = randn(3, 3, 7, 1, 9).permute(3, 0, 2, 1).narrow(0, 1, 7), g = gpu(randn(3, 3, 7, 1, 9)).permute(3, 0, 2, 1).narrow(0, 1, 7);
        Tensor pos = c.abs().add(0.1f), gpos = g.abs().add(0.1f);
        close("neg", c.neg(), g.neg());
        close("exp", c.exp(), g.exp());
        close("log", pos.log(), gpos.log(), 1e-6, 1e-5);
        close("sqrt", pos.sqrt(), gpos.sqrt());
        close("rsqrt", pos.rsqrt(), gpos.rsqrt());
        close("tanh", c.tanh(), g.tanh());
        close("erf", c.erf(), g.erf());
        close("abs", c.abs(), g.abs());
        close("square", c.square(), g.square());
        close("relu", c.map(Unary.RELU), g.map(Unary.RELU));
        close("reciprocal", pos.map(Unary.RECIPROCAL), gpos.map(Unary.RECIPROCAL));
    }

    @Test void elementwise_binary_with_broadcasts_views_and_high_ranks() {
        int[][][] pairs = {
                {{3, 1, 5}, {4, 5}}, {{1}, {2, 3}}, {{}, {5, 1}}, {{17}, {17}}, {{2, 1, 3, 1, 5}, {4, 1, 6, 5}},
                {{2, 3, 1, 2, 3, 2}, {3, 2, 1, 2}}, {{1, 1, 1}, {1}}, {{6, 1}, {1, 7}}};
        long seed = 10;
        for (int[][] p : pairs) {
            Tensor a = randn(seed++, p[0]), b = randn(seed++, p[1]).abs().add(0.5f), ga = gpu(a), gb = gpu(b);
            String s = Shapes.str(p[0]) + " op " + Shapes.str(p[1]);
            close("add " + s, a.add(b), ga.add(gb));
            close("sub " + s, a.sub(b), ga.sub(gb));
            close("mul " + s, a.mul(b), ga.mul(gb));
            close("div " + s, a.div(b), ga.div(gb));
            close("pow " + s, b.pow(a), gb.pow(ga));
            close("maximum " + s, a.maximum(b), ga.maximum(gb));
            close("reversed add " + s, b.add(a), gb.add(ga));
        }
        Tensor a = randn(20, 6, 5), b = randn(21, 5, 6);
        close("transposed operand", a.add(b.transpose(0, 1)), gpu(a).add(gpu(b).transpose(0, 1)));
        close("scalars", a.add(2f).sub(0.5f).mul(3f).div(7f), gpu(a).add(2f).sub(0.5f).mul(3f).div(7f));
        close("pow scalar", a.abs().pow(1.5f), gpu(a).abs().pow(1.5f));
    }

    @Test void in_place_updates_and_copies_across_devices() {
        Tensor a = randn(30, 4, 1, 6), b = randn(31, 3, 6), ga = gpu(a), gb = gpu(b);
        Tensor want = a.expand(4, 3, 6).contiguous(), got = ga.expand(4, 3, 6).contiguous();
        want.addInPlace(b).mulInPlace(0.25f);
        got.addInPlace(gb).mulInPlace(0.25f);
        close("addInPlace, mulInPlace", want, got);
        Tensor base = randn(33, 2, 3, 2, 4, 5), bb = randn(32, 3, 1, 4, 1);   // rank 5 after merging: one launch per leading index
        close("addInPlace of a rank 5 broadcast", base.copy().addInPlace(bb), gpu(base).addInPlace(gpu(bb)));
        close("fill", Tensor.full(3f, 4, 3, 6), got.fill(3f));
        Tensor dst = Tensor.zeros(Device.CUDA, 6, 3);
        close("copyFrom a transposed cuda view", b.transpose(0, 1).contiguous(), dst.copyFrom(gb.transpose(0, 1)));
        close("copyFrom the host (upload)", b, Tensor.zeros(Device.CUDA, 3, 6).copyFrom(b));
        Tensor host = Tensor.zeros(3, 6).copyFrom(gb);                     // download
        assertEquals(Device.CPU, host.device());
        assertArrayEquals(b.toArray(), host.toArray());
        close("narrowInto", narrowInto(Tensor.zeros(5, 6), 0, 1, b), narrowInto(Tensor.zeros(Device.CUDA, 5, 6), 0, 1, gb));
        close("narrowInto from a view", narrowInto(Tensor.zeros(4, 7), 1, 2, b.transpose(0, 1).narrow(0, 1, 4)),
                narrowInto(Tensor.zeros(Device.CUDA, 4, 7), 1, 2, gb.transpose(0, 1).narrow(0, 1, 4)));
    }

    static Tensor narrowInto(Tensor dst, int dim, int start, Tensor src) { dst.narrowInto(dim, start, src); return dst; }

    @Test void reductions_over_any_dims() {
        Tensor c = randn(40, 3, 5, 1, 7, 2), g = gpu(c);
        int[][] dimsList = {null, {0}, {1}, {4}, {-1}, {1, 2}, {0, 2, 4}, {1, 3}, {0, 1, 2, 3, 4}};
        for (int[] dims : dimsList) {
            for (boolean keep : new boolean[]{false, true}) {
                String s = "dims " + Arrays.toString(dims) + (keep ? " keepdim" : "");
                close("sum " + s, c.sum(dims, keep), g.sum(dims, keep), 1e-5, 1e-5);
                close("mean " + s, c.mean(dims, keep), g.mean(dims, keep), 1e-6, 1e-5);
                if (reducedCount(c.shape(), dims) >= 2)
                    close("var " + s, c.var(dims, true, keep), g.var(dims, true, keep), 1e-6, 1e-4);
            }
        }
        Tensor t = c.permute(4, 2, 0, 1, 3), gt = g.permute(4, 2, 0, 1, 3);
        close("sum of a permuted view", t.sum(new int[]{1, 2}, false), gt.sum(new int[]{1, 2}, false), 1e-5, 1e-5);
        close("biased var of a view", t.var(new int[]{0}, false, false), gt.var(new int[]{0}, false, false), 1e-6, 1e-4);
        close("sum of everything", c.sum(), g.sum(), 1e-4, 1e-5);
        Tensor big = randn(41, 3, 70001);
        close("long rows", big.sum(new int[]{1}, false), gpu(big).sum(new int[]{1}, false), 1e-3, 1e-5);
        close("long columns", big.sum(new int[]{0}, false), gpu(big).sum(new int[]{0}, false), 1e-5, 1e-5);
        for (int d = 0; d < 3; d++) {
            Tensor x = randn(42 + d, 4, 9, 5);
            Tensor.MaxResult w = x.max(d, d == 1), r = gpu(x).max(d, d == 1);
            close("max values over dim " + d, w.values(), r.values(), 0, 0);
            assertArrayEquals(w.indices().data(), r.indices().data(), "argmax over dim " + d);
            assertArrayEquals(w.indices().shape(), r.indices().shape());
        }
        Tensor x = randn(45, 6, 33).mul(4f);
        close("softmax", x.softmax(), gpu(x).softmax());
        close("softmax of a view", x.transpose(0, 1).softmax(), gpu(x).transpose(0, 1).softmax());
        close("softmax of one column", x.narrow(1, 0, 1).softmax(), gpu(x).narrow(1, 0, 1).softmax());
    }

    static int reducedCount(int[] shape, int[] dims) {
        if (dims == null) return Shapes.numel(shape);
        int n = 1;
        for (int d : dims) n *= shape[d < 0 ? d + shape.length : d];
        return n;
    }

    // ---------------------------------------------------------------- matmul

    @Test void matmul_of_odd_sizes_and_transposed_views() {
        int[][] mnk = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {1, 64, 9}, {64, 1, 9}, {5, 9, 1}, {130, 70, 40}};
        long seed = 50;
        for (int[] s : mnk) {
            int M = s[0], N = s[1], K = s[2];
            Tensor a = randn(seed++, M, K), b = randn(seed++, K, N), at = randn(seed++, K, M), bt = randn(seed++, N, K);
            String w = M + "x" + N + "x" + K;
            tf32("nn " + w, a.matmul(b), gpu(a).matmul(gpu(b)), K);
            tf32("tn " + w, at.transpose(0, 1).matmul(b), gpu(at).transpose(0, 1).matmul(gpu(b)), K);
            tf32("nt " + w, a.matmul(bt.transpose(0, 1)), gpu(a).matmul(gpu(bt).transpose(0, 1)), K);
            tf32("tt " + w, at.transpose(0, 1).matmul(bt.transpose(0, 1)), gpu(at).transpose(0, 1).matmul(gpu(bt).transpose(0, 1)), K);
        }
        Tensor a = randn(60, 9, 12), b = randn(61, 12, 5);
        tf32("strided rows (a narrowed view)", a.narrow(1, 2, 7).matmul(b.narrow(0, 1, 7)), gpu(a).narrow(1, 2, 7).matmul(gpu(b).narrow(0, 1, 7)), 7);
        Tensor c = randn(62, 5, 4, 3), d = randn(63, 5, 6);                    // c viewed as (4, 5) with strides (3, 12)
        tf32("neither row- nor column-major (copied)", c.permute(1, 0, 2).select(2, 1).matmul(d),
                gpu(c).permute(1, 0, 2).select(2, 1).matmul(gpu(d)), 5);
    }

    @Test void batched_matmul_with_broadcast_batch_dims() {
        Tensor a = randn(70, 2, 1, 7, 6), b = randn(71, 3, 6, 5);
        tf32("(2,1) x (3) batches", a.matmul(b), gpu(a).matmul(gpu(b)), 6);
        Tensor q = randn(72, 2, 3, 11, 16), k = randn(73, 2, 3, 11, 16);
        tf32("q k^T", q.matmul(k.transpose(-2, -1)), gpu(q).matmul(gpu(k).transpose(-2, -1)), 16);
        tf32("permuted batch dims", q.permute(1, 0, 2, 3).matmul(k.permute(1, 0, 3, 2)),
                gpu(q).permute(1, 0, 2, 3).matmul(gpu(k).permute(1, 0, 3, 2)), 16);
        Tensor w = randn(74, 16, 4);
        tf32("a shared matrix", q.matmul(w), gpu(q).matmul(gpu(w)), 16);
        Tensor r5 = randn(75, 2, 2, 3, 4, 5), r5b = randn(76, 2, 1, 3, 5, 3);
        tf32("rank 5", r5.matmul(r5b), gpu(r5).matmul(gpu(r5b)), 5);
        tf32("K = 0", Tensor.zeros(2, 3, 0).matmul(Tensor.zeros(2, 0, 4)), gpu(Tensor.zeros(2, 3, 0)).matmul(gpu(Tensor.zeros(2, 0, 4))), 1);
    }

    // ---------------------------------------------------------------- indexing

    @Test void gather_scatter_concat_argsort() {
        Tensor x = randn(80, 3, 10, 4);
        Index rows = new Index(new int[]{9, 0, 3, 3, 1, 2, 8, 7, 4, 5, 6, 0, 1, 1, 2}, 3, 5, 1);
        close("gather rows", x.gather(1, rows), gpu(x).gather(1, rows), 0, 0);
        int[] full = new int[3 * 5 * 4];
        for (int i = 0; i < full.length; i++) full[i] = (i * 7 + 3) % 10;
        Index each = new Index(full, 3, 5, 4);
        close("gather elements", x.gather(1, each), gpu(x).gather(1, each), 0, 0);
        close("gather of a view", x.transpose(0, 1).gather(0, new Index(new int[]{1, 9}, 2, 1, 1)),
                gpu(x).transpose(0, 1).gather(0, new Index(new int[]{1, 9}, 2, 1, 1)), 0, 0);
        Tensor src = randn(81, 3, 5, 4);
        close("scatterAdd rows", Tensor.scatterAdd(x.shape(), 1, rows, src), Tensor.scatterAdd(x.shape(), 1, rows, gpu(src)), 1e-6, 1e-6);
        close("scatterAdd elements", Tensor.scatterAdd(x.shape(), 1, each, src), Tensor.scatterAdd(x.shape(), 1, each, gpu(src)), 1e-6, 1e-6);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> gpu(x).gather(1, new Index(new int[]{0, 10, 0}, 3, 1, 1)));
        assertTrue(e.getMessage().contains("10 out of range [0, 10)"), e.getMessage());

        Tensor a = randn(82, 2, 3, 4), b = randn(83, 2, 1, 4), c = randn(84, 4, 2, 3).permute(1, 2, 0);
        close("concat", Tensor.concat(1, a, b, c), Tensor.concat(1, gpu(a), gpu(b), gpu(c)), 0, 0);
        close("concat last dim", Tensor.concat(-1, a, a), Tensor.concat(-1, gpu(a), gpu(a)), 0, 0);
        Tensor noise = Tensor.rand(new Rng(85), 3, 49);
        assertArrayEquals(noise.argsort(1).data(), gpu(noise).argsort(1).data());
        assertArrayEquals(noise.argsort(0).data(), gpu(noise).argsort(0).data());
    }

    @Test void mixed_devices_are_an_error_naming_the_op_shapes_and_devices() {
        Tensor c = randn(90, 2, 3), g = gpu(randn(91, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.add(g));
        assertTrue(e.getMessage().startsWith("add: tensors on different devices: [2,3] on cpu, [3] on cuda"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.view(1, 3).matmul(c.transpose(0, 1)));
        assertTrue(e.getMessage().startsWith("matmul: tensors on different devices: [1,3] on cuda, [3,2] on cpu"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ops.linear(gpu(c), randn(92, 4, 3), null));
        assertTrue(e.getMessage().startsWith("linear: tensors on different devices"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.concat(0, c, gpu(c)));
        assertTrue(e.getMessage().startsWith("concat: tensors on different devices"), e.getMessage());
    }

    // ---------------------------------------------------------------- Ops

    @Test void linear_layer_norm_gelu_softmax_backward() {
        Tensor x = randn(100, 37, 24), w = randn(101, 19, 24), b = randn(102, 19);
        tf32("linear", Ops.linear(x, w, b), Ops.linear(gpu(x), gpu(w), gpu(b)), 24);
        tf32("linear without bias", Ops.linear(x, w, null), Ops.linear(gpu(x), gpu(w), null), 24);
        Tensor xt = randn(103, 24, 37).transpose(0, 1);
        tf32("linear of a transposed input", Ops.linear(xt, w, b), Ops.linear(gpu(randn(103, 24, 37)).transpose(0, 1), gpu(w), gpu(b)), 24);

        Tensor h = randn(104, 3, 5, 33).mul(2f).add(1f), lw = randn(105, 33), lb = randn(106, 33), dout = randn(107, 3, 5, 33);
        Ops.LayerNormOut want = Ops.layerNorm(h, lw, lb, 1e-6f), got = Ops.layerNorm(gpu(h), gpu(lw), gpu(lb), 1e-6f);
        close("layerNorm", want.out(), got.out(), 1e-5, 1e-5);
        close("layerNorm mean", want.mean(), got.mean(), 1e-6, 1e-5);
        close("layerNorm rstd", want.rstd(), got.rstd(), 1e-6, 1e-5);
        Tensor[] gw = Ops.layerNormBackward(dout, h, lw, want.mean(), want.rstd());
        Tensor[] gg = Ops.layerNormBackward(gpu(dout), gpu(h), gpu(lw), got.mean(), got.rstd());
        String[] names = {"dx", "dw", "db"};
        for (int i = 0; i < 3; i++) close("layerNorm " + names[i], gw[i], gg[i], 1e-5, 1e-4);

        Tensor gx = randn(108, 7, 129).mul(3f), gd = randn(109, 7, 129);
        close("gelu", Ops.gelu(gx), Ops.gelu(gpu(gx)), 1e-6, 1e-5);
        close("gelu of a view", Ops.gelu(gx.transpose(0, 1)), Ops.gelu(gpu(gx).transpose(0, 1)), 1e-6, 1e-5);
        close("geluBackward", Ops.geluBackward(gd, gx), Ops.geluBackward(gpu(gd), gpu(gx)), 1e-6, 1e-5);
        Tensor y = randn(110, 5, 3, 17).softmax(), dy = randn(111, 5, 3, 17);
        close("softmaxBackward", Ops.softmaxBackward(dy, y), Ops.softmaxBackward(gpu(dy), gpu(y)), 1e-6, 1e-5);
    }

    /** Head widths 32 and 64 have fused kernels; 16 and 8 (the tiny config) go through matmul and softmax. */
    @Test void attention_forward_and_backward() {
        long seed = 120;
        for (int hd : new int[]{32, 64, 80, 16, 8}) {
            for (int T : new int[]{1, 17, 50}) {
                Tensor q = randn(seed++, 2, 3, T, hd), k = randn(seed++, 2, 3, T, hd), v = randn(seed++, 2, 3, T, hd), dout = randn(seed++, 2, 3, T, hd);
                float scale = (float) Math.pow(hd, -0.5);
                Ops.AttentionOut want = Ops.attention(q, k, v, scale), got = Ops.attention(gpu(q), gpu(k), gpu(v), scale);
                String w = "hd " + hd + " T " + T;
                tf32("attention out " + w, want.out(), got.out(), hd);
                tf32("attention lse " + w, want.lse(), got.lse(), hd);
                Tensor[] gw = Ops.attentionBackward(dout, q, k, v, want.out(), want.lse(), scale);
                Tensor[] gg = Ops.attentionBackward(gpu(dout), gpu(q), gpu(k), gpu(v), got.out(), got.lse(), scale);
                String[] names = {"dq", "dk", "dv"};
                for (int i = 0; i < 3; i++) tf32("attention " + names[i] + " " + w, gw[i], gg[i], Math.max(hd, T));
            }
        }
    }

    @Test void adamw_steps() {
        Tensor p = randn(130, 33, 7), m = Tensor.zeros(33, 7), v = Tensor.zeros(33, 7);
        Tensor gp = gpu(p), gm = gpu(m), gv = gpu(v);
        for (int t = 1; t <= 3; t++) {
            Tensor g = randn(130 + t, 33, 7).mul(0.1f);
            Ops.adamw(p, g, m, v, t, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.05f);
            Ops.adamw(gp, gpu(g), gm, gv, t, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.05f);
        }
        close("adamw p", p, gp, 1e-6, 1e-5);
        close("adamw m", m, gm, 1e-7, 1e-5);
        close("adamw v", v, gv, 1e-9, 1e-5);
    }

    // ---------------------------------------------------------------- memory

    @Test void device_memory_made_in_a_workspace_scope_is_released_when_it_closes() {
        Workspace ws = new Workspace();
        Tensor kept, inside;
        try (Workspace.Scope s = ws.open()) {
            inside = gpu(randn(140, 4, 5)).mul(2f);
            kept = Workspace.outside(() -> Tensor.zeros(Device.CUDA, 4, 5));
            kept.copyFrom(inside);
        }
        assertEquals(0f, kept.sub(kept).sum().item());
        IllegalStateException e = assertThrows(IllegalStateException.class, inside::toArray);
        assertTrue(e.getMessage().contains("used after close()"), e.getMessage());
    }
}
