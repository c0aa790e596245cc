package mae.bench;

import mae.kernels.JitFlags;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.optim.AdamW;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import mae.kernels.Workspace;
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
 * One whole training step, as `mae bench step` and the pretrain loop do it: forward with masking, backward,
 * AdamW (betas 0.9, 0.95, weight decay 0.05), zero the gradients. Random images, a fresh noise draw per step
 * (from a pre-drawn cycle of 16, so drawing is not timed). Primary score: steps/s; secondary {@code images}:
 * images/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", JitFlags.TRAP_LIMIT, JitFlags.RECOMPILE_CUTOFF, "-Xmx6g"})
public class StepBench {
    @Param({"fmnist"})
    public String config;
    @Param({"128"})
    public int batch;
    /** 0.01 stands for mask 0: with nothing masked the reference loss is 0/0 (PyTorch: NaN); 0.01 keeps 48 of 49 patches on both sides. */
    @Param({"0.75", "0.01"})
    public double maskRatio;

    MaeModel model;
    AdamW opt;
    Tensor imgs;
    Tensor[] noise;
    int next;

    @Setup
    public void setup() {
        MaeConfig cfg = MaeConfig.named(config);
        model = new MaeModel(cfg, 0);
        opt = new AdamW(model.params.trainable(), 0.9f, 0.95f, 1e-8f, 0.05f);
        Rng r = new Rng(2);
        imgs = Tensor.randn(r, batch, cfg.inChans(), cfg.imgSize(), cfg.imgSize());
        noise = new Tensor[16];
        for (int i = 0; i < noise.length; i++) noise[i] = Tensor.rand(r, batch, cfg.numPatches());
    }

    final Workspace ws = new Workspace();

    @Benchmark
    public float step(Images f) {
        float loss;
        try (Workspace.Scope s = ws.open()) {             // as pretraining runs it: the step's buffers are reused
            MaeModel.Output o = model.forward(imgs, noise[next++ & 15], maskRatio);
            loss = o.loss().value().item();
            o.loss().backward();
        }
        opt.step(1e-4f);
        model.params.zeroGrad();
        f.images += batch;
        return loss;
    }
}
