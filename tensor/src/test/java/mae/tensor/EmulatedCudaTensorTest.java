package mae.tensor;

import mae.kernels.Backend;
import mae.kernels.cuda.EmulatedCudaBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link CudaTensorChecks} on the emulated CUDA backend (runs everywhere, in mvn test): checks the tensor layer
 * and the CUDA backend's own shape work (views of device storage, strides, rank-4 splitting, batching, lifetimes)
 * without a GPU.
 */
class EmulatedCudaTensorTest extends CudaTensorChecks {
    private static Backend was;

    @BeforeAll static void emulate() { was = EmulatedCudaBackend.install(); }

    @AfterAll static void restore() { EmulatedCudaBackend.restore(was); }
}
