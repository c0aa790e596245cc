package mae.tensor;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link CudaTensorChecks} on the CPU stand-in of the CUDA kernels (runs everywhere, in mvn test): checks the
 * tensor layer's CUDA path (views of device storage, strides, rank-4 splitting, batching, lifetimes) without a GPU.
 */
class EmulatedCudaTensorTest extends CudaTensorChecks {
    private static boolean was;

    @BeforeAll static void emulate() { was = CudaEmulation.set(true); }

    @AfterAll static void restore() { CudaEmulation.set(was); }
}
