package mae.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Tensor's contracts at their edges: every refusal names the op and what is wrong, the boundary cases just inside
 * are accepted, views index from their offset, reductions over any set of dims, matmul operands in any layout,
 * gather/scatter index shapes, the printed form, and the generator against the reference xoshiro256**.
 */
class TensorContractsTest {
    static Tensor seq(int... shape) {
        float[] d = new float[Shapes.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = i;
        return Tensor.of(d, shape);
    }

    static <T extends Throwable> void refused(Class<T> type, Executable e, String... words) {
        T x = assertThrows(type, e);
        for (String w : words) assertTrue(x.getMessage().contains(w), "'" + x.getMessage() + "' should say " + w);
    }

    @Test void views_refuse_bad_shapes_and_accept_the_edges() {
        Tensor t = seq(2, 3, 4);
        assertArrayEquals(new int[]{6, 4}, t.view(-1, 4).shape());
        assertArrayEquals(new int[]{24}, t.view(-1).shape());
        assertArrayEquals(new int[]{2, 0}, Tensor.zeros(0).view(2, 0).shape());
        refused(IllegalArgumentException.class, () -> t.view(-1, -1), "more than one -1");
        refused(IllegalArgumentException.class, () -> t.view(-2, 12), "negative size");
        refused(IllegalArgumentException.class, () -> t.view(5, -1), "invalid", "[5,-1]");
        refused(IllegalArgumentException.class, () -> t.view(0, -1), "invalid");
        refused(IllegalArgumentException.class, () -> t.view(5, 5), "invalid", "24 elements");
        refused(IllegalStateException.class, () -> t.transpose(0, 2).view(24), "not contiguous", "reshape");
        assertArrayEquals(t.transpose(0, 2).contiguous().toArray(), t.transpose(0, 2).reshape(24).toArray());

        refused(IllegalArgumentException.class, () -> t.permute(0, 1), "does not match rank 3");
        refused(IllegalArgumentException.class, () -> t.permute(0, 1, 1), "dim 1 repeated");
        refused(IndexOutOfBoundsException.class, () -> t.permute(0, 1, 3), "permute", "dim 3");
        assertArrayEquals(new int[]{4, 2, 3}, t.permute(-1, 0, 1).shape());
        assertEquals(t.get(1, 2, 3), t.permute(2, 0, 1).get(3, 1, 2));

        refused(IndexOutOfBoundsException.class, () -> t.narrow(1, -1, 2), "narrow", "[-1, 1)");
        refused(IndexOutOfBoundsException.class, () -> t.narrow(1, 1, -1), "narrow");
        refused(IndexOutOfBoundsException.class, () -> t.narrow(1, 2, 2), "[2, 4)", "size 3");
        Tensor n = t.narrow(1, 1, 2);
        assertArrayEquals(new int[]{2, 2, 4}, n.shape());
        assertEquals(4, n.offset());
        assertArrayEquals(new int[]{12, 4, 1}, n.strides());
        assertEquals(t.get(1, 2, 3), n.get(1, 1, 3));
        assertEquals(0, t.narrow(1, 3, 0).numel(), "an empty narrow at the end");
        assertEquals(t.get(1, 2, 0), t.select(1, 2).get(1, 0));

        refused(IllegalArgumentException.class, () -> t.expand(3, 4), "fewer dims");
        refused(IllegalArgumentException.class, () -> t.expand(2, 5, 4), "cannot expand", "dim 1 has size 3");
        Tensor e = seq(3, 1).expand(2, -1, 4);
        assertArrayEquals(new int[]{2, 3, 4}, e.shape());
        assertArrayEquals(new int[]{0, 1, 0}, e.strides());
        assertEquals(2f, e.get(1, 2, 3));

        Tensor u = t.unsqueeze(3);
        assertArrayEquals(new int[]{2, 3, 4, 1}, u.shape());
        assertArrayEquals(new int[]{12, 4, 1, 1}, u.strides());
        assertArrayEquals(new int[]{2, 1, 3, 4}, t.unsqueeze(1).shape());
        assertArrayEquals(new int[]{12, 12, 4, 1}, t.unsqueeze(1).strides());
        assertArrayEquals(new int[]{2, 3, 4}, u.squeeze(-1).shape());
        refused(IllegalArgumentException.class, () -> t.squeeze(1), "squeeze", "size 3, not 1");
        assertArrayEquals(new int[]{3, 4}, t.narrow(0, 1, 1).squeeze(0).shape());
        assertEquals(t.get(1, 0, 0), t.narrow(0, 1, 1).squeeze(0).get(0, 0));
    }

    @Test void element_access_checks_every_index() {
        Tensor t = seq(2, 3);
        refused(IllegalArgumentException.class, () -> t.get(1), "get", "1 indices");
        refused(IndexOutOfBoundsException.class, () -> t.get(0, 3), "index 3", "dim 1");
        refused(IndexOutOfBoundsException.class, () -> t.get(-1, 0), "index -1", "dim 0");
        refused(IndexOutOfBoundsException.class, () -> t.set(1f, 2, 0), "set", "index 2");
        Tensor col = t.narrow(1, 2, 1);
        assertEquals(5f, col.get(1, 0));
        col.set(-1f, 1, 0);
        assertEquals(-1f, t.get(1, 2), "a view writes into its storage");
        refused(IllegalStateException.class, t::item, "item", "6 elements");
        assertEquals(4f, t.narrow(0, 1, 1).narrow(1, 1, 1).item());
        assertArrayEquals(new float[]{1, 4, 2, -1}, t.narrow(1, 1, 2).transpose(0, 1).toArray());
        assertEquals(3, t.narrow(0, 1, 1).offset());
    }

    @Test void creation() {
        assertArrayEquals(new float[]{0, 1, 2, 3}, Tensor.arange(4).toArray());
        assertArrayEquals(new float[]{1, 1.5f, 2, 2.5f}, Tensor.arange(1, 3, 0.5f).toArray());
        assertArrayEquals(new float[]{3, 2}, Tensor.arange(3, 1, -1).toArray());
        assertEquals(0, Tensor.arange(3, 1, 1).numel());
        refused(IllegalArgumentException.class, () -> Tensor.arange(0, 1, 0), "step must not be 0");
    }

    @Test void in_place_ops_need_their_own_contiguous_storage() {
        Tensor t = seq(2, 3), tt = t.transpose(0, 1);
        refused(IllegalStateException.class, () -> tt.addInPlace(seq(3, 2)), "addInPlace", "contiguous");
        refused(IllegalStateException.class, () -> tt.mulInPlace(2f), "mulInPlace", "contiguous");
        refused(IllegalStateException.class, () -> tt.fill(1f), "fill", "contiguous");
        refused(IllegalStateException.class, () -> tt.copyFrom(seq(3, 2)), "copyFrom", "contiguous");
        refused(IllegalArgumentException.class, () -> t.addInPlace(seq(2, 3, 1)), "addInPlace");
        refused(IllegalArgumentException.class, () -> t.addInPlace(seq(4)), "addInPlace");
        refused(IllegalArgumentException.class, () -> t.copyFrom(seq(3, 2)), "copyFrom", "[3,2]");
        assertArrayEquals(new float[]{0, 2, 4, 3, 5, 7}, seq(2, 3).addInPlace(seq(3)).toArray());
        assertArrayEquals(new float[]{0, 1, 2, 3}, seq(2, 2).copyFrom(seq(2, 2).transpose(0, 1)).transpose(0, 1).toArray());
        Tensor row = seq(3, 3).narrow(0, 1, 1);                                     // contiguous, at offset 3
        row.mulInPlace(2f);
        assertArrayEquals(new float[]{6, 8, 10}, row.toArray());
        row.fill(1f);
        assertArrayEquals(new float[]{1, 1, 1}, row.toArray());
        row.copyFrom(seq(1, 3));
        assertArrayEquals(new float[]{0, 1, 2}, row.toArray());
    }

    /** Sums, means, variances over any dims: consecutive (read in place) or not (moved last), in any order. */
    @Test void reductions_over_any_dims() {
        Tensor t = seq(2, 3, 4);
        float[] v = t.toArray();
        float[] s02 = new float[3];
        for (int a = 0; a < 2; a++) for (int b = 0; b < 3; b++) for (int c = 0; c < 4; c++) s02[b] += v[(a * 3 + b) * 4 + c];
        assertArrayEquals(s02, t.sum(new int[]{2, 0}, false).toArray());
        assertArrayEquals(new int[]{1, 3, 1}, t.sum(new int[]{0, -1}, true).shape());
        float[] s12 = {0, 0};
        for (int a = 0; a < 2; a++) for (int i = 0; i < 12; i++) s12[a] += v[a * 12 + i];
        assertArrayEquals(s12, t.sum(new int[]{1, 2}, false).toArray());
        assertArrayEquals(s12, t.transpose(1, 2).sum(new int[]{1, 2}, false).toArray(), "a non-contiguous tensor");
        assertArrayEquals(new float[]{s12[0] / 12, s12[1] / 12}, t.mean(new int[]{1, 2}, false).toArray(), 1e-5f);
        assertEquals(276f, t.sum().item());
        assertEquals(11.5f, t.mean().item());
        refused(IllegalArgumentException.class, () -> t.sum(new int[]{1, -2}, false), "sum", "repeated");
        refused(IndexOutOfBoundsException.class, () -> t.sum(new int[]{3}, false), "sum", "dim 3");
        // variance over dims 0 and 2 of values 0..23: for b fixed, 8 values
        for (boolean unbiased : new boolean[]{true, false}) {
            float[] var = t.var(new int[]{2, 0}, unbiased, false).toArray();
            for (int b = 0; b < 3; b++) {
                double m = 0, ss = 0;
                for (int a = 0; a < 2; a++) for (int c = 0; c < 4; c++) m += v[(a * 3 + b) * 4 + c] / 8.0;
                for (int a = 0; a < 2; a++) for (int c = 0; c < 4; c++) ss += Math.pow(v[(a * 3 + b) * 4 + c] - m, 2);
                assertEquals(ss / (unbiased ? 7 : 8), var[b], 1e-4);
            }
        }
        assertArrayEquals(new int[]{1, 3, 1}, t.var(new int[]{0, 2}, true, true).shape());
        refused(IllegalArgumentException.class, () -> seq(3, 1).var(new int[]{1}, true, false), "at least 2", "hold 1");
        assertArrayEquals(new float[]{0, 0, 0}, seq(3, 1).var(new int[]{1}, false, false).toArray());

        Tensor m = Tensor.of(new float[]{1, 5, 5, 2, 9, 0}, 2, 3);
        Tensor.MaxResult r = m.max(1, true);
        assertArrayEquals(new int[]{2, 1}, r.values().shape());
        assertArrayEquals(new float[]{5, 9}, r.values().toArray());
        assertArrayEquals(new int[]{1, 1}, r.indices().data(), "the first maximum");
        assertArrayEquals(new int[]{1, 1, 0}, m.max(0, false).indices().data());
        refused(IllegalArgumentException.class, () -> Tensor.zeros(2, 0).max(1, false), "max", "empty");
        assertArrayEquals(new float[]{1f / 3, 1f / 3, 1f / 3}, Tensor.zeros(3).softmax().toArray(), 1e-7f);
        assertArrayEquals(new float[]{1f}, Tensor.zeros(1, 1).narrow(0, 0, 1).softmax().toArray());
    }

    /** Operands row-major, transposed (read in place), or neither (copied); single rows and columns; batch broadcast. */
    @Test void matmul_operands_in_every_layout() {
        Rng rng = new Rng(3);
        Tensor a = Tensor.randn(rng, 2, 3, 4), b = Tensor.randn(rng, 4, 5);
        Tensor want = naive(a.contiguous(), b.contiguous());
        assertClose(want, a.matmul(b));
        assertClose(want, a.transpose(1, 2).contiguous().transpose(1, 2).matmul(b), "A column-major");
        assertClose(want, a.matmul(b.transpose(0, 1).contiguous().transpose(0, 1)), "B column-major");
        Tensor wide = Tensor.randn(rng, 2, 3, 8), strided = wide.narrow(2, 0, 8).view(2, 3, 4, 2).select(3, 1);   // stride 2 in the last dim
        assertClose(naive(strided.contiguous(), b), strided.matmul(b), "A neither row- nor column-major");
        Tensor row = Tensor.randn(rng, 1, 4), col = Tensor.randn(rng, 4, 1);
        assertClose(naive(row, b), row.matmul(b), "one row");
        assertClose(naive(b.transpose(0, 1).contiguous(), col), b.transpose(0, 1).matmul(col), "one column, transposed A");
        assertClose(naive(col.transpose(0, 1).contiguous(), b), col.transpose(0, 1).matmul(b), "a column viewed as a row");
        Tensor bb = Tensor.randn(rng, 3, 1, 4, 5);
        assertArrayEquals(new int[]{3, 2, 3, 5}, a.matmul(bb).shape(), "batch dims broadcast");
        refused(IllegalArgumentException.class, () -> seq(4).matmul(b), "at least 2 dims");
        refused(IllegalArgumentException.class, () -> b.matmul(seq(4)), "at least 2 dims");
        refused(IllegalArgumentException.class, () -> a.matmul(seq(5, 4)), "inner sizes differ", "4 vs 5");
        Tensor bcast = Tensor.randn(rng, 1, 4).expand(3, 4);                                 // stride 0 rows
        assertClose(naive(bcast.contiguous(), b), bcast.matmul(b), "a broadcast operand");
    }

    static Tensor naive(Tensor a, Tensor b) {
        int[] s = a.shape();
        int K = s[s.length - 1], M = s[s.length - 2], N = b.size(-1), batch = a.numel() / (M * K);
        float[] x = a.toArray(), y = b.toArray(), o = new float[batch * M * N];
        for (int t = 0; t < batch; t++)
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double acc = 0;
                    for (int k = 0; k < K; k++) acc += (double) x[(t * M + i) * K + k] * y[k * N + j];
                    o[(t * M + i) * N + j] = (float) acc;
                }
        int[] os = s.clone();
        os[os.length - 1] = N;
        return Tensor.of(o, os);
    }

