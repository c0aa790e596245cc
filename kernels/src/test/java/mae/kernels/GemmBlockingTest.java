package mae.kernels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** Cache sizes from sysfs, the analytic blocking, the autotune's cache file, and every blocking's products against the reference. */
class GemmBlockingTest {
    static void cacheIndex(Path dir, int i, int level, String type, String size, String shared) throws Exception {
        Path d = Files.createDirectories(dir.resolve("index" + i));
        Files.writeString(d.resolve("level"), level + "\n");
        Files.writeString(d.resolve("type"), type + "\n");
        Files.writeString(d.resolve("size"), size + "\n");
        Files.writeString(d.resolve("shared_cpu_list"), shared + "\n");
    }

    @Test void cache_sizes_come_from_sysfs_with_the_l3_shared_out(@TempDir Path dir) throws Exception {
        cacheIndex(dir, 0, 1, "Data", "48K", "0");
        cacheIndex(dir, 1, 1, "Instruction", "32K", "0");
        cacheIndex(dir, 2, 2, "Unified", "2048K", "0");
        cacheIndex(dir, 3, 3, "Unified", "105M", "0-3,8-11,16");
        CacheSizes c = CacheSizes.read(dir);
        assertEquals(new CacheSizes(48 << 10, 2 << 20, (105L << 20) / 9, true), c);
        assertEquals(CacheSizes.FALLBACK, CacheSizes.read(dir.resolve("absent")));
        Files.writeString(dir.resolve("index2/size"), "lots\n");                 // half readable: not trusted
        assertEquals(CacheSizes.FALLBACK, CacheSizes.read(dir));
        assertEquals(3, CacheSizes.cpuCount("0-1,5"));
        assertEquals(32L << 20, CacheSizes.parseSize("32M"));
    }

    @Test void the_analytic_blocking_follows_the_caches() {
        CacheSizes zen5 = new CacheSizes(48 << 10, 1 << 20, 16 << 20, true);
        GemmBlocking g = GemmBlocking.analytic(zen5);
        int kc = Math.max(128, (24 << 10) / (4 * Gemm.NR) / 64 * 64);             // the B sliver in half of L1d
        assertEquals(kc, g.kc());
        assertEquals(Math.min(96, (512 << 10) / (4 * kc) / Gemm.PR * Gemm.PR), g.mc());
        assertEquals(Math.min(4096, (8 << 20) / (4 * kc) / Gemm.NR * Gemm.NR), g.nc());
        GemmBlocking small = GemmBlocking.analytic(new CacheSizes(16 << 10, 256 << 10, 512 << 10, true));
        assertEquals(128, small.kc());                                            // never below 128
        assertTrue(small.mc() <= g.mc() && small.nc() <= g.nc(), small + " vs " + g);
        for (GemmBlocking c : GemmBlocking.candidates(zen5)) {
            assertEquals(0, c.mc() % Gemm.PR);
            assertEquals(0, c.nc() % Gemm.NR);
        }
        assertEquals(List.of(g.kc(), g.mc(), g.nc()), List.of(GemmBlocking.candidates(zen5).get(0).kc(), GemmBlocking.candidates(zen5).get(0).mc(), GemmBlocking.candidates(zen5).get(0).nc()));
    }

    /**
     * Caches where no bound of the model binds (for NR 8 to 32): each block is the largest whole number of slivers
     * (KC: of 64) that fills at most half of its cache, the B sliver KC x NR in L1d, the A block MC x KC in L2, the B
     * panel KC x NC in the L3 share; every candidate's NC follows its KC the same way.
     */
    @Test void each_block_fills_at_most_half_of_its_cache() {
        CacheSizes c = new CacheSizes(64 << 10, 128 << 10, 4 << 20, true);
        GemmBlocking g = GemmBlocking.analytic(c);
        assertTrue(4L * g.kc() * Gemm.NR <= c.l1d() / 2 && 4L * (g.kc() + 64) * Gemm.NR > c.l1d() / 2 && g.kc() % 64 == 0, g.toString());
        assertTrue(4L * g.mc() * g.kc() <= c.l2() / 2 && 4L * (g.mc() + Gemm.PR) * g.kc() > c.l2() / 2 && g.mc() % Gemm.PR == 0, g.toString());
        List<GemmBlocking> cands = GemmBlocking.candidates(c);
        // the model's, KC 256 to 1024 (5) x MC 48, 96 with the widest kernel, and with AVX-512 each KC at MC 96 with 6 rows
        assertEquals(Gemm.PR > Gemm.MR ? 16 : 11, cands.size(), cands.toString());
        assertEquals(Gemm.PR > Gemm.MR ? 5 : 0, cands.stream().filter(b -> b.rows() < Gemm.PR).count(), cands.toString());
        for (GemmBlocking b : cands)
            assertTrue(4L * b.kc() * b.nc() <= c.l3PerCore() / 2 && 4L * b.kc() * (b.nc() + Gemm.NR) > c.l3PerCore() / 2 && b.nc() % Gemm.NR == 0, b.toString());
    }

