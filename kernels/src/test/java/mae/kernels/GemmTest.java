package mae.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fast GEMM against the plain-loop reference, on awkward sizes and every transpose combination, with alpha 1
 * (row-major A is then read in place when N <= 256) and 0.75 (A always packed), across several KC, MC and NC blocks
 * and both threads' row ranges (N < 512, or M >= 3N) or column ranges (N >= 512), or rows over a shared B panel.
 */
class GemmTest {
    static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /**
     * Runs body in the usual order (C's blocks touched first wherever K allows) and in the few-rows order of Gemm
     * (never touched), and with a plain A taller than wide split by columns and by rows (whatever this machine's L2
     * would choose).
     */
    static void inBothOrders(java.util.function.Consumer<String> body) {
        int wasWidth = Gemm.fewRowsWidth;
        long was = Gemm.fewRowsBytes, split = Gemm.splitL2Bytes, above = Gemm.touchAboveBytes, block = Gemm.touchBlockBytes;
        try {
            Gemm.fewRowsBytes = 0;
            Gemm.fewRowsWidth = Integer.MAX_VALUE;
            Gemm.splitL2Bytes = 0;
            Gemm.touchAboveBytes = 0;
            Gemm.touchBlockBytes = Long.MAX_VALUE;
            body.accept("usual order, C's blocks touched first, a plain A taller than wide split by columns below M = 3N");
            Gemm.fewRowsBytes = Long.MAX_VALUE;
            Gemm.fewRowsWidth = 0;
            Gemm.splitL2Bytes = Long.MAX_VALUE;
            Gemm.touchAboveBytes = Long.MAX_VALUE;
            body.accept("few-rows order, a plain A taller than wide split by rows");
        } finally {
            Gemm.fewRowsBytes = was;
            Gemm.fewRowsWidth = wasWidth;
            Gemm.splitL2Bytes = split;
            Gemm.touchAboveBytes = above;
            Gemm.touchBlockBytes = block;
        }
    }

    /**
     * The few-rows order gives way where the usual order touches C's blocks first (K at most Gemm.TOUCH_MAX_K, a C
     * larger than touchAboveBytes, a block within touchBlockBytes), and only there: fmnist's encoder at K 192 takes the
     * usual order, the same rows at K 768 the few-rows order.
     */
    @Test void the_few_rows_order_gives_way_where_c_is_touched_first() {
        GemmBlocking g = new GemmBlocking(1024, 48, 2048, "fmnist");
        long was = Gemm.fewRowsBytes, above = Gemm.touchAboveBytes, block = Gemm.touchBlockBytes;
        try {
            Gemm.fewRowsBytes = 3L << 20;
            Gemm.touchAboveBytes = 1L << 20;
            Gemm.touchBlockBytes = 1L << 18;
            assertFalse(Gemm.fewRowsOrder(g, false, 832, 576, 192), "832 x 576 x 192: C (1.8 MiB) touched");
            assertFalse(Gemm.fewRowsOrder(g, false, 832, 576, Gemm.TOUCH_MAX_K), "K = TOUCH_MAX_K: touched");
            assertTrue(Gemm.fewRowsOrder(g, false, 832, 576, Gemm.TOUCH_MAX_K + 1), "K over TOUCH_MAX_K: not touched");
            assertTrue(Gemm.fewRowsOrder(g, false, 832, 192, 768), "832 x 192 x 768: K over TOUCH_MAX_K, not touched");
            assertTrue(Gemm.fewRowsOrder(g, false, 300, 576, 192), "300 x 576 x 192: C (675 KiB) under touchAboveBytes");
            Gemm.touchBlockBytes = 48 * 576 * 4 - 1;
            assertTrue(Gemm.fewRowsOrder(g, false, 832, 576, 192), "a block of C over touchBlockBytes: not touched");
            Gemm.touchAboveBytes = Long.MAX_VALUE;
            Gemm.touchBlockBytes = Long.MAX_VALUE;
            assertTrue(Gemm.fewRowsOrder(g, true, 832, 576, 192), "never touched: the few-rows order");
            assertFalse(Gemm.fewRowsOrder(g, false, 5000, 576, 192), "5000 x 576 x 192: A (3.7 MiB) over fewRowsBytes");
        } finally {
            Gemm.fewRowsBytes = was;
            Gemm.touchAboveBytes = above;
            Gemm.touchBlockBytes = block;
        }
    }