    static void assertClose(Tensor want, Tensor got, String... what) {
        assertArrayEquals(want.shape(), got.shape());
        assertArrayEquals(want.toArray(), got.toArray(), 1e-4f, what.length > 0 ? what[0] : "matmul");
    }

    @Test void gather_and_scatter_index_shapes() {
        Tensor x = seq(2, 3, 4);
        Index rows = new Index(new int[]{2, 0, 1, 1}, 2, 2, 1);                   // per batch row, broadcast over the last dim
        Tensor g = x.gather(1, rows);
        assertArrayEquals(new int[]{2, 2, 4}, g.shape());
        assertEquals(x.get(0, 2, 3), g.get(0, 0, 3));
        assertEquals(x.get(1, 1, 0), g.get(1, 1, 0));
        Index full = new Index(new int[]{0, 1, 2, 0, 2, 1, 0, 2}, 1, 2, 4);
        assertEquals(x.get(0, 2, 2), x.narrow(0, 0, 1).gather(1, full).get(0, 0, 2));
        refused(IllegalArgumentException.class, () -> x.gather(1, new Index(new int[]{0, 1}, 2)), "rank");
        refused(IllegalArgumentException.class, () -> x.gather(1, new Index(new int[]{0, 1, 0}, 3, 1, 1)), "differs", "dim 0");
        refused(IllegalArgumentException.class, () -> x.gather(1, new Index(new int[]{0, 1, 0, 1}, 2, 1, 2)), "after dim 1");
        refused(IllegalArgumentException.class, () -> x.gather(2, new Index(new int[4], 2, 2, 1)), "differs", "in dim 1");
        Tensor x4 = seq(2, 3, 4, 5);
        refused(IllegalArgumentException.class, () -> x4.gather(1, new Index(new int[40], 2, 1, 5, 4)), "differs", "in dim 2");
        assertArrayEquals(new int[]{2, 1, 4, 5}, x4.gather(1, new Index(new int[40], 2, 1, 4, 5)).shape());
        Tensor s = Tensor.scatterAdd(new int[]{2, 3, 4}, 1, rows, g);
        assertEquals(x.get(0, 2, 3), s.get(0, 2, 3));
        assertEquals(2 * x.get(1, 1, 0), s.get(1, 1, 0), "repeated indices add");
        assertEquals(0f, s.get(0, 1, 0));
        refused(IllegalArgumentException.class, () -> Tensor.scatterAdd(new int[]{2, 3, 4}, 1, rows, seq(2, 3, 4)), "source shape", "[2,2,4]");

        refused(IllegalArgumentException.class, () -> Tensor.concat(0), "no tensors");
        refused(IllegalArgumentException.class, () -> Tensor.concat(0, seq(2, 3), seq(3)), "rank");
        refused(IllegalArgumentException.class, () -> Tensor.concat(0, seq(2, 3), seq(2, 4)), "dim 1");
        assertArrayEquals(new float[]{0, 1, 2, 0, 1, 3, 4, 5, 2, 3}, Tensor.concat(1, seq(2, 3), seq(2, 2)).toArray());
        refused(IllegalArgumentException.class, () -> seq(2, 3).narrowInto(1, 0, seq(3, 3)), "does not fit");
        Tensor dst = Tensor.zeros(2, 4);
        dst.narrowInto(1, 1, seq(2, 3).narrow(1, 1, 2));
        assertArrayEquals(new float[]{0, 1, 2, 0, 0, 4, 5, 0}, dst.toArray());

        Tensor a = Tensor.of(new float[]{3, 1, 2, 0, 5, 4}, 3, 2);
        assertArrayEquals(new int[]{1, 1, 0, 0, 2, 2}, a.argsort(0).data(), "argsort along the first dim, put back in place");
        assertArrayEquals(new int[]{1, 0, 1, 0, 1, 0}, a.argsort(1).data());
    }

