package mae.bench;

import mae.kernels.JitFlags;
import mae.kernels.LayerNorm;
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
 * Layer norm forward and backward at the fmnist MAE's shapes, "ROWSxC": encoder tokens at mask 0.75
 * (128 x 13, 192), at mask 0 (128 x 50, 192), decoder tokens (128 x 50, 128). Score: calls/s; secondary
 * {@code gbyte}: GB/s of the least traffic each call needs (memory-bound: forward reads x and writes out, 8 bytes
 * per element; backward reads dout and x and writes dx, 12; the (C) and (rows) vectors are not counted).
 * backward accumulates into dx, dw, db.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", JitFlags.TRAP_LIMIT, JitFlags.RECOMPILE_CUTOFF, "-Xmx4g"})
public class LayerNormBench {
    @Param({"1664x192", "6400x192", "6400x128"})
    public String shape;

    int rows, c;
    float[] x, w, b, out, mean, rstd, dout, dx, dw, db;

    @Setup
    public void setup() {
        String[] s = shape.split("x");
        rows = Integer.parseInt(s[0]); c = Integer.parseInt(s[1]);
        Rng r = new Rng(4);
        x = Tensor.randn(r, rows * c).toArray(); dout = Tensor.randn(r, rows * c).toArray();
        w = Tensor.randn(r, c).toArray(); b = Tensor.randn(r, c).toArray();
        out = new float[rows * c]; dx = new float[rows * c];
        mean = new float[rows]; rstd = new float[rows];
        dw = new float[c]; db = new float[c];
        LayerNorm.forward(out, mean, rstd, x, w, b, rows, c, 1e-6f);
    }

    @Benchmark
    public float[] forward(Bytes bytes) {
        LayerNorm.forward(out, mean, rstd, x, w, b, rows, c, 1e-6f);
        bytes.gbyte += 8.0 * rows * c / 1e9;
        return out;
    }

    @Benchmark
    public float[] backward(Bytes bytes) {
        LayerNorm.backward(dx, dw, db, dout, x, w, mean, rstd, rows, c);
        bytes.gbyte += 12.0 * rows * c / 1e9;
        return dx;
    }
}
