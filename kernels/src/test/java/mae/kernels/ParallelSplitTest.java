package mae.kernels;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every parallel split of the fast kernels, forced with {@link Parallel#splitAs} to 2, 3 and 5 threads whatever
 * this machine's core count (on a 1-core machine no split would run otherwise). Each kernel's split computes every
 * element the same way as the unsplit kernel, so the results must be the same bits (layer norm's dw and db, summed
 * per chunk, are compared with the double reference instead).
 */
class ParallelSplitTest {
    static final int[] THREADS = {2, 3, 5};

    static float[] gaussian(Random r, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * scale);
        return x;
    }

    /** The result unsplit (1 thread), then under each forced split: the same bits. */
    static void sameBitsWhenSplit(String what, Supplier<float[][]> run) {
        float[][][] once = new float[1][][];
        Parallel.splitAs(1, () -> once[0] = run.get());
        for (int t : THREADS) {
            float[][][] split = new float[1][][];
            Parallel.splitAs(t, () -> split[0] = run.get());
            for (int i = 0; i < once[0].length; i++) assertArrayEquals(once[0][i], split[0][i], what + ", output " + i + ", split over " + t);
        }
    }

    @Test void for_range_splits_into_balanced_contiguous_chunks_as_if_there_were_that_many_threads() {
        for (int t = 1; t <= 6; t++)
            for (int[] nm : new int[][]{{0, 1}, {1, 1}, {7, 1}, {100, 1}, {100, 30}, {100, 50}, {1000, 7}, {5, 0}}) {
                int n = nm[0], minChunk = nm[1];
                List<int[]> chunks = new ArrayList<>();
                Parallel.splitAs(t, () -> Parallel.forRange(n, minChunk, (a, b) -> chunks.add(new int[]{a, b})));
                int want = Math.max(1, Math.min(t, n / Math.max(1, minChunk)));
                assertEquals(want, chunks.size(), "chunks of " + n + " (min " + minChunk + ") over " + t);
                int at = 0, smallest = Integer.MAX_VALUE, largest = 0;
                for (int[] c : chunks) {
                    assertEquals(at, c[0], "contiguous, in order");
                    at = c[1];
                    smallest = Math.min(smallest, c[1] - c[0]);
                    largest = Math.max(largest, c[1] - c[0]);
                }
                assertEquals(n, at, "the chunks cover [0, n)");
                assertTrue(largest - smallest <= 1, "balanced: " + smallest + " .. " + largest);
            }
    }

    @Test void a_forced_split_is_undone_after_it_and_nested_ranges_stay_serial() {
        Parallel.splitAs(4, () -> {
            assertEquals(4, Parallel.threads());
            Parallel.splitAs(2, () -> assertEquals(2, Parallel.threads()));
            assertEquals(4, Parallel.threads(), "the outer count is back");
            List<Integer> inner = new ArrayList<>();
            Parallel.forRange(8, 1, (a, b) -> Parallel.forRange(100, 1, (c, d) -> inner.add(d - c)));
            assertEquals(List.of(100, 100, 100, 100), inner, "inside a chunk every range runs whole");
        });
        assertEquals(Parallel.defaultThreads(), Parallel.threads());   // the pool's own count again
        assertThrows(IllegalArgumentException.class, () -> Parallel.splitAs(0, () -> {}));
        RuntimeException boom = new IllegalStateException("chunk failed");
        assertSame(boom, assertThrows(IllegalStateException.class, () -> Parallel.splitAs(3, () -> Parallel.forRange(9, 1, (a, b) -> {
            if (a > 0) throw boom;
        }))));
        assertEquals(Parallel.defaultThreads(), Parallel.threads(), "undone after a failure too");
    }

    /**
     * Without a forced split, on this machine's threads: every index once, a failure in any chunk (the caller's
     * own or a worker's) reaches the caller, and ranges started inside a chunk of a split run whole on its thread
     * (a range that did not split leaves every thread free for the ranges inside it).
     */
    @Test void for_range_on_the_pool_covers_every_index_once_and_reports_failures() {
        for (int n : new int[]{1, 2, 7, 1000}) {
            java.util.concurrent.atomic.AtomicIntegerArray hits = new java.util.concurrent.atomic.AtomicIntegerArray(n);
            java.util.Set<String> nested = java.util.concurrent.ConcurrentHashMap.newKeySet();
            Parallel.forRange(n, 1, (a, b) -> {
                for (int i = a; i < b; i++) hits.incrementAndGet(i);
                Parallel.forRange(50, 1, (c, d) -> nested.add(c + "-" + d));
            });
            for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "index " + i + " of " + n);
            if (Math.min(n, Parallel.threads()) > 1) assertEquals(java.util.Set.of("0-50"), nested, "inside a split range, ranges run whole");
        }
        int chunks = Math.min(Parallel.threads(), 1000);
        for (int c = 0; c < chunks; c++) {
            int failing = c;
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forRange(1000, 1, (a, b) -> {
                if (a == Parallel.bound(1000, chunks, failing)) throw new IllegalStateException("chunk " + failing);
            }));
            assertEquals("chunk " + failing, e.getMessage());
        }
        List<Integer> after = new ArrayList<>();
        Parallel.forRange(10, 1, (a, b) -> { if (a == 0) Parallel.forRange(4, 1, (c, d) -> after.add(d - c)); });
        assertEquals(List.of(4), after, "the caller's chunk is serial inside, and the caller is not left marked as a worker:");
        List<int[]> outside = java.util.Collections.synchronizedList(new ArrayList<>());
        Parallel.forRange(1000, 1, (a, b) -> outside.add(new int[]{a, b}));
        assertEquals(Math.min(Parallel.threads(), 1000), outside.size(), "a range started after it splits again");
    }

    /** A caller interrupted while it waits for the workers stops with a clear error and keeps its interrupt flag. */
    @Test void an_interrupted_wait_for_the_workers_is_reported() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Parallel.threads() > 1, "one thread: nothing to wait for");
        Thread.currentThread().interrupt();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forRange(1000, 1, (a, b) -> {
            if (a > 0) try { Thread.sleep(200); } catch (InterruptedException x) { throw new AssertionError(x); }
        }));
        assertTrue(Thread.interrupted(), "the interrupt is kept (and cleared here)");
        assertTrue(e.getMessage().contains("interrupted while waiting for kernel workers"), e.getMessage());
    }

    /**
     * GEMM: row split (N < 512) and column split (N >= 512, whole slivers), every transpose, alpha 1 (A read in place
     * where a chunk is narrow) and 0.75, beta 0 and 0.5, padded strides and offsets.
     */
    @Test void gemm_row_and_column_splits() {
        Random r = new Random(21);
        int[][] sizes = {{150, 300, 9}, {61, 700, 13}, {40, 1100, 7}};
        for (int[] s : sizes)
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int M = s[0], N = s[1], K = s[2];
                int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 1;
                float[] A = gaussian(r, (ta ? K : M) * lda + 5, 1), B = gaussian(r, (tb ? N : K) * ldb + 4, 1), C0 = gaussian(r, M * ldc + 2, 1);
                float alpha = t % 2 == 0 ? 1f : 0.75f, beta = t == 3 ? 0f : 0.5f;
                assertTrue((long) M * N * K >= 1 << 18, "large enough to split");
                sameBitsWhenSplit("gemm " + M + "x" + N + "x" + K + " ta " + ta + " tb " + tb, () -> {
                    float[] C = C0.clone();
                    Gemm.gemm(ta, tb, M, N, K, alpha, A, 5, lda, B, 4, ldb, beta, C, 2, ldc);
                    return new float[][]{C};
                });
                float[] ref = C0.clone(), fast = C0.clone();
                Gemm.ref(ta, tb, M, N, K, alpha, A, 5, lda, B, 4, ldb, beta, ref, 2, ldc);
                Parallel.splitAs(3, () -> Gemm.gemm(ta, tb, M, N, K, alpha, A, 5, lda, B, 4, ldb, beta, fast, 2, ldc));
                KernelsTest.assertClose(ref, fast, 1e-5, "gemm split over 3 against the reference");
            }
    }

    @Test void sum_splits_over_rows_and_over_columns() {
        Random r = new Random(22);
        for (int[] sz : new int[][]{{1300, 5, 1}, {3, 40, 700}, {2, 9, 130}}) {
            float[] x = gaussian(r, sz[0] * sz[1] * sz[2] + 3, 1);
            sameBitsWhenSplit("sum " + java.util.Arrays.toString(sz), () -> {
                float[] out = new float[sz[0] * sz[2]];
                Reduce.sum(out, x, 3, sz[0], sz[1], sz[2]);
                return new float[][]{out};
            });
            float[] ref = new float[sz[0] * sz[2]], fast = new float[ref.length];
            Reduce.sumRef(ref, x, 3, sz[0], sz[1], sz[2]);
            Parallel.splitAs(3, () -> Reduce.sum(fast, x, 3, sz[0], sz[1], sz[2]));
            KernelsTest.assertClose(ref, fast, 1e-5, "sum split against the reference");
        }
    }

    @Test void layer_norm_splits_rows_and_sums_dw_db_per_chunk() {
        Random r = new Random(23);
        int rows = 400, C = 37, n = rows * C;
        float[] x = gaussian(r, n, 2), w = gaussian(r, C, 1), b = gaussian(r, C, 1), dout = gaussian(r, n, 1);
        float[] mean = new float[rows], rstd = new float[rows];
        LayerNorm.forwardRef(new float[n], mean, rstd, x, w, b, rows, C, 1e-6f);
        sameBitsWhenSplit("layer norm forward", () -> {
            float[] out = new float[n], m = new float[rows], s = new float[rows];
            LayerNorm.forward(out, m, s, x, w, b, rows, C, 1e-6f);
            return new float[][]{out, m, s};
        });
        float[] dx0 = gaussian(r, n, 1), dx1 = dx0.clone(), dw1 = new float[C], db1 = new float[C];
        LayerNorm.backwardRef(dx1, dw1, db1, dout, x, w, mean, rstd, rows, C);
        for (int t : THREADS) {
            float[] dx = dx0.clone(), dw = new float[C], db = new float[C];
            Parallel.splitAs(t, () -> LayerNorm.backward(dx, dw, db, dout, x, w, mean, rstd, rows, C));
            KernelsTest.assertClose(dx1, dx, 1e-5, "dx over " + t);
            KernelsTest.assertClose(dw1, dw, 1e-6 * rows, "dw over " + t);
            KernelsTest.assertClose(db1, db, 1e-6 * rows, "db over " + t);
        }
    }

    @Test void softmax_gelu_and_adamw_split_their_rows_and_elements() {
        Random r = new Random(24);
        int rows = 700, cols = 97, n = rows * cols;
        float[] x = gaussian(r, n, 3), dy = gaussian(r, n, 1), dx0 = gaussian(r, n, 1);
        sameBitsWhenSplit("softmax", () -> {
            float[] y = new float[n], dx = dx0.clone();
            Softmax.forward(y, x, rows, cols);
            Softmax.backward(dx, dy, y, rows, cols);
            return new float[][]{y, dx};
        });
        int m = 5 * (1 << 15) + 13;
        float[] g = gaussian(r, m, 2), dout = gaussian(r, m, 1), dg0 = gaussian(r, m, 1);
        sameBitsWhenSplit("gelu", () -> {
            float[] y = new float[m], dg = dg0.clone();
            Gelu.forward(y, g, m);
            Gelu.backward(dg, dout, g, m);
            return new float[][]{y, dg};
        });
        float[] p0 = gaussian(r, m + 3, 1), grad = gaussian(r, m + 3, 1), m0 = gaussian(r, m + 3, 0.1), v0 = new float[m + 3];
        for (int i = 0; i < v0.length; i++) v0[i] = Math.abs(grad[i]) * 0.01f;
        sameBitsWhenSplit("adamw", () -> {
            float[] p = p0.clone(), mm = m0.clone(), v = v0.clone();
            for (long t = 1; t <= 2; t++) AdamW.step(p, grad, mm, v, 3, m, t, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.05f);
            return new float[][]{p, mm, v};
        });
    }

    @Test void attention_splits_batch_and_heads() {
        Random r = new Random(25);
        int BH = 7, T = 45, hd = 16, n = BH * T * hd;
        float[] q = gaussian(r, n, 1), k = gaussian(r, n, 1), v = gaussian(r, n, 1), dout = gaussian(r, n, 1);
        float scale = 0.25f;
        sameBitsWhenSplit("attention", () -> {
            float[] out = new float[n], lse = new float[BH * T], dq = new float[n], dk = new float[n], dv = new float[n];
            Attention.forward(out, lse, q, k, v, BH, T, hd, scale);
            Attention.backward(dq, dk, dv, dout, q, k, v, out, lse, BH, T, hd, scale);
            return new float[][]{out, lse, dq, dk, dv};
        });
    }
}
