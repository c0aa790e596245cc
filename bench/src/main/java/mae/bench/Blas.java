package mae.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A CBLAS library's sgemm (OpenBLAS: what numpy and PyTorch call on these machines) in this JVM, so that `bench gemm
 * --against-blas` can time it call by call against the engine's GEMM: separate launches of numpy and of the engine
 * fall in different phases of a VM's host (NN 6400 x 128 x 128 with -XX:UseAVX=2 read 98, 136 and 153 GFLOP/s in
 * three launches of one build on the 2-core Zen 4 VM), pairs in one process mostly in the same one. The bench tool only: the engine calls no native code.
 *
 * <p>The JNI side (blas_pair.c, a resource of this module) is compiled on first use by the machine's C compiler ($CC,
 * else cc) into a temporary folder, and opens the library with dlopen: only the JDK's jni.h is needed. It passes the
 * JVM's arrays themselves (GetPrimitiveArrayCritical: no copies). Its idle threads: OpenBLAS's, by its default
 * (OPENBLAS_THREAD_TIMEOUT 28), poll for the next call for 2^28 cycles before they sleep, and in alternating calls
 * could take the cores from the engine's next call; 4, set before the library starts unless the environment sets it,
 * makes them sleep at once, as the engine's workers do after 50 us (Parallel), so each side wakes its threads at its
 * call's start. A precaution: 1024^3 on the Zen 4 VM read the same with either (bench/results/
 * 2026-12-04-vm-amd-epyc-f25m17-s31-pairings.md).
 */
final class Blas {
    private final String path, description;

    private Blas(String path, String description) { this.path = path; this.description = description; }

    private static Blas opened;
    private static boolean loaded;

    /**
     * The library at path (a file, or a name dlopen searches for, such as libopenblas.so.0) on `threads` threads, the
     * JNI side compiled and loaded first; one library per JVM.
     */
    static synchronized Blas open(String path, int threads) {
        if (path.contains("/") && !Files.exists(Path.of(path)))
            throw new IllegalArgumentException("--against-blas: " + path + " does not exist (expected a CBLAS library such as libopenblas.so.0)");
        if (opened != null) {
            if (!opened.path.equals(path)) throw new IllegalArgumentException("--against-blas: " + opened.path + " is already open in this JVM; " + path + " cannot be too");
            return opened;
        }
        if (!loaded) { System.load(compile().toString()); loaded = true; }
        String said = open0(path, threads);
        return opened = new Blas(path, said.isEmpty() ? path + " (a CBLAS, not OpenBLAS)" : said.strip() + " (" + path + ")");
    }

    /** What the library says of itself (OpenBLAS's version, build and core), with its path. */
    String description() { return description; }

    /** C (M, N) = alpha op(A) op(B) + beta C as {@link mae.kernels.Gemm#gemm} takes it (row-major, offsets 0). */
    void sgemm(boolean ta, boolean tb, int M, int N, int K, float alpha, float[] A, int lda, float[] B, int ldb, float beta, float[] C, int ldc) {
        need("A", A, ta ? K : M, ta ? M : K, lda);
        need("B", B, tb ? N : K, tb ? K : N, ldb);
        need("C", C, M, N, ldc);
        sgemm0(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }

    /** The native side trusts its indices: a (rows, cols) matrix with row stride ld must lie inside x. */
    private static void need(String name, float[] x, int rows, int cols, int ld) {
        if (rows < 0 || cols < 0 || ld < Math.max(1, cols) || (rows > 0 && cols > 0 && (long) (rows - 1) * ld + cols > x.length))
            throw new IllegalArgumentException(String.format(Locale.ROOT, "--against-blas: %s (%d, %d) with row stride %d does not fit its %d floats",
                    name, rows, cols, ld, x.length));
    }

    private static native String open0(String path, int threads);

    private static native void sgemm0(boolean ta, boolean tb, int M, int N, int K, float alpha, float[] A, int lda, float[] B, int ldb,
                                      float beta, float[] C, int ldc);

    /** blas_pair.c compiled into a temporary folder (removed at exit); an error naming the compiler and its output if it fails. */
    private static Path compile() {
        try {
            Path dir = Files.createTempDirectory("mae-blas-pair");
            Path src = dir.resolve("blas_pair.c"), lib = dir.resolve("libmae_blas_pair.so");
            try (InputStream in = Blas.class.getResourceAsStream("blas_pair.c")) {
                if (in == null) throw new IllegalStateException("--against-blas: blas_pair.c is missing from the bench module's resources");
                Files.copy(in, src);
            }
            Path home = Path.of(System.getProperty("java.home"));
            Path include = home.resolve("include");
            if (!Files.isRegularFile(include.resolve("jni.h")))
                throw new IllegalArgumentException("--against-blas: no jni.h in " + include + " (a JDK with its headers is needed to build the JNI side)");
            String os = System.getProperty("os.name").toLowerCase(Locale.ROOT).startsWith("mac") ? "darwin" : "linux";
            String cc = System.getenv().getOrDefault("CC", "cc");
            List<String> cmd = List.of(cc, "-O2", "-shared", "-fPIC", "-I" + include, "-I" + include.resolve(os),
                    "-o", lib.toString(), src.toString(), "-ldl");
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new IllegalArgumentException("--against-blas: cannot run the C compiler '" + cc + "' (set CC): " + e.getMessage());
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) throw new IllegalArgumentException("--against-blas: " + String.join(" ", cmd) + " failed:\n" + out);
            for (Path f : new Path[]{dir, src, lib}) f.toFile().deleteOnExit();
            return lib;
        } catch (IOException e) {
            throw new IllegalStateException("--against-blas: cannot build the JNI side: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("--against-blas: interrupted while compiling the JNI side", e);
        }
    }
}
