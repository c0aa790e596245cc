package mae.kernels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

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
        assertEquals(Math.min(96, (512 << 10) / (4 * kc) / Gemm.MR * Gemm.MR), g.mc());
        assertEquals(Math.min(4096, (8 << 20) / (4 * kc) / Gemm.NR * Gemm.NR), g.nc());
        GemmBlocking small = GemmBlocking.analytic(new CacheSizes(16 << 10, 256 << 10, 512 << 10, true));
        assertEquals(128, small.kc());                                            // never below 128
        assertTrue(small.mc() <= g.mc() && small.nc() <= g.nc(), small + " vs " + g);
        for (GemmBlocking c : GemmBlocking.candidates(zen5)) {
            assertEquals(0, c.mc() % Gemm.MR);
            assertEquals(0, c.nc() % Gemm.NR);
        }
        assertEquals(List.of(g.kc(), g.mc(), g.nc()), List.of(GemmBlocking.candidates(zen5).get(0).kc(), GemmBlocking.candidates(zen5).get(0).mc(), GemmBlocking.candidates(zen5).get(0).nc()));
    }

    @Test void a_user_blocking_is_parsed_or_refused_in_one_line() {
        GemmBlocking g = GemmBlocking.fromSetting(" 256, 48 ," + 4 * Gemm.NR);
        assertEquals(List.of(256, 48, 4 * Gemm.NR), List.of(g.kc(), g.mc(), g.nc()));
        assertNull(GemmBlocking.fromSetting(" "));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("256,48")).getMessage().contains("KC,MC,NC"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("256,x,64")).getMessage().contains("three integers"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("256,50," + Gemm.NR)).getMessage().contains("multiple of MR"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("8,48," + Gemm.NR)).getMessage().contains("KC 8"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GemmBlocking.fromSetting("256,48," + (Gemm.NR + 1))).getMessage().contains("multiple of NR"));
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
        assertEquals(List.of(first.kc(), first.mc(), first.nc()), List.of(again.kc(), again.mc(), again.nc()));
        assertTrue(again.source().startsWith("autotuned earlier"), again.source());
        GemmBlocking other = GemmBlocking.cachedOrTuned(c, file, "machine-b", x -> { tunes.incrementAndGet(); return x.get(0); });
        assertEquals(cands.get(0).kc(), other.kc());
        assertEquals(2, tunes.get());
        assertFalse(Files.list(file.getParent()).anyMatch(p -> p.toString().endsWith(".tmp")), "a temporary file left behind");

        Files.writeString(file, "machine-a=1,2\n");                               // a broken entry is tuned again
        assertEquals(cands.get(1).kc(), GemmBlocking.cachedOrTuned(c, file, "machine-a", x -> x.get(1)).kc());
        Path blocked = dir.resolve("file-not-dir");
        Files.writeString(blocked, "");
        assertTrue(GemmBlocking.cachedOrTuned(c, blocked.resolve("x.properties"), "k", x -> x.get(0)).source().contains("not cached"));
    }

    @Test void the_tuner_picks_one_of_its_candidates() {
        List<GemmBlocking> cands = List.of(new GemmBlocking(64, 12, 2 * Gemm.NR, "a"), new GemmBlocking(128, 24, 4 * Gemm.NR, "b"));
        GemmBlocking best = GemmTune.best(cands, 2, new int[][]{{0, 0, 40, 70, 90}, {1, 1, 33, 65, 140}});
        assertTrue(cands.contains(best), String.valueOf(best));
    }

    /** Small and odd blockings put many block edges (KC, MC, NC) inside awkward sizes: every product still matches the reference. */
    @Test void every_blocking_gives_the_reference_product() {
        Random r = new Random(5);
        GemmBlocking[] blockings = {new GemmBlocking(16, Gemm.MR, Gemm.NR, "tiny"), new GemmBlocking(40, 2 * Gemm.MR, 3 * Gemm.NR, "odd"),
                GemmBlocking.analytic(CacheSizes.machine()), new GemmBlocking(512, 96, 1024 / Gemm.NR * Gemm.NR, "before")};
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
                        assertEquals(C1[i], C2[i], 1e-5f * (1 + Math.abs(C1[i])) * Math.sqrt(K), g + " M=" + M + " N=" + N + " K=" + K + " t=" + t + " at " + i);
                }
    }

    @Test void sizes_and_cpu_lists_in_every_form_the_os_writes() throws Exception {
        assertEquals(512, CacheSizes.parseSize("512"));
        assertEquals(1L << 30, CacheSizes.parseSize("1G"));
        assertEquals(48L << 10, CacheSizes.parseSize("48k"));
        assertEquals(4, CacheSizes.cpuCount("0-1, 4 ,6"));
        assertEquals(1, CacheSizes.cpuCount("0,"));
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
    }

    @Test void the_score_is_the_geometric_mean_of_the_rates() {
        assertEquals(4.0, GemmTune.score(new double[]{2, 8}), 1e-12);
        assertEquals(3.0, GemmTune.score(new double[]{3}), 1e-12);
        double[][] r = GemmTune.rates(List.of(new GemmBlocking(64, 12, 2 * Gemm.NR, "a")), 2, new int[][]{{0, 0, 30, 40, 50}, {1, 0, 20, 33, 70}});
        assertEquals(1, r.length);
        assertEquals(2, r[0].length);
        for (double x : r[0]) assertTrue(x > 0 && Double.isFinite(x), String.valueOf(x));
        assertThrows(IllegalArgumentException.class, () -> GemmTune.rates(List.of(), 1, GemmTune.SHAPES));
    }

    /** The machine key names the CPU, caches, vector width, threads and JVM; the cache file lives under a "mae" folder. */
    @Test void the_cache_file_and_the_machine_key() {
        String key = GemmBlocking.machineKey(new CacheSizes(48 << 10, 1 << 20, 16 << 20, true));
        assertTrue(key.contains("vector_" + Gemm.L + "_floats") && key.contains(Parallel.threads() + "_threads") && key.contains("L1d_48_KiB"), key);
        assertFalse(key.contains(" ") || key.contains("="), key);
        assertNotEquals(key, GemmBlocking.machineKey(new CacheSizes(32 << 10, 1 << 20, 16 << 20, true)));
        Path f = GemmBlocking.cacheFile();
        assertEquals("gemm-blocking.properties", f.getFileName().toString());
        assertEquals("mae", f.getParent().getFileName().toString());
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