    @Test void comparison_and_printing() {
        Tensor a = seq(2, 3), b = seq(2, 3);
        b.set(7f, 1, 1);
        assertEquals(3f, a.maxAbsDiff(b));
        assertEquals(0f, a.maxAbsDiff(seq(2, 3)));
        assertEquals(2f, seq(2).maxAbsDiff(Tensor.of(new float[]{2, 1}, 2)), "the largest difference, not the last");
        refused(IllegalArgumentException.class, () -> a.maxAbsDiff(seq(3, 2)), "maxAbsDiff", "differ");
        assertEquals("Tensor[2,3] [0.000, 1.000, 2.000, 3.000, 4.000, 5.000]", a.toString());
        assertEquals("Tensor[9] [0.000, 1.000, 2.000, 3.000, 4.000, 5.000, 6.000, 7.000, ... (9 values)]", seq(9).toString());
        assertEquals("Tensor[8] [0.000, 1.000, 2.000, 3.000, 4.000, 5.000, 6.000, 7.000]", seq(8).toString());
    }

    /**
     * The generator against the reference xoshiro256** (Vigna, seeded with splitmix64): the first outputs for seed
     * 42, computed by tests/reference/rng_reference.py; and the derived draws.
     */
    @Test void the_generator_is_xoshiro256_starstar_seeded_by_splitmix64() {
        Rng r = new Rng(42);
        for (long want : RNG_42) assertEquals(want, r.nextLong());
        Rng a = new Rng(7), b = new Rng(7);
        long[] st = a.state();
        assertEquals((a.nextLong() >>> 40) * 0x1.0p-24f, b.nextFloat());
        assertEquals((a.nextLong() >>> 11) * 0x1.0p-53, b.nextDouble());
        long l = a.nextLong();
        assertEquals((int) (((l >>> 33) * 10) >>> 31), b.nextInt(10));
        refused(IllegalArgumentException.class, () -> b.nextInt(0), "bound must be positive");
        int[] counts = new int[3];
        Rng c = new Rng(1);
        for (int i = 0; i < 3000; i++) counts[c.nextInt(3)]++;
        for (int k : counts) assertTrue(k > 900 && k < 1100, Arrays.toString(counts));
        Rng d = new Rng(99);
        d.setState(st);
        assertEquals(new Rng(7).nextLong(), d.nextLong(), "a restored state continues the stream");
        refused(IllegalArgumentException.class, () -> d.setState(new long[3]), "4 words");
        assertTrue(new Rng(5).toString().startsWith("Rng["));
        assertEquals(4, new Rng(5).state().length);
    }

