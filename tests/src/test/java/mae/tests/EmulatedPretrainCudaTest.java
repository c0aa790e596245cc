package mae.tests;

import mae.kernels.Backend;
import mae.kernels.cuda.EmulatedCudaBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link PretrainCudaChecks} on the CPU stand-in of the CUDA kernels: --device cuda wiring without a GPU. */
class EmulatedPretrainCudaTest extends PretrainCudaChecks {
    private static Backend was;

    @BeforeAll static void emulate() { was = EmulatedCudaBackend.install(); }

    @AfterAll static void restore() { EmulatedCudaBackend.restore(was); }
}
