package mae.kernels;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

/**
 * The block sizes of {@link Gemm}'s loop nest, for the machine it runs on: KC (the depth of one packed panel), MC
 * (rows of op(A) packed together) and NC (columns of op(B) packed together), and the micro-kernel's rows (12 or 6
 * with AVX-512's 32 registers, 6 with AVX2's 16).
 *
 * <p>Where they come from, in this order: {@code -Dmae.gemm.blocking=KC,MC,NC[,ROWS[,KCI]]} (or {@code MAE_GEMM_BLOCKING}), else
 * the cache file of an earlier autotune on this machine and JVM, else a short autotune (a few seconds: 16 candidates on
 * three products, a final of the best 4 on them, then 5 k blocks on a fourth ({@link GemmTune}), 5.8-7.9 s on JDK 17 and
 * 6.3-7.7 s on JDK 25 on the 2-core Zen 4 VM; before the final, 10 candidates and 5 k blocks took 5.1 and 5.3 s on JDK
 * 17 on the 2-core Zen 3 VM; off with
 * {@code -Dmae.gemm.autotune=false}, which {@code bin/mae --no-autotune} sets, and in the unit tests, which want one
 * blocking on every machine), else the analytic blocking from the cache sizes the OS reports. The choice goes to the
 * System.Logger "mae.gemm": at INFO when an autotune just ran (once per machine), else at DEBUG.
 *
 * <p>Why a model and a measurement: the textbook model (keep op(B)'s KC x NR sliver in L1, op(A)'s MC x KC block in
 * L2, the KC x NC panel in L3) gives KC 192 on a 48 KiB L1d with 16-float vectors, but on the 2-core AMD EPYC (Zen 5)
 * VM this project grew on, KC 512 was measured 5-8% faster at 1024^3 than KC 256 (paired in one JVM): that core
 * streams the B sliver from its L2 fast enough that a longer panel (fewer loads and stores of each C tile) wins. On a
 * 2-core Xeon with the same L1d the same code reached 0.62x of OpenBLAS. No one constant is right for both, so the
 * model gives the candidates' range and a measurement on the machine at hand picks among them.
 *
 * <p>A transposed A read in place (a weight gradient dY^T X with N <= Gemm.IN_PLACE_COLUMNS, {@link Gemm}'s direct path) has a KC of its
 * own, {@link #kcInPlace}, tuned apart: there every k of a 6-row sliver reads another cache line of A, lda floats on,
 * and the two paths want opposite k blocks. On the 2-core Zen 3 VM (AVX2; a scratch harness timing blockings call by
 * call in one JVM, 2 threads, per-call ratio medians of 21-41 against KC 512, MC 48): packed, a longer k block won,
 * NN 1664 x 192 x 768 at KC 768 1.106, 1024^3 at 1024 1.056, TN 192 x 768 x 1664 1.138, NN 1576 x 768 x 3072 1.046, NT
 * 400 x 2304 x 768 1.022 (the same work at K 192, NT 1664 x 576 x 192, read 0.965: the harness's spread); read in
 * place it lost, TN 384 x 128 x 6400 at 768 0.933, 1024 0.944, 2048 0.811; 768 x 192 x 1664 at 768 0.939, 1024 0.939,
 * 1664 0.771, while 256 and 384 read 0.99-1.06. One KC for both, the autotune's geometric mean weighed one against
 * the other and moved between KC 512 and 1024 from launch to launch.
 */
public record GemmBlocking(int kc, int mc, int nc, int rows, int kcInPlace, String source) {
    private static final System.Logger LOG = System.getLogger("mae.gemm");

