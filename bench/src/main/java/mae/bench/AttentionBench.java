package mae.bench;

import mae.kernels.JitFlags;
import mae.kernels.Attention;
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
 * The fused attention kernel at the fmnist MAE's shapes, "BHxTxhd": the encoder at mask 0.75
 * (batch 128 x 3 heads, 13 tokens, head dim 64) and the decoder (128 x 4 heads, 50 tokens, head dim 32).
 * The encoder at mask 0 is 384x50x64. Secondary {@code gflop}: GFLOP/s counting the two (T, T, hd) products
 * forward (4 BH T^2 hd) and the four backward (8 BH T^2 hd, the score recomputation included), exp not counted.
 * backward accumulates into dq, dk, dv, as the kernel's contract says; they are not cleared between calls.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", JitFlags.TRAP_LIMIT, JitFlags.RECOMPILE_CUTOFF, "-Xmx4g"})
public class AttentionBench {
    @Param({"384x13x64", "512x50x32"})
    public String shape;

    int bh, t, hd;
    float scale;
    float[] q, k, v, out, lse, dout, dq, dk, dv;

    @Setup
    public void setup() {
        String[] s = shape.split("x");
        bh = Integer.parseInt(s[0]); t = Integer.parseInt(s[1]); hd = Integer.parseInt(s[2]);
        scale = (float) (1 / Math.sqrt(hd));
        int n = bh * t * hd;
        Rng r = new Rng(3);
        q = Tensor.randn(r, n).toArray(); k = Tensor.randn(r, n).toArray(); v = Tensor.randn(r, n).toArray();
        dout = Tensor.randn(r, n).toArray();
        out = new float[n]; lse = new float[bh * t];
        dq = new float[n]; dk = new float[n]; dv = new float[n];
        Attention.forward(out, lse, q, k, v, bh, t, hd, scale); // backward reads the forward's out and lse
    }

    @Benchmark
    public float[] forward(Flops f) {
        Attention.forward(out, lse, q, k, v, bh, t, hd, scale);
        f.gflop += 4.0 * bh * t * t * hd / 1e9;
        return out;
    }

    @Benchmark
    public float[] backward(Flops f) {
        Attention.backward(dq, dk, dv, dout, q, k, v, out, lse, bh, t, hd, scale);
        f.gflop += 8.0 * bh * t * t * hd / 1e9;
        return dq;
    }
}
