package mae.tensor;

import mae.kernels.cuda.EmulatedCudaBackend;
import mae.kernels.cuda.Cuda;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Where no GPU is usable (this is untagged: it runs in mvn test, and skips on a GPU machine). */
class CudaUnavailableTest {
    @Test void to_cuda_without_a_gpu_throws_with_the_reason() {
        Assumptions.assumeFalse(EmulatedCudaBackend.active(), "CUDA emulation is on");
        Assumptions.assumeFalse(Cuda.available(), "a GPU is here: " + Cuda.reason());
        assertFalse(Device.CUDA.available());
        assertEquals(Cuda.reason(), Device.CUDA.describe());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tensor.zeros(2, 3).to(Device.CUDA));
        assertTrue(e.getMessage().contains(Cuda.reason()) && e.getMessage().contains("[2,3]"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Tensor.zeros(Device.CUDA, 4));
        assertSame(Device.CPU, Tensor.zeros(2).to(Device.CPU).device());
    }
}