    static final long[] RNG_42 = {1546998764402558742L, 6990951692964543102L, -5902157311460992607L, -1389169964527427423L,
            -151191095644234140L, -4247557243643801032L, -5178765164775350862L, -2766855848391737209L};

    /** Every layout of each operand (row- or column-major, padded, strided, broadcast rows or columns, single rows and columns) times every other. */
    @Test void matmul_of_every_pair_of_operand_layouts_matches_the_naive_product() {
        Rng rng = new Rng(11);
        for (int[] mkn : new int[][]{{3, 4, 5}, {1, 4, 5}, {3, 1, 5}, {3, 4, 1}, {1, 1, 1}, {4, 4, 4}}) {
            int M = mkn[0], K = mkn[1], N = mkn[2];
            for (int la = 0; la < LAYOUTS; la++)
                for (int lb = 0; lb < LAYOUTS; lb++) {
                    Tensor a = layout(rng, la, M, K), b = layout(rng, lb, K, N);
                    assertClose(naive(a.contiguous(), b.contiguous()), a.matmul(b), "M,K,N " + Arrays.toString(mkn) + " layouts " + la + ", " + lb);
                }
        }
    }

    static final int LAYOUTS = 8;

    /** An (R, C) operand with random values in one of LAYOUTS memory layouts. */
    static Tensor layout(Rng rng, int kind, int R, int C) {
        switch (kind) {
            case 0: return Tensor.randn(rng, R, C);                                                    // row-major
            case 1: return Tensor.randn(rng, C, R).transpose(0, 1);                                    // column-major
            case 2: return Tensor.randn(rng, R, C + 3).narrow(1, 2, C);                                // rows padded: stride > C
            case 3: return Tensor.randn(rng, C, R + 3).narrow(1, 1, R).transpose(0, 1);                // columns padded
            case 4: return Tensor.randn(rng, 1, C).expand(R, C);                                       // one row broadcast (row stride 0)
            case 5: return Tensor.randn(rng, R, 1).expand(R, C);                                       // one column broadcast (column stride 0)
            case 6: return Tensor.randn(rng, R, C, 2).select(2, 1);                                    // column stride 2
            default: return Tensor.randn(rng, C, R, 2).select(2, 0).transpose(0, 1);                   // row stride 2, column stride 2 R
        }
    }

