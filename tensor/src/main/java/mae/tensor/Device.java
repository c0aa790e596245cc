package mae.tensor;

import mae.kernels.Backend;
import mae.kernels.Backends;

/** Where a tensor's storage lives: host memory, or the GPU. Each device has one {@link Backend} ({@link Backends} chooses it). */
public enum Device {
    CPU, CUDA;

    /** Whether tensors can be made here: always on the CPU; on CUDA when a usable GPU (or a test's emulation) is found. Never throws. */
    public boolean available() { return this == CPU || Backends.cudaAvailable(); }

    /**
     * "cpu", or for CUDA the GPU ("NVIDIA H100 80GB HBM3, sm_90 ...") when available, else why not
     * ("no CUDA driver (libcuda.so.1 not found)").
     */
    public String describe() { return this == CPU ? "cpu" : Backends.describeCuda(); }

    /** Waits until every op queued on this device has finished (a no-op on the CPU, whose ops are synchronous). */
    public void synchronize() { if (available()) backend().sync(); }

    /** This device's backend; IllegalStateException with the reason where it is not usable. */
    public Backend backend() { return Backends.get(name().toLowerCase(java.util.Locale.ROOT)); }

    /** As {@link #backend()}, with what needed it at the front of the error. */
    Backend backend(String what) {
        try {
            return backend();
        } catch (IllegalStateException e) {
            throw new IllegalStateException(what + ": " + e.getMessage(), e);
        }
    }

    /** The device a backend's tensors report. */
    public static Device of(Backend b) { return "cuda".equals(b.device()) ? CUDA : CPU; }

    /** Parses "cpu" or "cuda" (the --device flag). */
    public static Device parse(String s) {
        switch (s.toLowerCase()) {
            case "cpu": return CPU;
            case "cuda": return CUDA;
            default: throw new IllegalArgumentException("unknown device '" + s + "' (expected cpu or cuda)");
        }
    }
}
