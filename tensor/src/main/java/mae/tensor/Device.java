package mae.tensor;

/** Where a tensor's storage lives: host memory, or the GPU (through mae.kernels.cuda). */
public enum Device {
    CPU, CUDA;

    /** Whether tensors can be made here: always on the CPU; on CUDA when a usable GPU is found. Never throws. */
    public boolean available() { return this == CPU || CudaStorage.available(); }

    /**
     * "cpu", or for CUDA the GPU ("NVIDIA H100 80GB HBM3, sm_90") when available, else why not
     * ("no CUDA driver (libcuda.so.1 not found)").
     */
    public String describe() { return this == CPU ? "cpu" : CudaStorage.describe(); }

    /** Waits until every op queued on this device has finished (a no-op on the CPU, whose ops are synchronous). */
    public void synchronize() { if (this == CUDA) CudaStorage.sync(); }

    /** Parses "cpu" or "cuda" (the --device flag). */
    public static Device parse(String s) {
        switch (s.toLowerCase()) {
            case "cpu": return CPU;
            case "cuda": return CUDA;
            default: throw new IllegalArgumentException("unknown device '" + s + "' (expected cpu or cuda)");
        }
    }
}