    /** Indices past 2^24 (where floats skip odd integers) come back exact along any dim. */
    @Test void argsort_along_a_leading_dim_of_over_2_to_the_24_elements() {
        int n = (1 << 24) + 2;
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = Float.intBitsToFloat(n - 1 - i);       // distinct, descending: the sorted order is n-1, ..., 0
        Index a = Tensor.of(d, n, 1).argsort(0);
        assertArrayEquals(new int[]{n, 1}, a.shape());
        assertEquals(n - 1, a.get(0, 0));
        assertEquals(n - 2, a.get(1, 0));
        assertEquals(0, a.get(n - 1, 0));
        Tensor m = Tensor.of(new float[]{3, 8, 2, 0, 5, 4, 1, 7, 9, 6, 11, -1}, 2, 3, 2);
        assertArrayEquals(new int[]{1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0}, m.argsort(0).data());
        assertArrayEquals(new int[]{1, 1, 0, 2, 2, 0, 0, 2, 1, 1, 2, 0}, m.argsort(1).data());
    }

    /** Ops refuse operands of the wrong shape by name, before any kernel reads them. */
    @Test void fused_ops_refuse_operands_of_the_wrong_shape() {
        Tensor x = seq(2, 4), w = Tensor.ones(4), b = Tensor.zeros(4);
        refused(IllegalArgumentException.class, () -> Ops.layerNorm(x, Tensor.ones(5), b, 1e-5f), "layerNorm: weight has shape [5], expected [4]");
        refused(IllegalArgumentException.class, () -> Ops.layerNorm(x, w, Tensor.zeros(2, 2), 1e-5f), "layerNorm: bias has shape [2,2], expected [4]");
        assertArrayEquals(new int[]{2, 4}, Ops.layerNorm(x, w, b, 1e-5f).out().shape());
        Tensor q = Tensor.zeros(1, 2, 3, 4);
        refused(IllegalArgumentException.class, () -> Ops.attention(seq(2, 3, 4), seq(2, 3, 4), seq(2, 3, 4), 1f), "attention: q must be (B, H, T, hd), got [2,3,4]");
        refused(IllegalArgumentException.class, () -> Ops.attention(q, Tensor.zeros(1, 2, 4, 4), q, 1f), "attention: k has shape [1,2,4,4], expected [1,2,3,4]");
        refused(IllegalArgumentException.class, () -> Ops.attention(q, q, Tensor.zeros(1, 2, 3, 2), 1f), "attention: v has shape [1,2,3,2], expected [1,2,3,4]");
        refused(IllegalArgumentException.class, () -> Ops.splitHeads(seq(2, 12), 2), "splitHeads: qkv must be (B, T, 3 x 2 heads x hd), got [2,12]");
        refused(IllegalArgumentException.class, () -> Ops.splitHeads(seq(1, 2, 2, 12), 2), "splitHeads", "got [1,2,2,12]");
        refused(IllegalArgumentException.class, () -> Ops.splitHeads(seq(1, 2, 12), 0), "splitHeads", "0 heads");
        refused(IllegalArgumentException.class, () -> Ops.splitHeads(seq(1, 2, 12), 3), "splitHeads", "3 heads", "[1,2,12]");
        Tensor[] qkv = Ops.splitHeads(seq(1, 2, 12), 2);                              // (B, T, 3, H, hd) = (1, 2, 3, 2, 2)
        assertArrayEquals(new float[]{4, 5, 16, 17, 6, 7, 18, 19}, qkv[1].toArray(), "k: heads first, then tokens");
        assertArrayEquals(seq(1, 2, 12).toArray(), Ops.mergeHeads(qkv[0], qkv[1], qkv[2]).toArray(), "mergeHeads undoes splitHeads");
        refused(IllegalArgumentException.class, () -> Ops.mergeHeads(seq(2, 2, 2), qkv[1], qkv[2]), "mergeHeads: dq must be (B, H, T, hd), got [2,2,2]");
        refused(IllegalArgumentException.class, () -> Ops.mergeHeads(qkv[0], seq(1, 2, 2, 3), qkv[2]), "mergeHeads: dk has shape [1,2,2,3], expected [1,2,2,2]");
        refused(IllegalArgumentException.class, () -> Ops.mergeHeads(qkv[0], qkv[1], seq(1, 1, 2, 2)), "mergeHeads: dv has shape [1,1,2,2], expected [1,2,2,2]");
        Tensor p = Tensor.zeros(6), m = Tensor.zeros(6), v = Tensor.zeros(6);
        refused(IllegalArgumentException.class, () -> Ops.adamw(p, Tensor.ones(3), m, v, 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0f), "adamw: grad has shape [3], expected [6]");
        Tensor big = Tensor.zeros(8);
        for (Tensor[] pmv : new Tensor[][]{{big.narrow(0, 2, 6), m, v}, {p, big.narrow(0, 2, 6), v}, {p, m, big.narrow(0, 2, 6)}})
            refused(IllegalArgumentException.class, () -> Ops.adamw(pmv[0], Tensor.ones(6), pmv[1], pmv[2], 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0f),
                    "adamw: parameter and moments must be contiguous, unshared tensors");
        Ops.adamw(p, Tensor.ones(6), m, v, 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0f);
        assertEquals(-0.1f, p.get(0), 1e-6f, "one step of lr 0.1 against a gradient of 1");
    }