    /** The few-rows order (A packed once per k block, B a sliver at a time) gives the usual order's bits, edge tiles, k blocks and bias included. */
    @Test void the_few_rows_order_gives_the_bits_of_the_usual_order() {
        Random r = new Random(8);
        int[][] sizes = {{197, 600, 1030}, {13, 517, 300}, {40, 270, 64}, {301, 1030, 70}};
        for (GemmBlocking g : new GemmBlocking[]{new GemmBlocking(256, 2 * Gemm.PR, 8 * Gemm.NR, "small blocks"),
                new GemmBlocking(256, 2 * Gemm.PR, 8 * Gemm.NR, Gemm.MR, "small blocks, 6-row kernel"), GemmBlocking.current()})
            for (int[] s : sizes)
                for (int t = 0; t < 4; t++) {
                    boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                    int M = s[0], N = s[1], K = s[2], lda = ta ? M : K, ldb = tb ? K : N;
                    float alpha = t == 2 ? 0.5f : 1f;
                    float[] A = rand(r, M * K), B = rand(r, K * N), bias = t == 1 ? null : rand(r, N);
                    float[][] got = new float[2][];
                    int[] i = {0};
                    inBothOrders(order -> {
                        float[] c = new float[M * N];
                        java.util.Arrays.fill(c, Float.NaN);
                        Gemm.run(g, ta, tb, M, N, K, alpha, A, 0, lda, B, 0, ldb, 0f, bias, 0, c, 0, N);
                        got[i[0]++] = c;
                    });
                    org.junit.jupiter.api.Assertions.assertArrayEquals(got[0], got[1], g + " M=" + M + " N=" + N + " K=" + K + " ta=" + ta + " tb=" + tb);
                }
    }

    /**
     * The rows split over one shared B panel (Gemm.sharedPanel) gives the columns split's bits and the reference's
     * values: several KC and NC blocks, partial slivers and tiles, every transpose, bias, beta 0 and 1; as 2 and 3
     * threads would split it (splitAs) and on this machine's own threads.
     */
    @Test void the_shared_panel_gives_the_bits_of_the_columns_split() {
        Random r = new Random(21);
        // KC 64: several k blocks of one pack chunk each (Gemm.PACK_ROWS); KC 150: blocks of 3 chunks (64, 64, 22), the
        // last not a whole 8 rows of packRowsB's tiles, and of 2 (64, 1)
        for (GemmBlocking g : new GemmBlocking[]{new GemmBlocking(64, 2 * Gemm.PR, 4 * Gemm.NR, "several blocks"),
                new GemmBlocking(150, 2 * Gemm.PR, 4 * Gemm.NR, "several pack chunks")})
            sharedPanelAgrees(r, g, new int[][]{{100, 600, 150}, {37, 530, 64}, {250, 1030, 65}, {61, 520, 317}});
    }

    /**
     * The shared panel's row blocks cover the slivers once, in order, none over cap, none under a quarter of it but the
     * last, and shrink towards the end: 1024 rows on 2 threads with AVX2's 6-row slivers (171, cap 16) end in blocks of 4.
     */
    @Test void row_blocks_cover_the_rows_and_shrink_towards_the_end() {
        assertArrayEquals(new int[]{0, 16, 32, 48, 64, 80, 96, 112, 127, 138, 147, 153, 158, 162, 166, 170, 171}, Gemm.rowBlocks(171, 16, 2));
        assertArrayEquals(new int[]{0, 1}, Gemm.rowBlocks(1, 16, 2));
        assertArrayEquals(new int[]{0}, Gemm.rowBlocks(0, 16, 2));
        for (int slivers = 1; slivers < 400; slivers += 7)
            for (int cap : new int[]{1, 2, 4, 8, 16})
                for (int threads : new int[]{1, 2, 3, 8}) {
                    int[] b = Gemm.rowBlocks(slivers, cap, threads);
                    String what = slivers + " slivers, cap " + cap + ", " + threads + " threads: " + java.util.Arrays.toString(b);
                    assertEquals(0, b[0], what);
                    assertEquals(slivers, b[b.length - 1], what);
                    for (int i = 1; i < b.length; i++) {
                        int size = b[i] - b[i - 1];
                        assertTrue(size >= 1 && size <= cap, what);
                        assertTrue(i == b.length - 1 || size >= Math.max(1, cap / 4), what);
                        assertTrue(i == 1 || size <= b[i - 1] - b[i - 2], what + ": a block larger than the one before");
                    }
                }
    }