    @Test void a_user_blocking_is_parsed_or_refused_in_one_line() {
        GemmBlocking g = GemmBlocking.fromSetting(" 256, 48 ," + 4 * Gemm.NR);
        assertEquals(List.of(256, 48, 4 * Gemm.NR), List.of(g.kc(), g.mc(), g.nc()));
        assertNull(GemmBlocking.fromSetting(" "));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("256,48")).getMessage().contains("KC,MC,NC"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("256,x,64")).getMessage().contains("three to five integers"));
        assertEquals(Gemm.PR, g.rows());                                                     // without ROWS: the widest kernel
        assertEquals(Gemm.MR, GemmBlocking.fromSetting("256,48," + Gemm.NR + "," + Gemm.MR).rows());
        assertEquals("256,48," + Gemm.NR + "," + Gemm.MR + ",256", GemmBlocking.fromSetting("256,48," + Gemm.NR + "," + Gemm.MR).setting());   // KCI: KC, as before it existed
        GemmBlocking five = GemmBlocking.fromSetting("256,48," + Gemm.NR + "," + Gemm.MR + ", 512");
        assertEquals(256, five.kc());
        assertEquals(512, five.kcInPlace());
        assertEquals("256,48," + Gemm.NR + "," + Gemm.MR + ",512", five.setting());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("256,48," + Gemm.NR + "," + Gemm.MR + ",8")).getMessage().contains("read in place 8"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("256,48," + Gemm.NR + ",8")).getMessage().contains("rows 8"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("256,48,64,6,256,1")).getMessage().contains("KC,MC,NC,ROWS,KCI"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("256,50," + Gemm.NR)).getMessage().contains("multiple of the packed sliver height"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("8,48," + Gemm.NR)).getMessage().contains("KC 8"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("256,48," + (Gemm.NR + 1))).getMessage().contains("multiple of NR"));
        GemmBlocking max = new GemmBlocking(4096, 4096 / Gemm.PR * Gemm.PR, 16384, "the largest");      // the limits are inclusive
        assertEquals(List.of(4096, 16384), List.of(max.kc(), max.nc()));
        for (int[] bad : new int[][]{{4097, Gemm.PR, Gemm.NR}, {16, 0, Gemm.NR}, {16, 4098, Gemm.NR}, {16, Gemm.PR, 0}, {16, Gemm.PR, 16384 + Gemm.NR}})
            assertThrows(IllegalArgumentException.class, () -> new GemmBlocking(bad[0], bad[1], bad[2], "x"), java.util.Arrays.toString(bad));
    }

    @Test void the_autotune_runs_once_per_machine_key_and_is_read_back(@TempDir Path dir) throws Exception {
        CacheSizes c = new CacheSizes(48 << 10, 1 << 20, 16 << 20, true);
        Path file = dir.resolve("sub/gemm-blocking.properties");
        AtomicInteger tunes = new AtomicInteger();
        GemmBlocking first = GemmBlocking.cachedOrTuned(c, file, "machine-a", cands -> { tunes.incrementAndGet(); return cands.get(cands.size() - 1); });
        List<GemmBlocking> cands = GemmBlocking.candidates(c);
        assertEquals(cands.get(cands.size() - 1).kc(), first.kc());
        assertTrue(first.source().contains("cached in"), first.source());
        GemmBlocking again = GemmBlocking.cachedOrTuned(c, file, "machine-a", x -> fail("tuned twice"));
        assertEquals(List.of(first.kc(), first.mc(), first.nc(), first.rows()), List.of(again.kc(), again.mc(), again.nc(), again.rows()));   // rows too (6 with AVX-512: the last candidate)
        assertTrue(again.source().startsWith("autotuned earlier"), again.source());
        GemmBlocking other = GemmBlocking.cachedOrTuned(c, file, "machine-b", x -> { tunes.incrementAndGet(); return x.get(0); });
        assertEquals(cands.get(0).kc(), other.kc());
        assertEquals(2, tunes.get());
        assertFalse(Files.list(file.getParent()).anyMatch(p -> p.toString().endsWith(".tmp")), "a temporary file left behind");

        try (Log log = new Log()) {
            Files.writeString(file, "machine-a=1,2\n");                           // a broken entry is tuned again, with a warning
            assertEquals(cands.get(1).kc(), GemmBlocking.cachedOrTuned(c, file, "machine-a", x -> x.get(1)).kc());
            assertEquals(1, log.records.size());
            assertEquals(Level.WARNING, log.records.get(0).getLevel());
            assertTrue(log.text(0).contains("machine-a = 1,2") && log.text(0).contains(file.toString()), log.text(0));

            // A file Properties cannot parse (a broken \\u escape) is ignored whole, even the entries read before the
            // fault, with a warning naming it; the new tune then replaces it.
            Files.writeString(file, "machine-a=" + cands.get(1).kc() + "," + cands.get(1).mc() + "," + cands.get(1).nc() + "\nother=\\u12zz\n");
            assertEquals(cands.get(2).kc(), GemmBlocking.cachedOrTuned(c, file, "machine-a", x -> x.get(2)).kc());
            assertEquals(Level.WARNING, log.records.get(1).getLevel());
            assertTrue(log.text(1).contains("unreadable") && log.text(1).contains(file.toString()), log.text(1));
            java.util.Properties p = new java.util.Properties();
            try (var in = Files.newBufferedReader(file)) { p.load(in); }
            assertEquals(java.util.Set.of("machine-a"), p.stringPropertyNames());
        }
        Path blocked = dir.resolve("file-not-dir");
        Files.writeString(blocked, "");
        assertTrue(GemmBlocking.cachedOrTuned(c, blocked.resolve("x.properties"), "k", x -> x.get(0)).source().contains("not cached"));
    }

    /** A tune that declines (other processes busy) leaves the model's blocking in use and nothing in the cache; a later tune caches. */
    @Test void a_declined_autotune_uses_the_model_and_caches_nothing(@TempDir Path dir) throws Exception {
        CacheSizes c = new CacheSizes(48 << 10, 1 << 20, 16 << 20, true);
        Path file = dir.resolve("gemm-blocking.properties");
        GemmBlocking busy = GemmBlocking.cachedOrTuned(c, file, "machine-a", x -> null);
        GemmBlocking model = GemmBlocking.analytic(c);
        assertEquals(List.of(model.kc(), model.mc(), model.nc()), List.of(busy.kc(), busy.mc(), busy.nc()));
        assertTrue(busy.source().contains("skipped") && busy.source().contains("not cached"), busy.source());
        assertFalse(Files.exists(file), "a declined tune wrote the cache");
        AtomicInteger tunes = new AtomicInteger();
        GemmBlocking quiet = GemmBlocking.cachedOrTuned(c, file, "machine-a", x -> { tunes.incrementAndGet(); return x.get(0); });
        assertEquals(1, tunes.get());
        assertTrue(quiet.source().contains("cached in"), quiet.source());
    }

    /** /proc/stat and /proc/self/stat as Linux writes them: others' share is the busy ticks not this process's, over all ticks. */
    @Test void others_cpu_share_comes_from_proc_stat_minus_this_process() {
        String self0 = "4242 (java (mae)) S 1 4242 4242 0 -1 4194560 100 0 0 0 50 30 0 0 20 0 30 0 123 456 789";
        String self1 = "4242 (java (mae)) S 1 4242 4242 0 -1 4194560 100 0 0 0 60 30 0 0 20 0 30 0 123 456 789";
        long[] a = GemmBlocking.cpuTicks("cpu  1000 0 200 5000 100 0 0 0 0 0", self0);
        assertArrayEquals(new long[]{6300, 1200, 80}, a);                                     // all, busy (not idle or iowait), utime + stime
        long[] b = GemmBlocking.cpuTicks("cpu  1018 0 202 5018 102 0 0 0 0 0", self1);      // 40 ticks: 20 busy, 10 of them ours
        assertEquals(10.0 / 40, GemmBlocking.othersShare(a, b), 1e-12);
        assertEquals(0, GemmBlocking.othersShare(a, a), 0);
        assertEquals(0, GemmBlocking.othersShare(b, GemmBlocking.cpuTicks("cpu  1038 0 202 5038 102 0 0 0 0 0",
                self1.replace(" 60 30 ", " 80 30 "))), 1e-12, "all busy ticks ours");
    }

    /**
     * The real autotune (SHAPES, its final, then IN_PLACE) returns one of its candidates with one of the KCs tried for a
     * transposed A read in place (its own KC, or one of KCS).
     */
    @Test void the_tuner_returns_a_candidate_with_a_k_block_it_tried() {
        List<GemmBlocking> cands = List.of(new GemmBlocking(256, 48, 512, "a"), new GemmBlocking(128, 24, 256, "b"));
        GemmBlocking best = GemmTune.best(cands);
        assertTrue(cands.contains(best.withKcInPlace(best.kc())), String.valueOf(best));
        assertTrue(best.kcInPlace() == best.kc() || java.util.stream.IntStream.of(GemmBlocking.KCS).anyMatch(k -> k == best.kcInPlace()), String.valueOf(best));
    }

    /**
     * The final judges each finalist against the others in the same moments: here candidate 0 has the fastest single
     * round (1.05 s, in a quiet moment that candidate 1's call of that round missed), but in 3 of 5 rounds, the calls
     * back to back, candidate 1 takes 2 s where 0 takes 2.1. The fastest round picks 0; the final picks 1, whose median
     * ratio to the round's geometric mean is sqrt(2.1 x 2) / 2 = sqrt(1.05).
     */
    @Test void the_final_picks_the_finalist_faster_in_most_rounds_not_the_one_with_a_lucky_round() {
        double[][] t0 = {{1.05, 2.1, 2.1, 2.1, 2.1}}, t1 = {{2.0, 2.0, 2.0, 2.0, 1.1}};
        int[] shape = {0, 0, 10, 10, 10};
        assertTrue(GemmTune.rate(shape, t0[0]) > GemmTune.rate(shape, t1[0]));      // by the fastest round, 0
        double[] rel = GemmTune.relative(new double[][][]{t0, t1});
        assertEquals(1, GemmTune.best(rel));
        assertEquals(Math.sqrt(1.05), rel[1], 1e-12);           // the middle round's mean of 2.1 and 2.0, over 2.0
        assertEquals(1 / Math.sqrt(1.05), rel[0], 1e-12);
        // Two products: the geometric mean over them; three finalists, the same speed: 1 each, and the first wins the tie.
        double[] even = GemmTune.relative(new double[][][]{{{1, 2}, {3, 3}}, {{1, 2}, {3, 3}}, {{1, 2}, {3, 3}}});
        for (double e : even) assertEquals(1, e, 1e-12);
        assertEquals(0, GemmTune.best(even));
        double[] two = GemmTune.relative(new double[][][]{{{1}, {4}}, {{4}, {1}}, {{2}, {2}}});
        assertEquals(1, two[0], 1e-12);
        assertEquals(1, two[1], 1e-12);
        assertEquals(1, two[2], 1e-12);
    }

    /**
     * The finalists: the best scores (geometric means of the rates) first, the earlier candidate first among equal ones
     * (the model's blocking is candidate 0), at most n.
     */
    @Test void the_finalists_are_the_best_scores_in_order() {
        List<GemmBlocking> c = List.of(new GemmBlocking(128, 24, 256, "a"), new GemmBlocking(256, 24, 256, "b"),
                new GemmBlocking(384, 24, 256, "c"), new GemmBlocking(512, 24, 256, "d"));
        double[][] rates = {{2, 2}, {1, 9}, {4, 4}, {2, 2}};             // scores 2, 3, 4, 2: {1, 9} has the largest rate and mean, not geometric mean
        assertEquals(List.of(c.get(2), c.get(1), c.get(0)), GemmTune.finalists(c, rates, 3));
        assertEquals(c.size(), GemmTune.finalists(c, rates, 9).size());
        assertEquals(List.of(c.get(2), c.get(1), c.get(0), c.get(3)), GemmTune.finalists(c, rates, 9));
    }

    /** The second stage's candidates: the winner with its own KC first (kept on a tie), then every other KC tried, nothing else changed. */
    @Test void the_in_place_candidates_keep_the_winner_and_vary_only_its_in_place_k_block() {
        GemmBlocking w = new GemmBlocking(768, 48, 2 * Gemm.NR, "w");
        List<GemmBlocking> c = GemmBlocking.inPlaceCandidates(w);
        assertEquals(w, c.get(0));
        assertEquals(List.of(768, 256, 384, 512, 1024), c.stream().map(GemmBlocking::kcInPlace).toList());
        for (GemmBlocking b : c) assertEquals(w, b.withKcInPlace(w.kc()));
    }

    /** A rate is the shape's 2 M N K flops over its fastest round's seconds, in GFLOP/s. */
    @Test void a_rate_is_the_flops_over_the_fastest_round() {
        assertEquals(2.0 * 10 * 20 * 30 / 1 / 1e9, GemmTune.rate(new int[]{0, 0, 10, 20, 30}, new double[]{3, 1, 2}), 1e-18);
        assertEquals(2.0 * 4 * 5 * 6 / 0.5 / 1e9, GemmTune.rate(new int[]{1, 1, 4, 5, 6}, new double[]{9, 1.5, 0.5, 7, 1}), 1e-18);
    }

    /** What the autotune times is the product its shape names: op(A) op(B) with the shape's transposes and leading dimensions. */
    @Test void the_timed_product_is_the_one_the_shape_names() {
        Random r = new Random(3);
        GemmBlocking g = new GemmBlocking(64, 12, 2 * Gemm.NR, "t");
        for (int[] sh : new int[][]{{0, 0, 7, 9, 11}, {0, 1, 7, 9, 11}, {1, 0, 7, 9, 11}, {1, 1, 7, 9, 11}, {1, 1, 12, 5, 3}}) {
            int M = sh[2], N = sh[3], K = sh[4];
            boolean ta = sh[0] == 1, tb = sh[1] == 1;
            float[] a = GemmTest.rand(r, M * K), b = GemmTest.rand(r, K * N), want = new float[M * N], c = new float[M * N];
            java.util.Arrays.fill(c, Float.NaN);
            Gemm.ref(ta, tb, M, N, K, 1f, a, 0, ta ? M : K, b, 0, tb ? K : N, 0f, want, 0, N);
            GemmTune.run(g, sh, a, b, c);
            for (int i = 0; i < want.length; i++) assertEquals(want[i], c[i], 1e-4f, java.util.Arrays.toString(sh) + " at " + i);
        }
    }

    /**
     * Measured rates are physical: each at least the product's flops over the whole call's wall time (every timed
     * round lies inside it), finite, and far below any CPU's peak (100 TFLOP/s), with a single counted round too.
     */
    @Test void measured_rates_lie_within_the_wall_clock_and_physics() {
        int[][] shapes = {{0, 0, 480, 480, 480}, {1, 1, 96, 64, 80}};
        long t0 = System.nanoTime();
        double[][] r = GemmTune.rates(List.of(new GemmBlocking(128, 24, 4 * Gemm.NR, "a")), 1, shapes);
        double wall = (System.nanoTime() - t0) / 1e9;
        for (int s = 0; s < shapes.length; s++) {
            double flops = 2.0 * shapes[s][2] * shapes[s][3] * shapes[s][4];
            assertTrue(Double.isFinite(r[0][s]) && r[0][s] >= flops / wall / 1e9 && r[0][s] < 1e5, r[0][s] + " GFLOP/s, wall " + wall + " s");
        }
    }

    /**
     * Small and odd blockings put many block edges (KC, MC, NC) inside awkward sizes, with either micro-kernel: every
     * product still matches the reference.
     */
    @Test void every_blocking_gives_the_reference_product() { GemmTest.inBothOrders(this::everyBlocking); }

    private void everyBlocking(String order) {
        Random r = new Random(5);
        GemmBlocking[] blockings = {new GemmBlocking(16, Gemm.PR, Gemm.NR, "tiny"), new GemmBlocking(40, 2 * Gemm.PR, 3 * Gemm.NR, "odd"),
                GemmBlocking.analytic(CacheSizes.machine()), new GemmBlocking(512, 96, 1024 / Gemm.NR * Gemm.NR, "before"),
                new GemmBlocking(40, 2 * Gemm.PR, 3 * Gemm.NR, Gemm.MR, "odd, 6-row kernel"),         // with AVX-512: 6 rows on 12-row slivers
                new GemmBlocking(512, 96, 1024 / Gemm.NR * Gemm.NR, Gemm.MR, "before, 6-row kernel"),
                new GemmBlocking(40, 2 * Gemm.PR, 3 * Gemm.NR, Gemm.PR, 24, "odd, in-place KC 24"),         // its own k block, shorter or longer
                new GemmBlocking(64, 2 * Gemm.PR, 3 * Gemm.NR, Gemm.PR, 512, "in-place KC 512")};
        int[][] sizes = {{13, 17, 19}, {97, 257, 33}, {200, 1030, 41}, {45, 517, 300}, {300, 70, 1100}};
        for (GemmBlocking g : blockings)
            for (int[] s : sizes)
                for (int t = 0; t < 4; t++) {
                    boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                    int M = s[0], N = s[1], K = s[2];
                    int lda = ta ? M : K, ldb = tb ? K : N;
                    float[] A = GemmTest.rand(r, M * K), B = GemmTest.rand(r, K * N), C1 = GemmTest.rand(r, M * N), C2 = C1.clone();
                    float alpha = t == 2 ? 0.5f : 1f;
                    Gemm.ref(ta, tb, M, N, K, alpha, A, 0, lda, B, 0, ldb, 0.25f, C1, 0, N);
                    Gemm.gemm(g, ta, tb, M, N, K, alpha, A, 0, lda, B, 0, ldb, 0.25f, C2, 0, N);
                    for (int i = 0; i < C1.length; i++)
                        assertEquals(C1[i], C2[i], 1e-5f * (1 + Math.abs(C1[i])) * Math.sqrt(K), order + ", " + g + " M=" + M + " N=" + N + " K=" + K + " t=" + t + " at " + i);
                }
    }

    /** Each thread grows its own packing buffers: a new thread's first product, then one under a larger blocking, match the reference. */
    @Test void a_new_thread_grows_its_packing_buffers_for_each_blocking() throws Exception {
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                Random r = new Random(4);
                int M = 30, N = 3 * Gemm.NR, K = 70;                                 // under 2^18 multiply-adds: on this thread
                for (GemmBlocking g : new GemmBlocking[]{new GemmBlocking(16, Gemm.PR, Gemm.NR, "small"), new GemmBlocking(64, 4 * Gemm.PR, 2 * Gemm.NR, "larger")}) {
                    float[] A = GemmTest.rand(r, M * K), B = GemmTest.rand(r, K * N), want = new float[M * N], got = new float[M * N];
                    Gemm.ref(true, false, M, N, K, 1f, A, 0, M, B, 0, N, 0f, want, 0, N);
                    Gemm.gemm(g, true, false, M, N, K, 1f, A, 0, M, B, 0, N, 0f, got, 0, N);
                    for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4f, g + " at " + i);
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        if (failure.get() != null) throw new AssertionError(failure.get());
    }

    @Test void sizes_and_cpu_lists_in_every_form_the_os_writes() throws Exception {
        assertEquals(512, CacheSizes.parseSize("512"));
        assertEquals(1L << 30, CacheSizes.parseSize("1G"));
        assertEquals(48L << 10, CacheSizes.parseSize("48k"));
        assertEquals(4, CacheSizes.cpuCount("0-1, 4 ,6"));
        assertEquals(1, CacheSizes.cpuCount("0,"));
        assertEquals(0, CacheSizes.cpuCount(""));                                // an empty list names no CPU
        assertEquals(2, CacheSizes.cpuCount(",3,,5"));
        assertThrows(IllegalArgumentException.class, () -> new CacheSizes(0, 1, 1, true));
        assertThrows(IllegalArgumentException.class, () -> new CacheSizes(1, 0, 1, true));
        assertThrows(IllegalArgumentException.class, () -> new CacheSizes(1, 1, 0, true));
        assertTrue(CacheSizes.FALLBACK.toString().contains("assumed"), CacheSizes.FALLBACK.toString());
        assertEquals("L1d 48 KiB, L2 1024 KiB, L3 16384 KiB per core", new CacheSizes(48 << 10, 1 << 20, 16 << 20, true).toString());
    }

    @Test void a_machine_without_an_l3_uses_its_l2_and_an_l2_shared_by_two_cores_is_halved(@TempDir Path dir) throws Exception {
        cacheIndex(dir, 0, 1, "Data", "32K", "0");
        cacheIndex(dir, 1, 2, "Unified", "4096K", "0-1");
        assertEquals(new CacheSizes(32 << 10, 2 << 20, 2 << 20, true), CacheSizes.read(dir));
        Path noL2 = dir.resolve("x");
        cacheIndex(noL2, 0, 1, "Data", "32K", "0");
        assertEquals(CacheSizes.FALLBACK, CacheSizes.read(noL2));
        Path noL1 = dir.resolve("y");
        cacheIndex(noL1, 0, 2, "Unified", "1024K", "0");
        assertEquals(CacheSizes.FALLBACK, CacheSizes.read(noL1));
        Path badList = dir.resolve("z");                                         // a garbled CPU list: not trusted either
        cacheIndex(badList, 0, 1, "Data", "32K", "0");
        cacheIndex(badList, 1, 2, "Unified", "1024K", "-1");
        assertEquals(CacheSizes.FALLBACK, CacheSizes.read(badList));
    }

    @Test void the_score_is_the_geometric_mean_of_the_rates() {
        assertEquals(4.0, GemmTune.score(new double[]{2, 8}), 1e-12);
        assertEquals(3.0, GemmTune.score(new double[]{3}), 1e-12);
        double[][] r = GemmTune.rates(List.of(new GemmBlocking(64, 12, 2 * Gemm.NR, "a"), new GemmBlocking(128, 24, 4 * Gemm.NR, "b")), 2, new int[][]{{0, 0, 30, 40, 50}, {1, 0, 20, 33, 70}, {0, 1, 9, 9, 9}});
        assertEquals(2, r.length);
        for (double[] x : r) assertEquals(3, x.length);
        assertThrows(IllegalArgumentException.class, () -> GemmTune.rates(List.of(), 1, GemmTune.SHAPES));
    }

    /** The machine key names the CPU, caches, vector width, micro-kernel tile, threads, the GEMM code and JVM. */
    @Test void the_machine_key() {
        String key = GemmBlocking.machineKey(new CacheSizes(48 << 10, 1 << 20, 16 << 20, true));
        assertTrue(key.contains("vector_" + Gemm.L + "_floats") && key.contains(Parallel.threads() + "_threads") && key.contains("L1d_48_KiB")
                && key.contains("tile_" + Gemm.PR + "x" + Gemm.NR) && key.contains("shapes_" + GemmTune.shapesKey())
                && key.matches(".*_code_[0-9a-f]+_.*"), key);
        assertFalse(key.contains(" ") || key.contains("="), key);
        assertNotEquals(key, GemmBlocking.machineKey(new CacheSizes(32 << 10, 1 << 20, 16 << 20, true)));
    }

    /** $MAE_CACHE_DIR first, then $XDG_CACHE_HOME/mae, then ~/.cache/mae; a blank variable counts as unset. */
    @Test void the_cache_file_follows_the_environment() {
        Path home = Path.of(System.getProperty("user.home"), ".cache", "mae", "gemm-blocking.properties");
        assertEquals(Path.of("/c", "gemm-blocking.properties"), GemmBlocking.cacheFile(Map.of("MAE_CACHE_DIR", "/c", "XDG_CACHE_HOME", "/x")));
        assertEquals(Path.of("/x", "mae", "gemm-blocking.properties"), GemmBlocking.cacheFile(Map.of("MAE_CACHE_DIR", " ", "XDG_CACHE_HOME", "/x")));
        assertEquals(home, GemmBlocking.cacheFile(Map.of("XDG_CACHE_HOME", " ")));
        assertEquals(home, GemmBlocking.cacheFile(Map.of()));
    }

    @Test void the_cpu_model_comes_from_cpuinfo_else_from_the_os(@TempDir Path dir) throws Exception {
        Path info = dir.resolve("cpuinfo");
        Files.writeString(info, "processor\t: 0\nvendor_id\t: X\nmodel name\t: Some CPU 9000 @ 3.0GHz\nflags\t\t: fma\n");
        assertEquals("Some CPU 9000 @ 3.0GHz", GemmBlocking.cpuModel(info));
        Files.writeString(info, "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n"
                + "processor\t: 1\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n");
        assertEquals("AMD EPYC family 25 model 17", GemmBlocking.cpuModel(info));          // generations a hypervisor names alike
        String os = System.getProperty("os.name") + " " + System.getProperty("os.arch");
        Files.writeString(info, "processor\t: 0\nCPU part\t: 0xd0c\n");                  // an ARM cpuinfo: no model name
        assertEquals(os, GemmBlocking.cpuModel(info));
        assertEquals(os, GemmBlocking.cpuModel(dir.resolve("absent")));
    }

    /**
     * The first-use decision end to end, in a temporary folder with a stand-in tune: the autotune runs once, reports
     * its own time and is logged at INFO; the next decision reads the cache and is a DEBUG line; a setting, or the
     * model with the autotune off, are DEBUG lines and touch no cache file.
     */
    @Test void the_autotune_runs_once_is_logged_once_and_is_read_back(@TempDir Path dir) throws Exception {
        CacheSizes c = new CacheSizes(48 << 10, 1 << 20, 16 << 20, true);
        Path file = dir.resolve("mae/gemm-blocking.properties"), unused = dir.resolve("unused/gemm-blocking.properties");
        try (Log log = new Log()) {
            long t0 = System.nanoTime();
            GemmBlocking first = GemmBlocking.decide(null, true, c, file, x -> {
                try { Thread.sleep(150); } catch (InterruptedException e) { throw new AssertionError(e); }
                return x.get(2);
            });
            double wall = (System.nanoTime() - t0) / 1e9;
            GemmBlocking cand = GemmBlocking.candidates(c).get(2);
            assertEquals(List.of(cand.kc(), cand.mc(), cand.nc()), List.of(first.kc(), first.mc(), first.nc()));
            Matcher m = Pattern.compile("^autotuned in (\\d+\\.\\d) s, cached in " + Pattern.quote(file.toString())).matcher(first.source());
            assertTrue(m.find(), first.source());
            double seconds = Double.parseDouble(m.group(1));
            assertTrue(seconds >= 0.1 && seconds <= wall + 0.05, seconds + " s reported, " + wall + " s wall");
            assertEquals(Level.INFO, log.records.get(0).getLevel());
            assertEquals("GEMM blocking KC " + cand.kc() + " MC " + cand.mc() + " NC " + cand.nc() + " rows " + cand.rows() + " (" + first.source() + ")", log.text(0));

            GemmBlocking again = GemmBlocking.decide(null, true, c, file, x -> fail("tuned twice"));
            assertEquals(List.of(first.kc(), first.mc(), first.nc()), List.of(again.kc(), again.mc(), again.nc()));
            assertEquals(Level.FINE, log.records.get(1).getLevel());                     // System.Logger's DEBUG
            assertTrue(log.text(1).contains("autotuned earlier, cached in"), log.text(1));

            GemmBlocking set = GemmBlocking.decide("128,24," + 4 * Gemm.NR, true, c, unused, x -> fail("tuned although set"));
            assertEquals(List.of(128, 24, 4 * Gemm.NR), List.of(set.kc(), set.mc(), set.nc()));
            GemmBlocking model = GemmBlocking.decide(null, false, c, unused, x -> fail("tuned although off"));
            assertEquals(GemmBlocking.analytic(c), model);
            assertEquals(List.of(Level.INFO, Level.FINE, Level.FINE, Level.FINE), log.records.stream().map(LogRecord::getLevel).toList());
            assertFalse(Files.exists(unused.getParent()), "no cache written without the autotune");
        }
    }

    /** The records of the "mae.gemm" logger (System.Logger goes to java.util.logging here), every level, kept off the console. */
    static final class Log implements AutoCloseable {
        final List<LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final Logger jul = Logger.getLogger("mae.gemm");
        private final Level level = jul.getLevel();
        private final boolean parents = jul.getUseParentHandlers();
        private final Handler handler = new Handler() {
            @Override public void publish(LogRecord r) { records.add(r); }
            @Override public void flush() {}
            @Override public void close() {}
        };

        Log() {
            jul.setLevel(Level.ALL);
            jul.setUseParentHandlers(false);
            jul.addHandler(handler);
        }

        String text(int i) { return new SimpleFormatter().formatMessage(records.get(i)); }

        @Override public void close() {
            jul.removeHandler(handler);
            jul.setUseParentHandlers(parents);
            jul.setLevel(level);
        }
    }

    /** -Dmae.gemm.blocking decides the blocking; without it and without the autotune, the cache-size model does. */
    @Test void the_blocking_in_use_follows_the_setting_then_the_model() {
        GemmBlocking before = GemmBlocking.current();
        String prop = System.getProperty("mae.gemm.blocking");
        try {
            System.setProperty("mae.gemm.blocking", "128,24," + 4 * Gemm.NR);
            GemmBlocking.set(null);
            GemmBlocking g = GemmBlocking.current();
            assertEquals(List.of(128, 24, 4 * Gemm.NR), List.of(g.kc(), g.mc(), g.nc()));
            assertTrue(g.source().contains("mae.gemm.blocking"), g.source());
            assertSame(g, GemmBlocking.current());
            System.clearProperty("mae.gemm.blocking");
            GemmBlocking.set(null);
            if (System.getenv("MAE_GEMM_BLOCKING") == null && "false".equals(System.getProperty("mae.gemm.autotune"))) {
                GemmBlocking a = GemmBlocking.current(), m = GemmBlocking.analytic(CacheSizes.machine());
                assertEquals(List.of(m.kc(), m.mc(), m.nc()), List.of(a.kc(), a.mc(), a.nc()));
            }
        } finally {
            if (prop == null) System.clearProperty("mae.gemm.blocking"); else System.setProperty("mae.gemm.blocking", prop);
            GemmBlocking.set(before);
        }
    }

    /** Contiguous unary ops long enough to be split over the threads give each element exactly op(x). */
    @Test void a_long_unary_op_split_over_the_threads_is_exact() {
        int n = 5 * Elementwise.PARALLEL_MIN + 3;
        Random r = new Random(9);
        float[] x = new float[n + 7], out = new float[n + 2];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        int threads = Parallel.threads();
        try {
            Parallel.setThreads(3);
            for (Elementwise.Unary op : new Elementwise.Unary[]{Elementwise.Unary.NEG, Elementwise.Unary.TANH, Elementwise.Unary.SQUARE}) {
                java.util.Arrays.fill(out, Float.NaN);
                Elementwise.unary(op, out, 2, new int[]{n}, x, 7, new int[]{1});
                for (int i = 0; i < n; i++) assertEquals(op.apply(x[7 + i]), out[2 + i], op + " at " + i);
                assertTrue(Float.isNaN(out[0]) && Float.isNaN(out[1]), "nothing written before the offset");
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }
}