    public GemmBlocking {
        if (kc < 16 || kc > 4096) throw new IllegalArgumentException("GEMM blocking: KC " + kc + " outside 16..4096");
        if (kcInPlace < 16 || kcInPlace > 4096) throw new IllegalArgumentException("GEMM blocking: KC of a transposed A read in place " + kcInPlace + " outside 16..4096");
        if (rows != Gemm.MR && rows != Gemm.PR)
            throw new IllegalArgumentException("GEMM blocking: micro-kernel rows " + rows + " must be " + Gemm.MR + (Gemm.PR != Gemm.MR ? " or " + Gemm.PR : "") + " here");
        if (mc < Gemm.PR || mc % Gemm.PR != 0 || mc > 4096) throw new IllegalArgumentException("GEMM blocking: MC " + mc + " must be a multiple of the packed sliver height " + Gemm.PR + " up to 4096");
        if (nc < Gemm.NR || nc % Gemm.NR != 0 || nc > 16384) throw new IllegalArgumentException("GEMM blocking: NC " + nc + " must be a multiple of NR " + Gemm.NR + " up to 16384");
    }

    /** KC, MC, NC with the widest micro-kernel this machine has (12 rows with AVX-512, else 6), one KC for every path. */
    public GemmBlocking(int kc, int mc, int nc, String source) { this(kc, mc, nc, Gemm.PR, kc, source); }

    /** KC, MC, NC and the micro-kernel's rows, one KC for every path. */
    public GemmBlocking(int kc, int mc, int nc, int rows, String source) { this(kc, mc, nc, rows, kc, source); }

    /** The same block sizes and kernel, saying where they came from. */
    public GemmBlocking withSource(String source) { return new GemmBlocking(kc, mc, nc, rows, kcInPlace, source); }

    /** The same blocking with another k block for a transposed A read in place. */
    public GemmBlocking withKcInPlace(int k) { return new GemmBlocking(kc, mc, nc, rows, k, source); }

    /**
     * "KC,MC,NC,ROWS,KCI" (KCI: {@link #kcInPlace}): what {@link #fromSetting} reads, the cache and a run's
     * gemm-blocking.txt hold.
     */
    public String setting() { return kc + "," + mc + "," + nc + "," + rows + "," + kcInPlace; }

    /** The blocking every GEMM uses, decided on first use. */
    public static GemmBlocking current() {
        GemmBlocking b = current;
        if (b == null) synchronized (GemmBlocking.class) {
            if ((b = current) == null) current = b = decide();
        }
        return b;
    }

    private static volatile GemmBlocking current;

    /** Replaces the blocking (tests, the bench command's --blocking); null decides it again on next use. */
    public static synchronized void set(GemmBlocking b) { current = b; }

    /**
     * The analytic blocking. KC: the B sliver (KC x NR floats) in half of L1d, rounded down to a multiple of 64 and
     * at least 128 (below that the C tile's loads and stores cost more than the panel saves). MC: the packed A block
     * (MC x KC) in half of L2, whole packed slivers (Gemm.PR rows), at most 96 rows, the MC this kernel was tuned with
     * before (larger ones were not measured; the autotune tries 48 and 96, and chose 48 on the Zen 5 VM). NC:
     * the packed B panel (KC x NC) in half of the L3 share of one core, whole NR slivers, 256..4096.
     */
    public static GemmBlocking analytic(CacheSizes c) {
        int kc = (int) Math.max(128, Math.min(1024, c.l1d() / 2 / (4L * Gemm.NR) / 64 * 64));
        int mc = (int) Math.max(Gemm.PR, Math.min(96, c.l2() / 2 / (4L * kc) / Gemm.PR * Gemm.PR));
        return new GemmBlocking(kc, mc, nc(c, kc), "analytic from " + c);
    }

    /** NC for a KC: the packed B panel (KC x NC) in half of the L3 share of one core, whole NR slivers, 256..4096 (multiples of NR too). */
    private static int nc(CacheSizes c, int kc) {
        return (int) Math.max(256, Math.min(4096, c.l3PerCore() / 2 / (4L * kc) / Gemm.NR * Gemm.NR));
    }

