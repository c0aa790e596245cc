package mae.model;

import mae.tensor.CudaEmulation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link MaeCudaChecks} on the CPU stand-in of the CUDA kernels: the model's whole CUDA path, without a GPU. */
class EmulatedMaeCudaTest extends MaeCudaChecks {
    private static boolean was;

    @BeforeAll static void emulate() { was = CudaEmulation.set(true); }

    @AfterAll static void restore() { CudaEmulation.set(was); }
}
