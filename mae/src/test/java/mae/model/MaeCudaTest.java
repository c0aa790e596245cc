package mae.model;

import mae.kernels.cuda.Cuda;
import mae.kernels.cuda.EmulatedCudaBackend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/** {@link MaeCudaChecks} on the GPU (tag cuda: bench/gpu-check.sh runs it; skipped with the reason elsewhere). */
@Tag("cuda")
class MaeCudaTest extends MaeCudaChecks {
    @BeforeEach void requireGpu() {
        Assumptions.assumeFalse(EmulatedCudaBackend.active(), "CUDA emulation is on");
        Assumptions.assumeTrue(Cuda.available(), Cuda.reason());
    }
}
