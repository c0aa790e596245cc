package mae.tests;

import mae.tensor.CudaEmulation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link PretrainCudaChecks} on the CPU stand-in of the CUDA kernels: --device cuda wiring without a GPU. */
class EmulatedPretrainCudaTest extends PretrainCudaChecks {
    private static boolean was;

    @BeforeAll static void emulate() { was = CudaEmulation.set(true); }

    @AfterAll static void restore() { CudaEmulation.set(was); }
}
