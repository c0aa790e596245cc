package mae.model;

import mae.kernels.Backend;
import mae.kernels.cuda.EmulatedCudaBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link MaeCudaChecks} on the CPU stand-in of the CUDA kernels: the model's whole CUDA path, without a GPU. */
class EmulatedMaeCudaTest extends MaeCudaChecks {
    private static Backend was;

    @BeforeAll static void emulate() { was = EmulatedCudaBackend.install(); }

    @AfterAll static void restore() { EmulatedCudaBackend.restore(was); }
}
