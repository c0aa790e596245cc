package mae.tensor;

import mae.kernels.cuda.Cuda;
import mae.kernels.cuda.DeviceBuffer;

import java.lang.ref.Cleaner;
import java.util.Arrays;

/**
 * The memory of a CUDA tensor, shared by the tensor and all its views (each view keeps its own offset, shape
 * and strides, as on the CPU): a {@link DeviceBuffer} from the caching allocator, or under
 * {@link CudaEmulation} a host array standing in for one.
 *
 * <p>Lifetime: memory made while a {@link Workspace} scope is open on the thread goes back to the allocator
 * when that scope closes (the training step's activations and gradients); other memory (parameters,
 * optimizer moments, leaf gradients) goes back through a {@link Cleaner} once no tensor refers to it.
 * Reuse is safe without waiting because every kernel runs in order on the one CUDA stream.
 */
final class CudaStorage {
    private static final Cleaner CLEANER = Cleaner.create();

    /** The GPU memory; null under emulation. */
    final DeviceBuffer buf;
    /** The stand-in under emulation; null on a GPU. */
    final Emulated emu;
    /** Elements (4 bytes each, floats or ints). */
    final long length;

    private CudaStorage(DeviceBuffer buf, Emulated emu, long length) {
        this.buf = buf;
        this.emu = emu;
        this.length = length;
    }

    // ---------------------------------------------------------------- availability

    /** A usable GPU, or emulation switched on. Never throws. */
    static boolean available() { return CudaEmulation.enabled() || Cuda.available(); }

    /** The GPU's name and compute capability, or why CUDA is not usable. */
    static String describe() {
        if (CudaEmulation.enabled()) return "CUDA emulated on the CPU (mae.cuda.emulate, for tests)";
        if (!Cuda.available()) return Cuda.reason();
        int cc = Cuda.computeCapability();
        return Cuda.deviceName() + ", sm_" + cc;
    }

    /** Throws IllegalStateException naming the reason when CUDA is not usable. */
    static void require(String what) {
        if (!available()) throw new IllegalStateException(what + ": CUDA is not available: " + Cuda.reason());
    }

    /** Waits for every queued kernel. */
    static void sync() { if (!CudaEmulation.enabled()) Cuda.sync(); }

    // ---------------------------------------------------------------- allocation

    /** n elements, contents undefined, owned by the open workspace scope or else by a cleaner. */
    static CudaStorage allocate(long n) {
        require("allocating a tensor on cuda");
        CudaStorage s = CudaEmulation.enabled() ? new CudaStorage(null, new Emulated(n), n)
                : new CudaStorage(deviceBuffer(n), null, n);
        Runnable free = s.buf != null ? s.buf::close : s.emu::close;   // refers to the memory, never to s
        if (!Workspace.atClose(free)) CLEANER.register(s, free);
        return s;
    }

    /**
     * n floats from the caching allocator. Out of memory: a garbage collection, then retries for up to a second
     * while the Cleaner thread frees what the collector found unreachable (memory of tensors made outside a
     * workspace goes back only then). The last failure is thrown as it is.
     */
    private static DeviceBuffer deviceBuffer(long n) {
        try {
            return DeviceBuffer.allocate(n);
        } catch (IllegalStateException e) {
            if (!String.valueOf(e.getMessage()).contains("out of memory")) throw e;
            System.gc();
            long deadline = System.nanoTime() + 1_000_000_000L;
            while (true) {
                try {
                    return DeviceBuffer.allocate(n);
                } catch (IllegalStateException again) {
                    if (!String.valueOf(again.getMessage()).contains("out of memory") || System.nanoTime() > deadline) throw again;
                    try { Thread.sleep(20); } catch (InterruptedException ie) { Thread.currentThread().interrupt(); throw again; }
                }
            }
        }
    }

    static CudaStorage of(float[] host) {
        CudaStorage s = allocate(host.length);
        s.upload(0, host);
        return s;
    }

    static CudaStorage ofInts(int[] host) {
        CudaStorage s = allocate(host.length);
        if (s.buf != null) s.buf.copyFrom(host);
        else for (int i = 0; i < host.length; i++) s.emu.data()[i] = Float.intBitsToFloat(host[i]);
        return s;
    }

    // ---------------------------------------------------------------- host copies (the sync points)

    /** Copies src into elements [off, off + src.length). */
    void upload(long off, float[] src) {
        if (buf != null) buf.copyFrom(src, off);
        else System.arraycopy(src, 0, emu.data(), Math.toIntExact(off), src.length);
    }

    /** Elements [off, off + dst.length) into dst. */
    float[] download(long off, float[] dst) {
        if (buf != null) return buf.copyTo(dst, off);
        System.arraycopy(emu.data(), Math.toIntExact(off), dst, 0, dst.length);
        return dst;
    }

    /** The first n elements read as ints. */
    int[] downloadInts(int n) {
        int[] out = new int[n];
        if (buf != null) return n == 0 ? out : buf.copyTo(out);
        for (int i = 0; i < n; i++) out[i] = Float.floatToRawIntBits(emu.data()[i]);
        return out;
    }

    @Override public String toString() {
        return (buf != null ? "cuda" : "emulated cuda") + " storage of " + length + " elements";
    }

    /**
     * Host memory standing in for device memory under {@link CudaEmulation}: starts as NaN (as uninitialized device
     * memory may hold anything), is poisoned with NaN when released, and refuses use after release, as
     * DeviceBuffer does.
     */
    static final class Emulated {
        private final float[] data;
        private volatile boolean released;

        Emulated(long n) {
            data = new float[Math.toIntExact(n)];
            Arrays.fill(data, Float.NaN);
        }

        float[] data() {
            if (released) throw new IllegalStateException("emulated device buffer of " + data.length + " elements used after close()");
            return data;
        }

        void close() {
            if (released) return;
            released = true;
            Arrays.fill(data, Float.NaN);
        }
    }
}