    /** Edges of the views, broadcasting and softmax that only a rank-0 or empty tensor reaches. */
    @Test void scalars_empty_broadcasts_and_squeezed_strides() {
        Tensor s = Tensor.scalar(3f);
        assertArrayEquals(new int[0], s.softmax().shape());
        assertEquals(1f, s.softmax().item(), "softmax of one value");
        assertArrayEquals(new int[]{0}, Shapes.broadcast(new int[]{0}, new int[]{1}, "add"));
        assertArrayEquals(new int[]{0}, Shapes.broadcast(new int[]{1}, new int[]{0}, "add"));
        assertArrayEquals(new int[]{2, 0}, Tensor.zeros(2, 1).add(Tensor.zeros(0)).shape(), "a size-1 dim broadcasts to 0");
        assertArrayEquals(new int[]{0, 3}, Tensor.zeros(0, 1).mul(Tensor.ones(1, 3)).shape());
        Tensor t = seq(2, 1, 3).transpose(0, 2);                                     // shape [3,1,2], strides [1,3,3]
        assertArrayEquals(new int[]{1, 3}, t.squeeze(1).strides());
        assertArrayEquals(new int[]{3, 2}, t.squeeze(1).shape());
        assertArrayEquals(new int[]{1}, seq(1, 3).squeeze(0).strides());
        assertArrayEquals(new int[]{4, 1}, seq(2, 4, 1).squeeze(-1).strides());
        refused(IllegalArgumentException.class, () -> seq(1, 3).addInPlace(seq(2, 3)), "addInPlace: shape [2,3] does not broadcast to [1,3]");
        refused(IllegalArgumentException.class, () -> seq(2, 3).view(-2, 12), "view: negative size in [-2,12]");
        refused(IllegalArgumentException.class, () -> seq(2, 3).view(-1, -3), "view:");
    }

