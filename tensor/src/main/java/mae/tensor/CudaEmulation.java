package mae.tensor;

/**
 * For tests on machines without a GPU: while on, {@link Device#CUDA} tensors live in host arrays and every
 * CUDA op runs the CPU kernel of the same contract ({@code EmulatedKernels}), so the tensor layer's CUDA path
 * (dispatch, views of device storage, strides, batching, memory lifetimes, --device cuda) runs and can be
 * compared with the CPU path. The CUDA kernels themselves are checked by the cuda-tagged tests on a GPU.
 * On with {@code -Dmae.cuda.emulate=true} or {@link #set}; never on in normal use.
 */
public final class CudaEmulation {
    private static volatile boolean on = Boolean.getBoolean("mae.cuda.emulate");

    private CudaEmulation() {}

    public static boolean enabled() { return on; }

    /** Switches emulation on or off; returns the previous setting. Tensors made in one mode must not meet the other. */
    public static synchronized boolean set(boolean enable) {
        boolean was = on;
        on = enable;
        return was;
    }
}