    /**
     * What the autotune tries: the analytic blocking and KC 256, 384, 512, 768, 1024 with MC 48 and 96 (NC from the
     * model), with the widest micro-kernel; where that is the 12-row one (AVX-512), also each KC at MC 96 with the
     * 6-row one: measured faster on the Zen 4 VM (1024^3 on one thread 74-80 -> 86-87 GFLOP/s), not measured on
     * other AVX-512 cores, where an 8-row kernel on A read as 8 row streams had been 3-5% slower than 6 rows (Zen 5).
     */
    public static List<GemmBlocking> candidates(CacheSizes c) {
        GemmBlocking a = analytic(c);
        LinkedHashSet<List<Integer>> seen = new LinkedHashSet<>();
        seen.add(List.of(a.kc, a.mc, a.nc, a.rows));
        for (int kc : KCS)
            for (int mc : new int[]{48, 96}) seen.add(List.of(kc, mc, nc(c, kc), Gemm.PR));
        if (Gemm.PR != Gemm.MR)
            for (int kc : KCS) seen.add(List.of(kc, 96, nc(c, kc), Gemm.MR));
        List<GemmBlocking> out = new ArrayList<>();
        for (List<Integer> k : seen) out.add(new GemmBlocking(k.get(0), k.get(1), k.get(2), k.get(3), "candidate"));
        return out;
    }

    /** The KCs the autotune tries, for the packed paths and for a transposed A read in place alike. */
    static final int[] KCS = {256, 384, 512, 768, 1024};

    /**
     * What the autotune's second stage tries for a transposed A read in place ({@link #kcInPlace}): the winner of the
     * first stage with each of {@link #KCS}, its own KC first (so that it stays on a tie).
     */
    public static List<GemmBlocking> inPlaceCandidates(GemmBlocking b) {
        List<GemmBlocking> out = new ArrayList<>(List.of(b.withKcInPlace(b.kc)));
        for (int k : KCS) if (k != b.kc) out.add(b.withKcInPlace(k));
        return out;
    }

    private static GemmBlocking decide() {
        return decide(System.getProperty("mae.gemm.blocking", System.getenv("MAE_GEMM_BLOCKING")),
                Boolean.parseBoolean(System.getProperty("mae.gemm.autotune", "true")), CacheSizes.machine(), cacheFile(System.getenv()),
                cands -> othersBusy() ? null : GemmTune.best(cands));
    }

