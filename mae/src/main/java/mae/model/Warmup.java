package mae.model;

import mae.autograd.Grad;
import mae.tensor.Rng;
import mae.tensor.Tensor;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a small MAE's forward pass over and over on a background thread while a large checkpoint is read, so that
 * the JIT has compiled the kernels by the time the real model first runs. The Vector API is slow until C2 has
 * compiled it: the first forward pass of a ViT-L on one image took 5-9 s and the next ones 0.5-1 s (one JVM,
 * busy 2-core VM); reading the file mostly waits on the disk and decodes on one core, so the other core is free
 * for this. The kernels give the same bits compiled or not (their tests run either way), so this changes no
 * result. {@link #close} stops the thread and waits for its current pass (milliseconds).
 */
public final class Warmup implements AutoCloseable {
    /** Files at least this large are read with a warm-up beside them. */
    public static final long MIN_FILE_BYTES = 64L << 20;
    /** -Dmae.warmup=false turns it off (to measure without it). */
    public static final boolean ENABLED = !"false".equals(System.getProperty("mae.warmup"));

    private final AtomicBoolean stop = new AtomicBoolean();
    private final Thread thread;
    private volatile int passes;

    private Warmup() {
        thread = new Thread(this::run, "mae-jit-warmup");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
    }

    /** Starts warming up; close it before the real work begins. */
    public static Warmup start() {
        Warmup w = new Warmup();
        w.thread.start();
        return w;
    }

    /** Passes completed so far. */
    public int passes() { return passes; }

    private void run() {
        // 32 px RGB, patch 8, encoder 128 x 2, decoder 64 x 1: batches of 4 and of 12 images take linear layers of
        // 68 and 204 rows, both orientations of CpuBackend.linear, both paths of the GEMM, GELU, attention, norms.
        MaeModel m = new MaeModel(new MaeConfig("warmup", 32, 8, 3, 128, 2, 2, 64, 1, 2, 4f, false), 1);
        Rng rng = new Rng(2);
        Tensor small = Tensor.randn(rng, 4, 3, 32, 32), large = Tensor.randn(rng, 12, 3, 32, 32);
        try (Grad.Scope g = Grad.off()) {
            while (!stop.get()) {
                Tensor imgs = passes % 2 == 0 ? small : large;
                m.forward(imgs, Tensor.rand(rng, imgs.size(0), 16), 0.75);
                passes++;
            }
        } catch (RuntimeException | Error e) {
            // a warm-up that fails costs only speed; the real work reports its own errors
        }
    }

    @Override public void close() {
        stop.set(true);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
