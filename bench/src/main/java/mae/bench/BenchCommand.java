package mae.bench;

import mae.kernels.Allocation;
import mae.kernels.Gemm;
import mae.kernels.cuda.CudaAllocator;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.autograd.Profile;
import mae.cli.OneOf;
import mae.cli.Range;
import mae.kernels.cuda.CudaBackend;
import mae.optim.AdamW;
import mae.tensor.Device;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.kernels.Workspace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** Quick measurements whose last printed line is the figure. JMH benchmarks live in the bench module. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure the engine: a GEMM, the attention kernel or a whole training step.",
        subcommands = {BenchCommand.GemmCommand.class, BenchCommand.AttentionCommand.class, BenchCommand.StepCommand.class, BenchCommand.ForwardCommand.class, BenchCommand.TuneCommand.class, BenchCommand.PeakCommand.class, BenchReport.class})
public final class BenchCommand implements Runnable {
    @Override public void run() { new picocli.CommandLine(this).usage(System.out); }

    static double max(double[] v) { return Arrays.stream(v).max().orElse(Double.NaN); }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    @Command(name = "gemm", mixinStandardHelpOptions = true, description = "C = A B for row-major A (M, K), B (K, N); prints GFLOP/s (median of runs).")
    static final class GemmCommand implements Callable<Integer> {
        @Range(min = 1, max = 1 << 20) @Option(names = "--m", defaultValue = "1024", description = "rows of A and C (default: ${DEFAULT-VALUE})") int m;
        @Range(min = 1, max = 1 << 20) @Option(names = "--n", defaultValue = "1024", description = "columns of B and C (default: ${DEFAULT-VALUE})") int n;
        @Range(min = 1, max = 1 << 20) @Option(names = "--k", defaultValue = "1024", description = "columns of A, rows of B (default: ${DEFAULT-VALUE})") int k;
        @Range(min = 1, max = 10_000)
        @Option(names = "--runs", defaultValue = "21", description = "timed runs after 3 s of warmup (default: ${DEFAULT-VALUE})") int runs;
        @OneOf(value = {"NN", "NT", "TN", "TT"}, what = "transposes")
        @Option(names = "--trans", defaultValue = "NN", description = "op(A) op(B): NN, NT (x W^T, a linear layer's forward), "
                + "TN (dY^T X, its weight gradient) or TT (default: ${DEFAULT-VALUE})") String trans;
        @Option(names = "--against", paramLabel = "PATH", description = "another build of the kernels (its kernels/target/classes "
                + "folder or kernels jar): the two run call by call in this JVM, which one goes first alternating, and the "
                + "per-call ratio of this build's GFLOP/s to that one's is printed (its median and quartiles; last line "
                + "'ratio: X'), which a machine's slow phases move far less than separate launches (default: this build alone)") Path against;
        @Option(names = "--of-peak", description = "the product's share of the FMA peak measured in the same seconds: each call paired "
                + "with a run of the peak loop (`bench peak`) doing as many flops, which one goes first alternating; prints the "
                + "per-pair share (its median and quartiles; last line 'of peak: X'), which the machine's slow phases move far "
                + "less than a peak and a product timed in separate launches (default: GFLOP/s alone)") boolean ofPeak;
        @Option(names = "--against-blas", arity = "0..1", fallbackValue = "libopenblas.so.0", paramLabel = "LIB", description = "a CBLAS "
                + "library's sgemm (OpenBLAS, as numpy and PyTorch call it; without LIB: libopenblas.so.0) in this JVM through a small "
                + "JNI shim compiled on first use (needs cc and the JDK's jni.h), run call by call against this build as --against "
                + "does, after checking that both give the same product; prints the library's version and core, both medians and "
                + "the per-call ratio (last line 'ratio: X'; above 1: this build faster) (default: this build alone)") Path againstBlas;