    /**
     * Whether other processes keep a quarter or more of the machine's CPU time busy over the next 200 ms (Linux
     * /proc; false where it cannot tell). The wait is the sampling window; it is paid only when no blocking is cached,
     * before a tune that takes a few seconds. A tune taken then would be cached for good: on the 2-core VM, one taken while a
     * study ran on both cores chose KC 384, 1-3% slower than the KC 512 of a quiet one (1024^3, alternating launches).
     */
    static boolean othersBusy() {
        try {
            long[] a = cpuTicks(Files.readAllLines(Path.of("/proc/stat")).get(0), Files.readString(Path.of("/proc/self/stat")));
            Thread.sleep(200);
            long[] b = cpuTicks(Files.readAllLines(Path.of("/proc/stat")).get(0), Files.readString(Path.of("/proc/self/stat")));
            double share = othersShare(a, b);
            if (share >= 0.25) LOG.log(Level.INFO, String.format(Locale.ROOT, "GEMM autotune skipped: other processes used %.0f%% of the CPUs", 100 * share));
            return share >= 0.25;
        } catch (IOException | RuntimeException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * {all ticks, busy ticks, this process's ticks} from /proc/stat's first line ("cpu user nice system idle iowait
     * irq softirq steal ...") and /proc/self/stat (utime and stime, fields 14 and 15, counted after the ')' that ends
     * the command name).
     */
    static long[] cpuTicks(String procStatCpu, String selfStat) {
        String[] f = procStatCpu.trim().split("\\s+");
        long all = 0;
        for (int i = 1; i < Math.min(f.length, 9); i++) all += Long.parseLong(f[i]);      // user .. steal
        long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);                             // idle, iowait
        String[] g = selfStat.substring(selfStat.lastIndexOf(')') + 2).trim().split("\\s+");   // from field 3 (state)
        long self = Long.parseLong(g[11]) + Long.parseLong(g[12]);                             // utime, stime
        return new long[]{all, all - idle, self};
    }

    /** Share of all CPU time between two {@link #cpuTicks} samples that other processes used. */
    static double othersShare(long[] before, long[] after) {
        long all = after[0] - before[0];
        return all <= 0 ? 0 : Math.max(0, (double) (after[1] - before[1] - (after[2] - before[2])) / all);
    }

    /** {@link #decide()} with its inputs given (tests: a temporary cache file, a stand-in tune): the setting, else the model or the autotune. */
    static GemmBlocking decide(String setting, boolean autotune, CacheSizes caches, Path file, Function<List<GemmBlocking>, GemmBlocking> tune) {
        GemmBlocking b = fromSetting(setting);
        if (b == null) b = autotune ? cachedOrTuned(caches, file, machineKey(caches), tune) : analytic(caches);
        // Shown once: when the autotune ran (its one-time second); read back from the cache or set, it is a DEBUG line.
        LOG.log(b.source.startsWith("autotuned in") ? Level.INFO : Level.DEBUG, "GEMM blocking {0}", b);
        return b;
    }

    /**
     * "KC,MC,NC", "KC,MC,NC,ROWS" or "KC,MC,NC,ROWS,KCI" as given by a user (ROWS: the micro-kernel's rows, without it
     * the widest; KCI: the k block of a transposed A read in place, without it KC, as every blocking had before it
     * existed, so an older run's record gives the same bits); null when not given.
     */
    public static GemmBlocking fromSetting(String s) {
        if (s == null || s.isBlank()) return null;
        String[] p = s.trim().split("\\s*,\\s*");
        if (p.length < 3 || p.length > 5)
            throw new IllegalArgumentException("mae.gemm.blocking / MAE_GEMM_BLOCKING: expected KC,MC,NC, KC,MC,NC,ROWS or KC,MC,NC,ROWS,KCI (e.g. 512,96,1024), got '" + s + "'");
        try {
            int kc = Integer.parseInt(p[0]), rows = p.length >= 4 ? Integer.parseInt(p[3]) : Gemm.PR, kci = p.length == 5 ? Integer.parseInt(p[4]) : kc;
            return new GemmBlocking(kc, Integer.parseInt(p[1]), Integer.parseInt(p[2]), rows, kci, "set by mae.gemm.blocking");
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("mae.gemm.blocking / MAE_GEMM_BLOCKING: expected three to five integers KC,MC,NC[,ROWS[,KCI]], got '" + s + "'");
        }
    }

    /**
     * The blocking cached under key in file, else an autotune's, written back to the file (atomically) when it can be;
     * a tune that returns null declines (a busy machine), and the blocking then comes from the cache sizes, uncached.
     */
    static GemmBlocking cachedOrTuned(CacheSizes caches, Path file, String key, Function<List<GemmBlocking>, GemmBlocking> tune) {
        Properties p = load(file);
        String hit = p.getProperty(key);
        if (hit != null) {
            try {
                GemmBlocking b = fromSetting(hit);
                return b.withSource("autotuned earlier, cached in " + file);
            } catch (IllegalArgumentException e) {
                LOG.log(Level.WARNING, "ignoring GEMM blocking cache entry {0} = {1} in {2}: {3}", key, hit, file, e.getMessage());
            }
        }
        long t0 = System.nanoTime();
        GemmBlocking best = tune.apply(candidates(caches));
        if (best == null) {                    // the tune declined (the machine was busy): the model's blocking, not cached
            GemmBlocking m = analytic(caches);
            return m.withSource("from the cache sizes: the autotune was skipped, other processes were busy; not cached");
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        p.setProperty(key, best.setting());
        String where = store(file, p) ? "cached in " + file : "not cached: " + file + " is not writable";
        return best.withSource(String.format(Locale.ROOT, "autotuned in %.1f s, %s; skip with --no-autotune", seconds, where));
    }

    /** $MAE_CACHE_DIR, else $XDG_CACHE_HOME/mae, else ~/.cache/mae; gemm-blocking.properties in it. */
    static Path cacheFile(Map<String, String> env) {
        String dir = env.get("MAE_CACHE_DIR");
        if (dir == null || dir.isBlank()) {
            String xdg = env.get("XDG_CACHE_HOME");
            dir = (xdg != null && !xdg.isBlank() ? xdg : System.getProperty("user.home") + "/.cache") + "/mae";
        }
        return Path.of(dir, "gemm-blocking.properties");
    }

    /**
     * One entry per CPU (model name, family and model: a hypervisor shows two EPYC generations as the same "AMD EPYC"),
     * caches, vector width, micro-kernel tile, thread count, the products the autotune times, the GEMM code and JVM: a
     * blocking tuned on one is not reused on another, nor after the kernel, the timed products or the tune change. The
     * code is named by a checksum of the GEMM's, the tune's and this class's files: a faster kernel moves the best
     * blocking (on the Zen 3 VM, with the kernel of constant row offsets, `bin/mae bench tune` scored KC 768 MC 96, the
     * slower kernel's cached choice, last of 10: geometric mean 123.2 against the best 133.8 GFLOP/s).
     */
    static String machineKey(CacheSizes c) {
        String key = String.join("|", cpuModel(Path.of("/proc/cpuinfo")), c.toString(), "vector " + Gemm.L + " floats",
                "tile " + Gemm.PR + "x" + Gemm.NR, Parallel.threads() + " threads", "shapes " + GemmTune.shapesKey(),
                "code " + codeChecksum(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        return Integer.toHexString(key.hashCode()) + "." + key.replaceAll("[^A-Za-z0-9.]+", "_");
    }

    /** CRC-32 of the class files of Gemm, GemmTune and this class as loaded, in hex ("unknown" where one cannot be read). */
    static String codeChecksum() {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        for (Class<?> c : new Class<?>[]{Gemm.class, GemmTune.class, GemmBlocking.class})
            try (var in = c.getResourceAsStream(c.getSimpleName() + ".class")) {
                if (in == null) return "unknown";
                crc.update(in.readAllBytes());
            } catch (IOException e) {
                return "unknown";
            }
        return Long.toHexString(crc.getValue());
    }

    /** The "model name" of a Linux cpuinfo file with its "cpu family" and "model", else the OS name and architecture. */
    static String cpuModel(Path cpuinfo) {
        try {
            String name = null, family = null, model = null;
            for (String line : Files.readAllLines(cpuinfo)) {
                String v = line.substring(line.indexOf(':') + 1).trim();
                if (name == null && line.startsWith("model name")) name = v;
                else if (family == null && line.startsWith("cpu family")) family = v;
                else if (model == null && line.matches("model\\s*:.*")) model = v;
            }
            if (name != null) return name + (family != null && model != null ? " family " + family + " model " + model : "");
        } catch (IOException | RuntimeException e) {
            // not Linux: the OS name and architecture below stand in
        }
        return System.getProperty("os.name") + " " + System.getProperty("os.arch");
    }

    private static Properties load(Path file) {
        Properties p = new Properties();
        if (Files.isRegularFile(file)) {
            try (var in = Files.newBufferedReader(file)) {
                p.load(in);
            } catch (IOException | IllegalArgumentException e) {
                LOG.log(Level.WARNING, "ignoring unreadable GEMM blocking cache {0}: {1}", file, e.getMessage());
                p.clear();
            }
        }
        return p;
    }

    /** Written to a temporary file in the same folder, then renamed over the old one; false if that fails. */
    private static boolean store(Path file, Properties p) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
            try (var out = Files.newBufferedWriter(tmp)) {
                p.store(out, "GEMM blocking (KC,MC,NC,micro-kernel rows,KC of a transposed A read in place) per machine and JVM, chosen by mae.kernels.GemmBlocking's autotune");
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    @Override public String toString() {
        return "KC " + kc + " MC " + mc + " NC " + nc + " rows " + rows + (kcInPlace != kc ? " KC in place " + kcInPlace : "") + " (" + source + ")";
    }
}
