package mae.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import mae.kernels.Backend;
import mae.kernels.Backends;
import mae.kernels.Storage;

import java.util.Arrays;

/**
 * The CUDA backend with the GPU replaced by host arrays, for tests on machines without one: {@link CudaBackend}
 * runs as it is (rank-4 merging and looping, batch chunks, the composed variance, index checks, workspace and
 * Cleaner lifetimes), and so do the launchers of {@link CudaKernels}, grids and argument lists included: only the
 * memory (the protected methods) is host arrays, and each launch goes to {@link EmulatedKernels}, which runs the
 * kernel's contract on the CPU from the arguments exactly as the kernel's signature takes them. It says nothing
 * about the CUDA kernels themselves: the CUDA-on-CPU emulator (kernels/src/test/cuda-emu) and the cuda-tagged tests
 * on a GPU check those.
 *
 * <p>Install it for a test class with {@link #install()} and put the previous backend back with
 * {@link #restore}: {@code Device.CUDA} tensors then live here.
 */
public final class EmulatedCudaBackend extends CudaBackend {
    private static volatile boolean active;

    /** The multiprocessor count the launchers see: small, so that the split reductions run on small inputs too. */
    static final int SMS = 4;

    /** Makes "cuda" this emulation, launches included; returns what to pass to {@link #restore}. */
    public static Backend install() {
        active = true;
        CudaKernels.divert(new EmulatedKernels(SMS));
        return Backends.install(new EmulatedCudaBackend());
    }

    public static void restore(Backend previous) {
        Backends.install(previous);
        active = previous instanceof EmulatedCudaBackend;
        if (!active) CudaKernels.divert(null);
    }

    /** Whether the emulation is installed (GPU-only tests skip then). */
    public static boolean active() { return active; }

    @Override public String describe() { return "CUDA emulated on the CPU (EmulatedCudaBackend, for tests)"; }

    @Override public void sync() {}

    // ---------------------------------------------------------------- memory

    /**
     * Host memory standing in for device memory: starts as NaN (as uninitialized device memory may hold anything),
     * is poisoned with NaN when released, and refuses use after release, as DeviceBuffer does.
     */
    static final class Emulated extends Storage {
        private final Backend backend;
        private final float[] data;
        private volatile boolean released;
        private static final java.util.concurrent.atomic.AtomicLong LIVE = new java.util.concurrent.atomic.AtomicLong();

        /** Emulated buffers made and not yet released (for tests of what gives memory back). */
        static long live() { return LIVE.get(); }

        /** An emulated device buffer holding a copy of values (for tests of the launchers themselves). */
        static Emulated of(float[] values) {
            Emulated e = new Emulated(null, values.length);
            System.arraycopy(values, 0, e.data, 0, values.length);
            return e;
        }

        Emulated(Backend backend, long n) {
            this.backend = backend;
            data = new float[Math.toIntExact(n)];
            Arrays.fill(data, Float.NaN);
            LIVE.incrementAndGet();
        }

        float[] data() {
            if (released) throw new IllegalStateException("emulated device buffer of " + data.length + " elements used after close()");
            return data;
        }

        void close() {
            if (released) return;
            released = true;
            LIVE.decrementAndGet();
            Arrays.fill(data, Float.NaN);
        }

        @Override public Backend backend() { return backend; }
        @Override public long length() { return data.length; }
        @Override public String toString() { return "emulated cuda storage of " + data.length + " elements"; }
    }

    /** An emulated device address: element {@code off} of an emulated buffer. */
    static final class EmuPtr extends CUdeviceptr {
        final Emulated s;
        final int off;

        EmuPtr(Emulated s, int off) {
            this.s = s;
            this.off = off;
        }

        float[] data() { return s.data(); }

        EmuPtr at(int offset) { return new EmuPtr(s, off + offset); }

        /** The n elements from here. */
        float[] floats(int n) { return Arrays.copyOfRange(data(), off, off + n); }

        /** n ints from here (stored as their float bits, as uploadInts leaves them). */
        int[] ints(int n) {
            int[] v = new int[n];
            for (int i = 0; i < n; i++) v[i] = Float.floatToRawIntBits(data()[off + i]);
            return v;
        }

        /** Writes v from here. */
        void put(float[] v) { System.arraycopy(v, 0, data(), off, v.length); }

        @Override public String toString() { return "emulated address " + off + " of " + s; }
    }

    private static Emulated emulated(Storage s) {
        if (!(s instanceof Emulated)) throw new IllegalStateException(s + " reached the emulated kernels");
        return (Emulated) s;
    }

    private static int n(long n) { return Math.toIntExact(n); }

    @Override protected Storage newStorage(long n) { return new Emulated(this, n); }

    @Override protected Runnable releaser(Storage s) { return emulated(s)::close; }

    @Override protected void upload(Storage s, long off, float[] src) { System.arraycopy(src, 0, emulated(s).data(), n(off), src.length); }

    @Override protected void download(Storage s, long off, float[] dst) { System.arraycopy(emulated(s).data(), n(off), dst, 0, dst.length); }

    @Override protected Storage uploadInts(int[] values) {
        Storage s = allocate(values.length, false);
        for (int i = 0; i < values.length; i++) emulated(s).data()[i] = Float.intBitsToFloat(values[i]);
        return s;
    }

    @Override protected int[] downloadInts(Storage s, int n) { return new EmuPtr(emulated(s), 0).ints(n); }

    @Override protected CUdeviceptr d(Ptr p) { return p == null ? null : new EmuPtr(emulated(p.s()), n(p.off())); }
}