        @Override public Integer call() throws Exception {
            for (long[] mat : new long[][]{{'A', m, k}, {'B', k, n}, {'C', m, n}})
                if (mat[1] * mat[2] > Integer.MAX_VALUE - 16)
                    throw new IllegalArgumentException(String.format(Locale.ROOT, "bench gemm: %c (%d, %d) is over 2^31 floats, more than one Java array holds",
                            (char) mat[0], mat[1], mat[2]));
            boolean ta = trans.charAt(0) == 'T', tb = trans.charAt(1) == 'T';
            int lda = ta ? m : k, ldb = tb ? k : n;                 // A stored (K, M) when transposed, B (N, K)
            Rng r = new Rng(1);
            float[] a = Tensor.randn(r, m, k).toArray(), b = Tensor.randn(r, k, n).toArray(), c = new float[m * n];
            double flops = 2.0 * m * n * k;
            if ((against != null ? 1 : 0) + (ofPeak ? 1 : 0) + (againstBlas != null ? 1 : 0) > 1)
                throw new IllegalArgumentException("bench gemm: --against, --against-blas and --of-peak each pair the calls with something else; give one");
            if (against != null) return paired(ta, tb, lda, ldb, a, b, c, flops);
            if (againstBlas != null) return pairedBlas(ta, tb, lda, ldb, a, b, c, flops);
            if (ofPeak) return ofPeak(String.format(Locale.ROOT, "gemm %dx%dx%d %s", m, n, k, trans), runs, flops,
                    () -> Gemm.gemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n));
            long warmEnd = System.nanoTime() + 3_000_000_000L;   // the JIT shares the 2 cores with the threads: give it time
            while (System.nanoTime() < warmEnd) Gemm.gemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n);
            double[] g = new double[runs];
            for (int i = 0; i < runs; i++) {
                long t = System.nanoTime();
                Gemm.gemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n);
                g[i] = flops / (System.nanoTime() - t);
            }
            System.out.printf(Locale.ROOT, "gemm %dx%dx%d %s, %d runs, threads %d%n", m, n, k, trans, runs, mae.kernels.Parallel.threads());
            System.out.printf(Locale.ROOT, "GFLOP/s: %.2f%n", median(g));
            return 0;
        }

        /** This build and the one at {@link #against}, call by call ({@link BenchCommand#paired}). */
        private int paired(boolean ta, boolean tb, int lda, int ldb, float[] a, float[] b, float[] c, double flops) throws Exception {
            Class<?> g = otherBuild(against, "mae.kernels.Gemm");
            java.lang.reflect.Method other = method(against, g, "gemm", boolean.class, boolean.class, int.class, int.class, int.class, float.class,
                    float[].class, int.class, int.class, float[].class, int.class, int.class, float.class, float[].class, int.class, int.class);
            float[] c2 = new float[c.length];
            return BenchCommand.paired(against.toString(), "both builds", String.format(Locale.ROOT, "gemm %dx%dx%d %s", m, n, k, trans), runs, flops,
                    () -> Gemm.gemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n),
                    () -> invoke(against, other, ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c2, 0, n));
        }

        /**
         * This build and a CBLAS library's sgemm ({@link Blas}), call by call, once both have computed the product and
         * agree on it: a wrong binding (a transpose or a stride swapped) would otherwise time some other product.
         */
        private int pairedBlas(boolean ta, boolean tb, int lda, int ldb, float[] a, float[] b, float[] c, double flops) {
            Blas blas = Blas.open(againstBlas.toString(), mae.kernels.Parallel.threads());
            float[] c2 = new float[c.length];
            Gemm.gemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n);
            blas.sgemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c2, n);
            double diff = 0, size = 0;
            for (int i = 0; i < c.length; i++) { diff = Math.max(diff, Math.abs(c[i] - c2[i])); size = Math.max(size, Math.abs(c2[i])); }
            if (!(diff <= 1e-3 * size))
                throw new IllegalStateException(String.format(Locale.ROOT, "bench gemm --against-blas: %s and this build disagree on %dx%dx%d %s: "
                        + "max |difference| %.3g where the largest value is %.3g", blas.description(), m, n, k, trans, diff, size));
            System.out.printf(Locale.ROOT, "%s: the same product as this build (max |difference| %.2g of values up to %.2g)%n", blas.description(), diff, size);
            return BenchCommand.paired(blas.description(), "both", String.format(Locale.ROOT, "gemm %dx%dx%d %s", m, n, k, trans), runs, flops,
                    () -> Gemm.gemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n),
                    () -> blas.sgemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c2, n));
        }
    }

    /**
     * The class `name` of another build of the kernels (a kernels/target/classes folder or kernels jar) in its own
     * class loader: its own blocking, scratch and thread pool, the pool set to this build's thread count (until
     * 2026-12-01 it kept one thread per core under --threads 1).
     */
    static Class<?> otherBuild(Path against, String name) throws Exception {
        if (!java.nio.file.Files.exists(against))
            throw new IllegalArgumentException("--against: " + against + " does not exist (expected a kernels/target/classes folder or a kernels jar)");
        ClassLoader cl = new java.net.URLClassLoader(new java.net.URL[]{against.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
        try {
            cl.loadClass("mae.kernels.Parallel").getMethod("setThreads", int.class).invoke(null, mae.kernels.Parallel.threads());
            return cl.loadClass(name);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            throw new IllegalArgumentException("--against: " + against + " holds no " + name + " (" + e + ")");
        }
    }

    /** The public static method of the other build's class c, or an error naming what is missing. */
    static java.lang.reflect.Method method(Path against, Class<?> c, String name, Class<?>... params) {
        try {
            return c.getMethod(name, params);
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException("--against: " + against + ": " + c.getName() + " has no " + name + Arrays.toString(params) + " (" + e + ")");
        }
    }

    /** Calls the other build's method, its exceptions passed on. */
    static void invoke(Path against, java.lang.reflect.Method m, Object... args) {
        try {
            m.invoke(null, args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("--against " + against + ": " + e.getCause(), e.getCause());
        }
    }

    /**
     * This build's call and the other build's, alternating call by call after 3 s of warmup, the first of each pair
     * alternating too (the second finds the operands in cache: 2-5% on the 2-core Zen 4 VM when one build ran against
     * itself in a fixed order). Prints both medians (flops / time, GFLOP/s) and the per-call ratio this / that (median
     * and quartiles; last line 'ratio: X'), which a machine's slow phases move far less than separate launches.
     */
    static int paired(String against, String both, String what, int runs, double flops, Runnable mine, Runnable theirs) {
        double[][] g = alternate(runs, flops, mine, flops, theirs);
        double[] ratio = new double[runs];
        for (int i = 0; i < runs; i++) ratio[i] = g[0][i] / g[1][i];
        double[] q = ratio.clone();
        Arrays.sort(q);
        System.out.printf(Locale.ROOT, "%s, %d alternating pairs, threads %d (%s)%n", what, runs, mae.kernels.Parallel.threads(), both);
        System.out.printf(Locale.ROOT, "this build: median %.2f GFLOP/s%n", median(g[0]));
        System.out.printf(Locale.ROOT, "%s: median %.2f GFLOP/s%n", against, median(g[1]));
        System.out.printf(Locale.ROOT, "per-call ratio this / that: median %.3f, quartiles %.3f %.3f%n", median(ratio), q[runs / 4], q[(3 * runs) / 4]);
        System.out.printf(Locale.ROOT, "ratio: %.3f%n", median(ratio));
        return 0;
    }

    /**
     * GFLOP/s of a and b (flopsA, flopsB per call), alternating call by call after 3 s of both, the first of each pair
     * alternating too: {a's, b's}, one value per pair. What {@link #paired} and {@link #ofPeak} time.
     */
    static double[][] alternate(int runs, double flopsA, Runnable a, double flopsB, Runnable b) {
        long warmEnd = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < warmEnd) { a.run(); b.run(); }
        double[][] g = new double[2][runs];
        for (int i = 0; i < runs; i++)
            for (int o = 0; o < 2; o++) {
                int v = (i + o) % 2;                                // pair i: a first when i is even
                long t = System.nanoTime();
                (v == 0 ? a : b).run();
                g[v][i] = (v == 0 ? flopsA : flopsB) / (System.nanoTime() - t);
            }
        return g;
    }

    /**
     * The call's share of the FMA peak, each call paired with a run of {@link Peak}'s loop on all kernel threads doing
     * as many flops (so the two last about as long), which one goes first alternating, after 3 s of warmup. Prints both
     * medians and the per-pair share call / peak (median and quartiles; last line 'of peak: X'). Why pairs: the 2-core
     * Zen 4 VM's host has phases that slow both vCPUs to 0.6-0.9 for 0.5-3 s at a time (two pinned loops,
     * bench/results/2026-12-02-vm-amd-epyc-f25m17-s16-pairings.md); `bench peak`'s best of 9 runs falls in a fast
     * phase, and a product timed in a later launch may fall in a slow one, so their quotient reads low by as much as a
     * phase slows the machine. A pair takes about twice the call (10 ms at 1024^3), mostly inside one phase or the other.
     */
    static int ofPeak(String what, int runs, double flops, Runnable call) {
        int threads = mae.kernels.Parallel.threads();
        long iters = Math.max(1, Math.round(flops / (2.0 * 12 * Peak.lanes() * threads)));
        double[][] gp = alternate(runs, flops, call, 2.0 * 12 * Peak.lanes() * iters * threads, () -> Peak.gflops(iters, threads));
        double[] g = gp[0], p = gp[1], share = new double[runs];
        for (int i = 0; i < runs; i++) share[i] = g[i] / p[i];
        double[] q = share.clone();
        Arrays.sort(q);
        System.out.printf(Locale.ROOT, "%s, %d pairs with the FMA peak loop (%d iterations, as many flops), threads %d%n", what, runs, iters, threads);
        System.out.printf(Locale.ROOT, "this call: median %.2f GFLOP/s; peak loop: median %.2f GFLOP/s%n", median(g), median(p));
        System.out.printf(Locale.ROOT, "per-pair share call / peak: median %.3f, quartiles %.3f %.3f%n", median(share), q[runs / 4], q[(3 * runs) / 4]);
        System.out.printf(Locale.ROOT, "of peak: %.3f%n", median(share));
        return 0;
    }

    @Command(name = "attention", mixinStandardHelpOptions = true, description = "The fused attention kernel, forward then backward, on the heads of a "
            + "random fused qkv (B, T, 3, H, hd) as the model calls it; prints GFLOP/s (median of runs), counting its 7 (T x T x hd) products: "
            + "2 forward, 5 backward (the scores recomputed).")
    static final class AttentionCommand implements Callable<Integer> {
        @Range(min = 1, max = 65_536) @Option(names = "--batch", defaultValue = "128", description = "images (default: ${DEFAULT-VALUE}, the fmnist step's)") int batch;
        @Range(min = 1, max = 256) @Option(names = "--heads", defaultValue = "3", description = "heads (default: ${DEFAULT-VALUE}, the fmnist encoder's)") int heads;
        @Range(min = 1, max = 4096) @Option(names = "--tokens", defaultValue = "13", description = "tokens T (default: ${DEFAULT-VALUE}: 12 visible patches of 49 at mask 0.75, and cls)") int tokens;
        @Range(min = 1, max = 1024) @Option(names = "--head-dim", defaultValue = "64", description = "head dim hd (default: ${DEFAULT-VALUE})") int hd;
        @Range(min = 1, max = 10_000)
        @Option(names = "--runs", defaultValue = "101", description = "timed calls after 3 s of warmup (default: ${DEFAULT-VALUE})") int runs;
        @Option(names = "--against", paramLabel = "PATH", description = "another build of the kernels, run call by call in this JVM "
                + "as bench gemm --against does; prints the per-call ratio (default: this build alone)") Path against;

        @Override public Integer call() throws Exception {
            int B = batch, H = heads, T = tokens, D = H * hd;
            if ((long) B * T * 3 * D > Integer.MAX_VALUE - 16)
                throw new IllegalArgumentException("attention: qkv (" + B + ", " + T + ", 3, " + H + ", " + hd + ") is over 2^31 floats");
            Rng r = new Rng(1);
            float[] qkv = Tensor.randn(r, B, T, 3 * D).toArray(), dout = Tensor.randn(r, B, T, D).toArray();
            float[] out = new float[B * T * D], lse = new float[B * H * T], dqkv = new float[qkv.length];
            float scale = (float) (1 / Math.sqrt(hd));
            double flops = 7 * 2.0 * B * H * T * T * hd;
            Runnable mine = () -> {
                mae.kernels.Attention.forwardHeads(out, lse, qkv, B, H, T, hd, scale);
                mae.kernels.Attention.backwardHeads(dqkv, dout, qkv, out, lse, B, H, T, hd, scale);
            };
            String what = String.format(Locale.ROOT, "attention B %d H %d T %d hd %d, forward + backward", B, H, T, hd);
            if (against != null) {
                Class<?> a = otherBuild(against, "mae.kernels.Attention");
                java.lang.reflect.Method f = method(against, a, "forwardHeads", float[].class, float[].class, float[].class, int.class, int.class, int.class, int.class, float.class);
                java.lang.reflect.Method bw = method(against, a, "backwardHeads", float[].class, float[].class, float[].class, float[].class, float[].class,
                        int.class, int.class, int.class, int.class, float.class);
                float[] out2 = new float[out.length], lse2 = new float[lse.length], dqkv2 = new float[dqkv.length];
                return paired(against.toString(), "both builds", what, runs, flops, mine, () -> {
                    invoke(against, f, out2, lse2, qkv, B, H, T, hd, scale);
                    invoke(against, bw, dqkv2, dout, qkv, out2, lse2, B, H, T, hd, scale);
                });
            }
            long warmEnd = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < warmEnd) mine.run();
            double[] g = new double[runs];
            for (int i = 0; i < runs; i++) {
                long t = System.nanoTime();
                mine.run();
                g[i] = flops / (System.nanoTime() - t);
            }
            System.out.printf(Locale.ROOT, "%s, %d runs, threads %d%n", what, runs, mae.kernels.Parallel.threads());
            System.out.printf(Locale.ROOT, "GFLOP/s: %.2f%n", median(g));
            return 0;
        }
    }

    @Command(name = "step", mixinStandardHelpOptions = true, description = "Forward, backward and AdamW on random data; prints images/s (median over steps).")
    static final class StepCommand implements Callable<Integer> {
        @OneOf(configs = true) @Option(names = "--config", defaultValue = "fmnist", description = "model config: " + mae.cli.Configs.KNOWN + " (default: ${DEFAULT-VALUE})") String config;
        @Range(min = 1, max = 65_536) @Option(names = "--batch", defaultValue = "128", description = "images per step (default: ${DEFAULT-VALUE})") int batch;
        @Range(min = 1, max = 100_000) @Option(names = "--steps", defaultValue = "10", description = "timed steps (default: ${DEFAULT-VALUE})") int steps;
        @Range(min = 0, max = 100_000)
        @Option(names = "--warmup", defaultValue = "3", description = "untimed steps first (default: ${DEFAULT-VALUE})") int warmup;
        @Range(min = 0, max = 1, maxOpen = true) @Option(names = "--mask-ratio", defaultValue = "0.75", description = "fraction of patches removed (default: ${DEFAULT-VALUE})") double maskRatio;
        @Option(names = "--workspace", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "run each step in a Workspace that reuses its buffers, as pretraining does (default: ${DEFAULT-VALUE})") boolean workspace;
        @OneOf(value = {"cpu", "cuda"}, what = "device")
        @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda (default: ${DEFAULT-VALUE})") String device;
        @Option(names = "--profile", description = "after the timed steps, run as many again with every op timed and print "
                + "where a step's time goes (share, GFLOP/s, GB/s per op; default: off)") boolean profile;
        @Option(names = "--of-peak", description = "after the timed steps, the step's model arithmetic as a share of the FMA peak measured in "
                + "the same seconds, as bench gemm --of-peak: each step paired with a run of the peak loop doing as many flops (2 x (3 x "
                + "the forward's multiply-adds - the patch embedding's, whose backward is its weight gradient alone)); last line "
                + "'of peak: X' (default: images/s alone)") boolean ofPeak;

        @Override public Integer call() {
            Device dev = Device.parse(device);
            if (dev == Device.CUDA && !Device.CUDA.available())
                throw new IllegalArgumentException("--device cuda: CUDA is not available here: " + Device.CUDA.describe());
            if (ofPeak && profile) throw new IllegalArgumentException("bench step: --of-peak and --profile each take the timed steps' place after the run; give one");
            if (ofPeak && dev == Device.CUDA) throw new IllegalArgumentException("bench step: --of-peak pairs the step with the CPU's FMA peak loop; it needs --device cpu");
            MaeConfig cfg = MaeConfig.named(config);
            MaeModel model = new MaeModel(cfg, 0).to(dev);
            AdamW opt = new AdamW(model.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
            Rng r = new Rng(2);
            Tensor imgs = Tensor.randn(r, batch, cfg.inChans(), cfg.imgSize(), cfg.imgSize()).to(dev);   // uploaded once
            Workspace ws = new Workspace();
            Runnable step = () -> {
                try (Workspace.Scope s = workspace ? ws.open() : null) {
                    Tensor noise = Tensor.rand(r, batch, cfg.numPatches());
                    model.forward(imgs, noise, maskRatio).loss().backward();
                }
                opt.step(1e-4f);
                model.params.zeroGrad();
                dev.synchronize();                            // a GPU step is timed to its last kernel
            };
            double[] ips = new double[steps];
            long bytes0 = 0, gcs0 = 0, gcMillis0 = 0, leastBytes = Long.MAX_VALUE;
            CudaAllocator.Stats mem0 = null;
            boolean gpu = CudaBackend.isGpu(dev.backend());
            for (int i = 0; i < warmup + steps; i++) {
                if (i == warmup) {
                    bytes0 = Allocation.bytes(); gcs0 = Allocation.gcCount(); gcMillis0 = Allocation.gcMillis();
                    if (gpu) mem0 = CudaAllocator.shared().stats();
                }
                long b = Allocation.bytes(), t = System.nanoTime();
                step.run();
                if (i >= warmup) {
                    ips[i - warmup] = batch / ((System.nanoTime() - t) / 1e9);
                    leastBytes = Math.min(leastBytes, Allocation.bytes() - b);
                }
            }
            long bytes = Allocation.bytes() - bytes0, gcs = Allocation.gcCount() - gcs0, gcMillis = Allocation.gcMillis() - gcMillis0;
            System.out.printf(Locale.ROOT, "step %s batch %d mask %.2f: %d steps, threads %d, workspace %s, device %s%n", config, batch, maskRatio, steps,
                    mae.kernels.Parallel.threads(), workspace ? "on" : "off", dev == Device.CPU ? "cpu" : "cuda (" + Device.CUDA.describe() + ")");
            if (gpu) {
                CudaAllocator.Stats m = CudaAllocator.shared().stats();
                System.out.printf(Locale.ROOT, "device memory: peak %.2f GB in use, %.2f GB cached; cuMemAlloc calls during the timed steps: %d%n",
                        m.peakBytesInUse() / 1e9, m.bytesCached() / 1e9, m.driverAllocs() - mem0.driverAllocs());
            }
            System.out.printf(Locale.ROOT, "allocated per step: %.2f MB (all threads); GC: %d collections, %d ms over %d steps; workspace buffers made: %d (%.1f MB), reused: %d%n",
                    bytes / 1e6 / steps, gcs, gcMillis, steps, ws.stats().created(), ws.stats().createdBytes() / 1e6, ws.stats().reused());
            String warning = workspace && !gpu ? Allocation.fallbackWarning("every timed step (at least)", leastBytes, ws.stats().createdBytes()) : null;
            if (warning != null) System.out.println(warning);
            if (profile) printProfile(profiled(model, opt, imgs, r, ws, cfg, dev), steps, batch);
            if (ofPeak) {
                long flops = stepFlops(model, imgs, r, ws, cfg);
                System.out.printf(Locale.ROOT, "model arithmetic: %.2f GFLOP per step (%d FLOPs); images/s: %.2f (the timed steps above)%n", flops / 1e9, flops, median(ips));
                return ofPeak(String.format(Locale.ROOT, "step %s batch %d mask %.2f", config, batch, maskRatio), steps, flops, step);
            }
            System.out.printf(Locale.ROOT, "images/s: %.2f%n", median(ips));
            return 0;
        }

        /**
         * The FLOPs of one step's matrix products and attention, as bench/compare_torch.py counts them: the forward's
         * multiply-adds (one untimed pass, counted by a Trace), 3 x for forward and backward (each product's backward is
         * two products of its size), less the patch embedding's backward input gradient (the images need none), 2 FLOPs each.
         */
        private long stepFlops(MaeModel model, Tensor imgs, Rng r, Workspace ws, MaeConfig cfg) {
            mae.autograd.Trace trace = mae.autograd.Trace.start();
            try (mae.autograd.Grad.Scope g = mae.autograd.Grad.off(); Workspace.Scope s = workspace ? ws.open() : null) {
                model.forward(imgs, Tensor.rand(r, batch, cfg.numPatches()), maskRatio).loss();
            } finally {
                trace.stop();
            }
            mae.autograd.Trace.Stage embed = trace.stage("patch embedding");
            return 2 * (3 * trace.macs() - (embed == null ? 0 : embed.macs()));
        }

        /** The same step, `steps` times, with every op timed; returns the profile and the steps' wall time. */
        private Object[] profiled(MaeModel model, AdamW opt, Tensor imgs, Rng r, Workspace ws, MaeConfig cfg, Device dev) {
            Profile p = Profile.start(dev::synchronize);   // on a GPU each op waits for its kernels: their own time
            long wall = 0;
            try {
                for (int i = 0; i < steps; i++) {
                    long t = System.nanoTime();
                    try (Workspace.Scope s = workspace ? ws.open() : null) {
                        Tensor[] noise = new Tensor[1];
                        Profile.section("noise (host)", () -> noise[0] = Tensor.rand(r, batch, cfg.numPatches()));
                        model.forward(imgs, noise[0], maskRatio).loss().backward();
                        Profile.section("workspace release", s::close);
                    }
                    Profile.section("optimizer (AdamW)", () -> opt.step(1e-4f));
                    Profile.section("zero grads", model.params::zeroGrad);
                    dev.synchronize();
                    wall += System.nanoTime() - t;
                }
            } finally {
                p.stop();
            }
            return new Object[]{p, wall};
        }
    }

    @Command(name = "forward", mixinStandardHelpOptions = true, description = "The encoder's forward pass over every patch of random images, without gradients "
            + "(what reconstruct, explain and feature extraction run); prints images/s (median of runs).")
    static final class ForwardCommand implements Callable<Integer> {
        @OneOf(configs = true) @Option(names = "--config", defaultValue = "mae_vit_large_patch16", description = "model config: " + mae.cli.Configs.KNOWN + " (default: ${DEFAULT-VALUE})") String config;
        @Range(min = 1, max = 65_536) @Option(names = "--batch", defaultValue = "1", description = "images per pass (default: ${DEFAULT-VALUE})") int batch;
        @Range(min = 1, max = 100_000) @Option(names = "--runs", defaultValue = "7", description = "timed passes, the median is reported (default: ${DEFAULT-VALUE})") int runs;
        @Range(min = 0, max = 100_000)
        @Option(names = "--warmup", defaultValue = "3", description = "untimed passes first (default: ${DEFAULT-VALUE})") int warmup;
        @Option(names = "--profile", description = "after the timed passes, run as many again with every op timed and print where a pass's time goes (default: off)") boolean profile;
        @Option(names = "--of-peak", description = "after the timed passes, the pass's model arithmetic as a share of the FMA peak measured in "
                + "the same seconds, as bench gemm --of-peak: each pass paired with a run of the peak loop doing as many flops; last "
                + "line 'of peak: X' (default: images/s alone)") boolean ofPeak;

        @Override public Integer call() {
            if (ofPeak && profile) throw new IllegalArgumentException("bench forward: --of-peak and --profile each take the timed passes' place after the run; give one");
            MaeConfig cfg = MaeConfig.named(config);
            mae.vit.VisionTransformer enc = new MaeModel(cfg, 0).encoder;
            Tensor imgs = Tensor.randn(new Rng(2), batch, cfg.inChans(), cfg.imgSize(), cfg.imgSize());
            Workspace ws = new Workspace();
            long macs;
            mae.autograd.Trace trace = mae.autograd.Trace.start();       // one untimed pass counts the multiply-adds
            try (mae.autograd.Grad.Scope g = mae.autograd.Grad.off(); Workspace.Scope s = ws.open()) {
                enc.forwardFeatures(mae.autograd.Var.constant(imgs)).value();
            } finally {
                macs = trace.stop().macs();
            }
            double[] ips = new double[runs];
            for (int i = 0; i < warmup + runs; i++) {
                long t = System.nanoTime();
                try (mae.autograd.Grad.Scope g = mae.autograd.Grad.off(); Workspace.Scope s = ws.open()) {
                    enc.forwardFeatures(mae.autograd.Var.constant(imgs)).value();
                }
                if (i >= warmup) ips[i - warmup] = batch / ((System.nanoTime() - t) / 1e9);
            }
            double m = median(ips);
            if (profile) {
                Profile p = Profile.start();
                long wall = 0;
                try {
                    for (int i = 0; i < runs; i++) {
                        long t = System.nanoTime();
                        try (mae.autograd.Grad.Scope g = mae.autograd.Grad.off(); Workspace.Scope s = ws.open()) {
                            enc.forwardFeatures(mae.autograd.Var.constant(imgs)).value();
                        }
                        wall += System.nanoTime() - t;
                    }
                } finally {
                    p.stop();
                }
                printProfile(new Object[]{p, wall}, runs, batch);
            }
            System.out.printf(Locale.ROOT, "forward %s encoder, batch %d, %d patches + cls, %d runs, threads %d: %.1f ms per pass, %.2f GFLOP per image (2 x %d multiply-adds), %.1f GFLOP/s%n",
                    config, batch, cfg.numPatches(), runs, mae.kernels.Parallel.threads(), 1e3 * batch / m, 2.0 * macs / batch / 1e9, macs / batch, 2.0 * macs / batch * m / 1e9);
            if (ofPeak) {
                System.out.printf(Locale.ROOT, "images/s: %.2f (the timed passes above)%n", m);
                return ofPeak(String.format(Locale.ROOT, "forward %s encoder, batch %d", config, batch), runs, 2.0 * macs, () -> {
                    try (mae.autograd.Grad.Scope g = mae.autograd.Grad.off(); Workspace.Scope s = ws.open()) {
                        enc.forwardFeatures(mae.autograd.Var.constant(imgs)).value();
                    }
                });
            }
            System.out.printf(Locale.ROOT, "images/s: %.2f%n", m);
            return 0;
        }
    }

    /** The profile as a table: each op and phase, its share of the profiled steps' wall time, and its rates. */
    static void printProfile(Object[] pw, int steps, int batch) {
        Profile p = (Profile) pw[0];
        double wallMs = (long) pw[1] / 1e6 / steps, counted = 0;
        System.out.printf(Locale.ROOT, "profile: %d steps, %.1f ms per step (%.1f images/s with the timers on)%n", steps, wallMs, batch / (wallMs / 1e3));
        System.out.printf(Locale.ROOT, "%-22s %-9s %8s %9s %7s %9s %8s%n", "op", "phase", "calls", "ms/step", "share", "GFLOP/s", "GB/s");
        for (Profile.Entry e : p.entries()) {
            double ms = e.nanos / 1e6 / steps, secs = e.nanos / 1e9;
            counted += ms;
            System.out.printf(Locale.ROOT, "%-22s %-9s %8.1f %9.2f %6.1f%% %9s %8s%n", e.op, e.phase, (double) e.calls / steps, ms, 100 * ms / wallMs,
                    e.flops > 0 ? String.format(Locale.ROOT, "%.1f", e.flops / secs / 1e9) : "",
                    e.flops == 0 && e.bytes > 0 ? String.format(Locale.ROOT, "%.1f", e.bytes / secs / 1e9) : "");
        }
        System.out.printf(Locale.ROOT, "%-22s %-9s %8s %9.2f %6.1f%%%n", "(not attributed)", "", "", wallMs - counted, 100 * (wallMs - counted) / wallMs);
        System.out.println("the products by their inputs' shapes (linear: x, weight, bias; attention: the fused qkv (B, T, 3 D), or q, k, v):");
        System.out.printf(Locale.ROOT, "%-10s %-9s %-36s %8s %9s %7s %9s%n", "op", "phase", "inputs", "calls", "ms/step", "share", "GFLOP/s");
        for (Profile.Entry e : p.products()) {
            double ms = e.nanos / 1e6 / steps;
            System.out.printf(Locale.ROOT, "%-10s %-9s %-36s %8.1f %9.2f %6.1f%% %9.1f%n", e.op, e.phase, e.shape, (double) e.calls / steps, ms, 100 * ms / wallMs, e.flops / (e.nanos / 1e9) / 1e9);
        }
    }

    @Command(name = "tune", mixinStandardHelpOptions = true, description = "The GEMM autotune's measurement, shown: every candidate blocking's GFLOP/s on the "
            + "three products it times (their A packed), their geometric mean; the best few run again back to back, and the fastest against the others wins; then the winner with each k block for a transposed A read in place, on a weight gradient "
            + "(changes no cache); last line the winner as KC,MC,NC,ROWS,KCI (ROWS: the micro-kernel's rows, 12 or 6 with AVX-512; KCI: the k block of a transposed A read in place).")
    static final class TuneCommand implements Callable<Integer> {
        @Range(min = 1, max = 1000) @Option(names = "--rounds", defaultValue = "9", description = "interleaved timed rounds, the fastest per shape (default: ${DEFAULT-VALUE})") int rounds;

        @Override public Integer call() {
            mae.kernels.CacheSizes caches = mae.kernels.CacheSizes.machine();
            java.util.List<mae.kernels.GemmBlocking> cands = mae.kernels.GemmBlocking.candidates(caches);
            int[][] shapes = mae.kernels.GemmTune.SHAPES;
            mae.kernels.GemmTune.Tune tune = mae.kernels.GemmTune.tune(cands, rounds);
            double[][] rates = tune.rates();
            System.out.printf(Locale.ROOT, "caches: %s; vector %d floats; threads %d; in use now: %s%n", caches, jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length(),
                    mae.kernels.Parallel.threads(), mae.kernels.GemmBlocking.current());
            StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-20s", "KC,MC,NC,ROWS,KCI"));
            for (int[] sh : shapes) head.append(String.format(Locale.ROOT, " %16s", (sh[0] == 1 ? "T" : "N") + (sh[1] == 1 ? "T" : "N") + " " + sh[2] + "x" + sh[3] + "x" + sh[4]));
            System.out.println(head.append(String.format(Locale.ROOT, " %10s", "geo mean")));
            for (int i = 0; i < cands.size(); i++) {
                mae.kernels.GemmBlocking c = cands.get(i);
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-20s", c.setting() + (i == 0 ? " (model)" : "")));
                for (double r : rates[i]) row.append(String.format(Locale.ROOT, " %16.1f", r));
                System.out.println(row.append(String.format(Locale.ROOT, " %10.1f", mae.kernels.GemmTune.score(rates[i]))));
            }
            System.out.printf(Locale.ROOT, "GFLOP/s, the fastest of %d interleaved rounds; the model's blocking is the cache-size one (--no-autotune)%n", rounds);
            System.out.printf(Locale.ROOT, "the final: the %d best, back to back in %d rounds, each one's speed against theirs together (median per round, geometric mean over the products):%n",
                    tune.finalists().size(), mae.kernels.GemmTune.FINAL_ROUNDS);
            for (int i = 0; i < tune.finalists().size(); i++)
                System.out.printf(Locale.ROOT, "  %-20s %6.3f%n", tune.finalists().get(i).setting(), tune.relative()[i]);
            int[] ip = mae.kernels.GemmTune.IN_PLACE[0];
            System.out.printf(Locale.ROOT, "the winner %s with each k block for a transposed A read in place, on %s %dx%dx%d, back to back in %d rounds, each one's speed against theirs together:%n",
                    tune.first().setting(), (ip[0] == 1 ? "T" : "N") + (ip[1] == 1 ? "T" : "N"), ip[2], ip[3], ip[4], mae.kernels.GemmTune.IN_PLACE_ROUNDS);
            for (int i = 0; i < tune.inPlace().size(); i++)
                System.out.printf(Locale.ROOT, "  KC in place %5d %8.3f%n", tune.inPlace().get(i).kcInPlace(), tune.inPlaceRelative()[i]);
            System.out.printf(Locale.ROOT, "best: %s%n", tune.best().setting());
            return 0;
        }
    }

    @Command(name = "peak", mixinStandardHelpOptions = true, description = "This CPU's measured FP32 FMA peak (all kernel threads); prints GFLOP/s (the best of the runs).")
    static final class PeakCommand implements Callable<Integer> {
        @Range(min = 1, max = 1000) @Option(names = "--runs", defaultValue = "9", description = "timed runs, the best is reported (default: ${DEFAULT-VALUE})") int runs;

        @Override public Integer call() {
            int threads = mae.kernels.Parallel.threads();
            long iters = 20_000_000;
            for (int i = 0; i < 3; i++) Peak.gflops(iters / 4, threads);      // JIT warmup
            double[] one = new double[runs], all = new double[runs];
            for (int i = 0; i < runs; i++) { one[i] = Peak.gflops(iters, 1); all[i] = Peak.gflops(iters, threads); }
            double[] bw = new double[3];
            for (int i = 0; i < bw.length; i++) bw[i] = Peak.bandwidth(BenchReport.BANDWIDTH_FLOATS, 5, threads);
            System.out.printf(Locale.ROOT, "memory bandwidth (STREAM triad, %d threads, 3 x %d MB): %.1f GB/s%n", threads,
                    BenchReport.BANDWIDTH_FLOATS * 4 / 1_000_000, median(bw));
            // The best run, not the median: no code can beat the FMA units, so every lower reading is interference (a
            // vCPU descheduled for part of a 30 ms run). On the 2-core EPYC VM the median of 7 read 500.9 in one run and
            // 539-568 in others the same day, and that run's SGEMM 1024 came to "93% of peak".
            System.out.printf(Locale.ROOT, "FMA peak, %d-lane vectors: 1 thread %.1f GFLOP/s; %d threads (median of %d runs %.1f), best:%n",
                    Peak.lanes(), max(one), threads, runs, median(all));
            System.out.printf(Locale.ROOT, "GFLOP/s: %.1f%n", max(all));
            return 0;
        }
    }
}
