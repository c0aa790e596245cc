package mae.tensor;

import mae.kernels.cuda.EmulatedCudaBackend;
import mae.kernels.Workspace;
import mae.kernels.cuda.Cuda;
import mae.kernels.cuda.CudaAllocator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** {@link CudaTensorChecks} on the GPU (tag cuda: bench/gpu-check.sh runs it; skipped with the reason elsewhere). */
@Tag("cuda")
class CudaTensorTest extends CudaTensorChecks {
    @BeforeEach void requireGpu() {
        Assumptions.assumeFalse(EmulatedCudaBackend.active(), "CUDA emulation is on");
        Assumptions.assumeTrue(Cuda.available(), Cuda.reason());
    }

    @Test void device_names_the_gpu() {
        String d = Device.CUDA.describe();
        assertTrue(Device.CUDA.available());
        assertTrue(d.startsWith(Cuda.deviceName() + ", sm_"), d);
    }

    /** A repeated computation in a workspace returns all its device memory and, after the first run, allocates none. */
    @Test void a_repeated_step_in_a_workspace_reuses_cached_device_memory() {
        Workspace ws = new Workspace();
        Tensor w = Tensor.randn(new Rng(1), 64, 48).to(Device.CUDA);
        Runnable step = () -> {
            try (Workspace.Scope s = ws.open()) {
                Tensor x = Tensor.randn(new Rng(2), 33, 64).to(Device.CUDA);
                x.matmul(w).softmax().sum().item();   // (33, 48) -> a scalar
            }
        };
        step.run();
        Device.CUDA.synchronize();
        CudaAllocator.Stats a = CudaAllocator.shared().stats();
        for (int i = 0; i < 3; i++) step.run();
        CudaAllocator.Stats b = CudaAllocator.shared().stats();
        assertEquals(a.driverAllocs(), b.driverAllocs(), "no cuMemAlloc after the first step");
        assertEquals(a.bytesInUse(), b.bytesInUse(), "every step returns what it took");
    }
}
