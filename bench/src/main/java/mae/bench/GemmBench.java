package mae.bench;

import mae.kernels.JitFlags;
import mae.kernels.Gemm;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * {@link Gemm#gemm} at the fmnist MAE's shapes and at squares. A shape is "MxNxK": C (M, N) = A (M, K) B (K, N).
 * M = 128 x 13 = 1664 is the encoder's rows at mask 0.75 (12 visible patches + cls), M = 128 x 50 = 6400 the
 * decoder's (and the encoder's at mask 0); (N, K) are qkv, proj, fc1, fc2 of the encoder (D = 192) and of the
 * decoder (D = 128). {@code trans} picks op(A), op(B) ("NN", "TN" as in weight gradients, "NT" as in input
 * gradients against a (N, K) weight). Primary score: calls/s; secondary {@code gflop}: GFLOP/s.
 *
 * <p>Example: {@code java --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar GemmBench -p shape=1024x1024x1024}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", JitFlags.TRAP_LIMIT, JitFlags.RECOMPILE_CUTOFF, "-Xmx4g"})
public class GemmBench {
    @Param({
            "1664x576x192", "1664x192x192", "1664x768x192", "1664x192x768",
            "1664x384x128", "1664x128x128", "1664x512x128", "1664x128x512",
            "6400x576x192", "6400x192x192", "6400x768x192", "6400x192x768",
            "6400x384x128", "6400x128x128", "6400x512x128", "6400x128x512",
            "256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048"})
    public String shape;

    @Param({"NN"})
    public String trans;

    int m, n, k, lda, ldb;
    boolean ta, tb;
    float[] a, b, c;
    double gflopPerCall;

    @Setup
    public void setup() {
        String[] s = shape.split("x");
        m = Integer.parseInt(s[0]); n = Integer.parseInt(s[1]); k = Integer.parseInt(s[2]);
        if (trans.length() != 2 || "NT".indexOf(trans.charAt(0)) < 0 || "NT".indexOf(trans.charAt(1)) < 0)
            throw new IllegalArgumentException("trans must be NN, NT, TN or TT, got " + trans);
        ta = trans.charAt(0) == 'T'; tb = trans.charAt(1) == 'T';
        lda = ta ? m : k;   // A stored (K, M) when transposed
        ldb = tb ? k : n;   // B stored (N, K) when transposed
        Rng r = new Rng(1);
        a = Tensor.randn(r, m * k).toArray();
        b = Tensor.randn(r, k * n).toArray();
        c = new float[m * n];
        gflopPerCall = 2.0 * m * n * k / 1e9;
    }

    @Benchmark
    public float[] gemm(Flops f) {
        Gemm.gemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n);
        f.gflop += gflopPerCall;
        return c;
    }
}