    @Test void index_contracts() {
        refused(IllegalArgumentException.class, () -> new Index(new int[3], 2, 2), "3 values", "[2,2]");
        Index i = new Index(new int[]{5, 3, 9, 1, 2, 8}, 2, 3);
        assertEquals(9, i.get(0, 2));
        assertEquals(1, i.get(1, 0));
        refused(IllegalArgumentException.class, () -> i.get(1), "1 indices");
        refused(IndexOutOfBoundsException.class, () -> i.get(1, 3), "index 3");
        refused(IndexOutOfBoundsException.class, () -> i.get(-1, 0), "index -1");
        assertEquals(3, i.size(1));
        assertEquals(2, i.dim());
        assertEquals(6, i.numel());
        assertArrayEquals(new int[]{1, 0, 2, 0, 1, 2}, i.argsort().data());
        assertArrayEquals(new int[]{3, 9, 2, 8}, i.narrowLast(1, 2).data());
        assertArrayEquals(new int[]{2, 2}, i.narrowLast(1, 2).shape());
        assertEquals(0, i.narrowLast(3, 0).numel());
        refused(IndexOutOfBoundsException.class, () -> i.narrowLast(2, 2), "[2, 4)");
        refused(IndexOutOfBoundsException.class, () -> i.narrowLast(-1, 1), "narrowLast");
        assertArrayEquals(new long[]{5, 3, 9, 1, 2, 8}, i.toLongs());
        assertArrayEquals(new int[]{7, -2}, Index.ofLongs(new long[]{7, -2}, 2).data());
        refused(IllegalArgumentException.class, () -> Index.ofLongs(new long[]{1L << 31}, 1), "does not fit an int");
        refused(IllegalArgumentException.class, () -> Index.ofLongs(new long[]{-(1L << 31) - 1}, 1), "does not fit an int");
        assertEquals(Integer.MIN_VALUE, Index.ofLongs(new long[]{Integer.MIN_VALUE}, 1).data()[0]);
        assertEquals(Integer.MAX_VALUE, Index.ofLongs(new long[]{Integer.MAX_VALUE}, 1).data()[0]);
        assertEquals("Index[2,3] [5, 3, 9, 1, 2, 8]", i.toString());
        assertEquals("Index[40]", new Index(new int[40], 40).toString());
        assertEquals("Index[33]", new Index(new int[33], 33).toString(), "over 32 values: the shape only");
        assertEquals("Index[32] " + Arrays.toString(new int[32]), new Index(new int[32], 32).toString(), "up to 32 values are printed");
        int[] sh = i.shape();
        sh[0] = 99;
        assertEquals(2, i.shape()[0], "shape() is a copy");
    }

    @Test void shapes_and_devices() {
        refused(IllegalArgumentException.class, () -> Shapes.numel(new int[]{2, -1}), "negative size");
        refused(IllegalArgumentException.class, () -> Shapes.numel(new int[]{1 << 16, 1 << 16}), "over 2^31");
        assertEquals(0, Shapes.numel(new int[]{3, 0}));
        assertEquals(Integer.MAX_VALUE, Shapes.numel(new int[]{Integer.MAX_VALUE}));
        assertEquals(Device.CPU, Device.parse("cpu"));
        assertEquals(Device.CUDA, Device.parse("CUDA"));
        refused(IllegalArgumentException.class, () -> Device.parse("tpu"), "tpu");
        assertTrue(Device.CPU.available());
        assertEquals("cpu", Device.CPU.describe());
        Device.CPU.synchronize();
    }
}