    /**
     * A B too short for its shape fails in the shared panel's packing, on whichever thread packs its last rows: the call
     * throws instead of leaving the other threads waiting for that chunk (they would spin for good: this test would hang).
     */
    @Test void a_failed_pack_chunk_ends_the_call_with_its_error() {
        GemmBlocking g = new GemmBlocking(256, 2 * Gemm.PR, 4 * Gemm.NR, "several pack chunks");
        int M = 600, N = 600, K = 256;
        float[] A = new float[M * K], B = new float[K * N - 100], C = new float[M * N];
        long was = Gemm.fewRowsBytes;
        int wasWidth = Gemm.fewRowsWidth;
        try {
            Gemm.fewRowsBytes = 0;                       // the usual order, where the shared panel applies
            Gemm.fewRowsWidth = Integer.MAX_VALUE;
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> {
                for (int i = 0; i < 20; i++)             // the short chunk lands on either thread
                    assertThrows(IndexOutOfBoundsException.class, () -> Gemm.run(g, false, false, M, N, K, 1f, A, 0, K, B, 0, N, 0f, null, 0, C, 0, N));
            });
        } finally {
            Gemm.fewRowsBytes = was;
            Gemm.fewRowsWidth = wasWidth;
        }
    }

    private static void sharedPanelAgrees(Random r, GemmBlocking g, int[][] sizes) {
        long was = Gemm.fewRowsBytes, split = Gemm.splitL2Bytes;
        int wasWidth = Gemm.fewRowsWidth;
        try {
            Gemm.fewRowsBytes = 0;                       // the usual order, where the shared panel applies
            Gemm.fewRowsWidth = Integer.MAX_VALUE;
            Gemm.splitL2Bytes = 0;                       // M > N stays split by columns up to M = 3N
            for (int[] s : sizes)
                for (int t = 0; t < 8; t++) {
                    boolean ta = (t & 1) != 0, tb = (t & 2) != 0, withBias = (t & 4) != 0;
                    int M = s[0], N = s[1], K = s[2], lda = ta ? M : K, ldb = tb ? K : N;
                    float[] A = rand(r, M * K), B = rand(r, K * N), bias = withBias ? rand(r, N) : null, C0 = rand(r, M * N);
                    float beta = withBias ? 0f : (t & 1);
                    float[] want = C0.clone();
                    if (bias != null) for (int m = 0; m < M; m++) System.arraycopy(bias, 0, want, m * N, N);
                    Gemm.ref(ta, tb, M, N, K, 0.75f, A, 0, lda, B, 0, ldb, bias != null ? 1f : beta, want, 0, N);
                    for (int threads : new int[]{2, 3, 0}) {
                        float[][] got = new float[2][];
                        for (int shared = 0; shared < 2; shared++) {
                            Gemm.sharePanel = shared == 1;
                            float[] c = C0.clone();
                            Runnable call = () -> Gemm.run(g, ta, tb, M, N, K, 0.75f, A, 0, lda, B, 0, ldb, beta, bias, 0, c, 0, N);
                            if (threads > 0) Parallel.splitAs(threads, call); else call.run();
                            got[shared] = c;
                        }
                        String what = "M=" + M + " N=" + N + " K=" + K + " ta=" + ta + " tb=" + tb + " bias=" + withBias + " beta=" + beta
                                + (threads > 0 ? " as " + threads + " threads" : " on " + Parallel.threads() + " threads");
                        org.junit.jupiter.api.Assertions.assertArrayEquals(got[0], got[1], what);
                        for (int i = 0; i < want.length; i++)
                            assertEquals(want[i], got[1][i], 1e-5f * (1 + Math.abs(want[i])) * Math.sqrt(K), what + " at " + i);
                    }
                }
        } finally {
            Gemm.fewRowsBytes = was;
            Gemm.fewRowsWidth = wasWidth;
            Gemm.splitL2Bytes = split;
            Gemm.sharePanel = true;
        }
    }

    /**
     * The in-place k block (GemmBlocking.kcInPlace) sets the k blocks, so the bits, of a transposed A read in place (N
     * <= Gemm.IN_PLACE_COLUMNS, alpha 1) and of nothing else: there a blocking with KC 512 and KCI 24 gives the bits of KC 24 (and not
     * those of KC 512: the k blocks set where the partial sums are rounded); packed (alpha 0.5, N over that, or A not
     * transposed) it gives the bits of KC 512.
     */
    @Test void the_in_place_k_block_sets_the_k_blocks_of_a_transposed_a_read_in_place_only() {
        Random r = new Random(31);
        GemmBlocking both = new GemmBlocking(512, 2 * Gemm.PR, 8 * Gemm.NR, Gemm.PR, 24, "KC 512, in place 24"),
                short24 = new GemmBlocking(24, 2 * Gemm.PR, 8 * Gemm.NR, "KC 24"), long512 = new GemmBlocking(512, 2 * Gemm.PR, 8 * Gemm.NR, "KC 512");
        int[][] cases = {{1, 97, 70, 300, 1}, {1, 60, 256, 500, 1}, {1, 97, 70, 300, 0}, {1, 60, 300, 200, 1}, {0, 97, 70, 300, 1}};   // ta, M, N, K, alpha 1
        for (int[] c : cases) {
            boolean ta = c[0] == 1, inPlace = ta && c[2] <= Gemm.IN_PLACE_COLUMNS && c[4] == 1;
            int M = c[1], N = c[2], K = c[3];
            float alpha = c[4] == 1 ? 1f : 0.5f;
            float[] A = rand(r, M * K), B = rand(r, K * N);
            float[][] got = new float[3][];
            GemmBlocking[] gs = {both, short24, long512};
            for (int i = 0; i < 3; i++) {
                got[i] = new float[M * N];
                Gemm.gemm(gs[i], ta, false, M, N, K, alpha, A, 0, ta ? M : K, B, 0, N, 0f, got[i], 0, N);
            }
            String what = "ta=" + ta + " M=" + M + " N=" + N + " K=" + K + " alpha=" + alpha;
            org.junit.jupiter.api.Assertions.assertArrayEquals(got[inPlace ? 1 : 2], got[0], what);
            assertFalse(java.util.Arrays.equals(got[1], got[2]), what + ": KC 24 and 512 gave the same bits, so this case tells nothing");
        }
    }

    /** micro reads A through Unsafe after one check per call: a sliver that would read past A is refused, naming it. */
    @Test void a_sliver_past_the_end_of_a_is_refused_before_any_read() {
        float[] a = new float[6 * 10];
        RawReads.check("A sliver", a, 0, 6, 1, 10, 6);                  // a packed sliver that fills a exactly
        RawReads.check("A sliver", a, 9, 6, 10, 1, 1);                  // rows 10 apart, one step: last index 59
        var e = assertThrows(IndexOutOfBoundsException.class, () -> RawReads.check("A sliver", a, 1, 6, 1, 10, 6));
        assertTrue(e.getMessage().contains("A sliver 6 rows x 10 steps from 1") && e.getMessage().contains("reads up to index 60 of an array of 60"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> RawReads.check("A sliver", a, 0, 6, 10, 11, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> RawReads.check("A sliver", a, -1, 6, 1, 2, 6));
        assertThrows(IndexOutOfBoundsException.class, () -> RawReads.check("A sliver", a, 0, 6, 1, 2, -6));
    }

    /**
     * Where a JVM refuses Unsafe, micro and microRows read A as an array: in a child JVM with -Dmae.gemm.unsafe=false,
     * the checks against the reference above, with A packed and read in place, and attention's (its panels and
     * transposes read the same way).
     */
    @Test void without_unsafe_the_kernels_read_a_as_an_array_and_match_the_reference() throws Exception {
        String out = child("-Dmae.gemm.unsafe=false", ArrayReads.class);
        assertTrue(out.contains("array reads match the reference"), out);
    }

    /**
     * micro's other loop (one k step per turn where this JVM's default is two, or two where it is one: the default
     * follows the JDK, see Gemm.TWO_STEPS), in a child JVM that sets it, against the reference as above.
     */
    @Test void the_other_micro_kernel_loop_matches_the_reference() throws Exception {
        int other = Gemm.TWO_STEPS ? 1 : 2;
        String out = child("-Dmae.gemm.steps=" + other, OtherLoop.class);
        assertTrue(out.contains("the " + other + "-step loop matches the reference"), out);
    }

    /** Runs main of a child class in a JVM with this one's class path, the JIT flags, no autotune and the given property; returns its output. */
    private static String child(String property, Class<?> main) throws Exception {
        java.nio.file.Path log = java.nio.file.Files.createTempFile("gemm-child", ".log");
        try {
            Process p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", JitFlags.TRAP_LIMIT, JitFlags.RECOMPILE_CUTOFF, property,
                    "-Dmae.gemm.autotune=false", "-cp", System.getProperty("java.class.path"), main.getName())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertTrue(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS), "the child JVM did not finish in 300 s");
            String out = java.nio.file.Files.readString(log);
            assertEquals(0, p.exitValue(), out);
            return out;
        } finally {
            java.nio.file.Files.deleteIfExists(log);
        }
    }

    /** The child of {@link #the_other_micro_kernel_loop_matches_the_reference}. */
    static final class OtherLoop {
        public static void main(String[] args) {
            int steps = Integer.getInteger("mae.gemm.steps");
            if (Gemm.TWO_STEPS != (steps == 2)) throw new AssertionError("-Dmae.gemm.steps=" + steps + " left TWO_STEPS " + Gemm.TWO_STEPS);
            GemmTest t = new GemmTest();
            t.fast_matches_reference();
            t.fast_matches_reference_with_a_row_major_a_read_in_place();
            System.out.println("the " + steps + "-step loop matches the reference");
        }
    }

    /** The child of {@link #without_unsafe_the_kernels_read_a_as_an_array_and_match_the_reference}. */
    static final class ArrayReads {
        public static void main(String[] args) {
            if (RawReads.throughUnsafe()) throw new AssertionError("-Dmae.gemm.unsafe=false left Unsafe on");
            GemmTest t = new GemmTest();
            t.fast_matches_reference();
            t.fast_matches_reference_with_a_row_major_a_read_in_place();
            KernelsTest k = new KernelsTest();                               // attention's panels and transposes read through RawReads too
            k.fast_attention_matches_reference();
            k.attention_on_heads_in_place_matches_the_reference_on_copied_heads();
            System.out.println("array reads match the reference");
        }
    }

    @Test void fast_matches_reference() { inBothOrders(this::fastMatchesReference); }

    /**
     * A row-major A read in place whatever the vector width: its row streams (microRows, and micro4x4 with AVX-512)
     * against the reference. Without AVX-512 Gemm packs such an A, so this is where microRows runs there.
     */
    @Test void fast_matches_reference_with_a_row_major_a_read_in_place() {
        boolean was = Gemm.rowsInPlace;
        try {
            Gemm.rowsInPlace = true;
            inBothOrders(this::fastMatchesReference);
        } finally {
            Gemm.rowsInPlace = was;
        }
    }

    private void fastMatchesReference(String order) {
        Random r = new Random(3);
        int[][] sizes = {{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {13, 17, 19}, {33, 65, 7}, {64, 48, 96}, {129, 31, 200},
                {7, 45, 530}, {97, 257, 33}, {200, 1030, 40}, {301, 70, 260}, {45, 517, 300}, {33, 600, 1030}, {1600, 520, 30},
                {130, 200, 1100}};   // A read in place (alpha 1, N <= 256): pairs of slivers, a last single one, 4 edge rows, 2 k blocks
        for (int[] s : sizes)
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int M = s[0], N = s[1], K = s[2];
                int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 1; // padded strides
                float[] A = rand(r, (ta ? K : M) * lda + 5), B = rand(r, (tb ? N : K) * ldb + 4);
                float[] C1 = rand(r, M * ldc + 2), C2 = C1.clone();
                float alpha = (t + s[0]) % 2 == 0 ? 1f : 0.75f, beta = t == 3 ? 0f : 0.5f;
                Gemm.ref(ta, tb, M, N, K, alpha, A, 5, lda, B, 4, ldb, beta, C1, 2, ldc);
                Gemm.gemm(ta, tb, M, N, K, alpha, A, 5, lda, B, 4, ldb, beta, C2, 2, ldc);
                for (int i = 0; i < C1.length; i++)
                    assertEquals(C1[i], C2[i], 1e-5f * (1 + Math.abs(C1[i])) * Math.sqrt(K),
                            order + ", M=" + M + " N=" + N + " K=" + K + " ta=" + ta + " tb=" + tb + " at " + i);
            }
    }

    /**
     * A linear layer with few rows runs in the other orientation (y^T = W x^T, see CpuBackend.linear): the same bits
     * as the plain GEMM, with and without bias, on both sides of the few-rows bound and across KC blocks.
     */
    @Test void few_row_linear_gives_the_bits_of_the_plain_orientation() {
        Random r = new Random(11);
        int[][] sizes = {{1, 5, 3}, {50, 1024, 600}, {17, 130, 1030}, {128, 300, 64}, {129, 700, 40}, {60, 40, 33}};
        for (int[] s : sizes)
            for (boolean withBias : new boolean[]{true, false}) {
                int rows = s[0], out = s[1], in = s[2];
                float[] x = rand(r, rows * in + 3), w = rand(r, out * in + 2), b = rand(r, out + 1);
                float[] want = new float[rows * out];
                if (withBias) for (int i = 0; i < rows; i++) System.arraycopy(b, 1, want, i * out, out);
                Gemm.gemm(false, true, rows, out, in, 1f, x, 3, in, w, 2, in, withBias ? 1f : 0f, want, 0, out);
                HostStorage y = new HostStorage(new float[rows * out]);
                CpuBackend.INSTANCE.linear(y, new Buf(new HostStorage(x), 3), new Buf(new HostStorage(w), 2),
                        withBias ? new Buf(new HostStorage(b), 1) : null, rows, in, out);
                org.junit.jupiter.api.Assertions.assertArrayEquals(want, y.data, "rows " + rows + " out " + out + " in " + in + " bias " + withBias);
            }
    }

    /**
     * gemmBias and gemm with beta 0 store the first k block's sums without reading C: the bits of the old way (bias
     * copied into C, or C cleared, then beta 1), whatever C held (NaN included), across k blocks, every transpose,
     * both splits (and the row split of a tall transposed A) and edge tiles; the reference mode gives the reference's values.
     */
    @Test void bias_and_beta_zero_write_c_once_with_the_bits_of_clear_then_add() { inBothOrders(this::biasAndBetaZero); }

    private void biasAndBetaZero(String order) {
        Random r = new Random(5);
        int[][] sizes = {{1, 1, 1}, {7, 33, 5}, {13, 70, 600}, {45, 517, 300}, {200, 1030, 40}, {301, 96, 1100}, {6, 64, 128},
                {1100, 530, 70},    // wide and taller still: split by columns or by rows (see inBothOrders), by rows when A is transposed
                {124, 160, 1100}};  // A read in place: two pairs of slivers and a single one, 4 edge rows, 2 k blocks
        for (int[] s : sizes)
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int M = s[0], N = s[1], K = s[2], lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 3, ldc = N + 2;
                float[] A = rand(r, (ta ? K : M) * lda + 2), B = rand(r, (tb ? N : K) * ldb + 1), bias = rand(r, N + 4);
                float alpha = t == 2 ? 0.5f : 1f;
                for (boolean withBias : new boolean[]{true, false}) {
                    float[] old = new float[M * ldc + 3], fused = new float[old.length];
                    java.util.Arrays.fill(old, 7f);                                  // outside C's block: must stay 7
                    java.util.Arrays.fill(fused, 7f);
                    for (int m = 0; m < M; m++) {
                        java.util.Arrays.fill(fused, 3 + m * ldc, 3 + m * ldc + N, Float.NaN);   // never read
                        if (withBias) System.arraycopy(bias, 4, old, 3 + m * ldc, N);  // the old way: C holds the bias (or 0), then C += product
                        else java.util.Arrays.fill(old, 3 + m * ldc, 3 + m * ldc + N, 0f);
                    }
                    Gemm.gemm(ta, tb, M, N, K, alpha, A, 2, lda, B, 1, ldb, 1f, old, 3, ldc);
                    if (withBias) Gemm.gemmBias(ta, tb, M, N, K, alpha, A, 2, lda, B, 1, ldb, bias, 4, fused, 3, ldc);
                    else Gemm.gemm(ta, tb, M, N, K, alpha, A, 2, lda, B, 1, ldb, 0f, fused, 3, ldc);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(old, fused, order + ", M=" + M + " N=" + N + " K=" + K + " ta=" + ta + " tb=" + tb + " bias " + withBias);
                    float[] ref = fused.clone();
                    boolean was = KernelMode.setReference(true);
                    try {
                        Gemm.gemmBias(ta, tb, M, N, K, alpha, A, 2, lda, B, 1, ldb, withBias ? bias : null, 4, ref, 3, ldc);
                    } finally {
                        KernelMode.setReference(was);
                    }
                    for (int i = 0; i < ref.length; i++)
                        assertEquals(ref[i], fused[i], 1e-5f * (1 + Math.abs(ref[i])) * Math.sqrt(K), order + ", reference mode, M=" + M + " N=" + N + " K=" + K + " at " + i);
                }
            }
    }
}
