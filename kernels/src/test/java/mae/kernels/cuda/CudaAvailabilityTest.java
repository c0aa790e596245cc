package mae.kernels.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.*;

/** Runs everywhere: asking for CUDA never throws, and a machine without it says why. */
class CudaAvailabilityTest {
    /** Where the dynamic loader would find the driver's libcuda.so.1 (the usual places, and LD_LIBRARY_PATH). */
    static boolean libcudaPresent() {
        String ld = System.getenv("LD_LIBRARY_PATH");
        String dirs = (ld == null ? "" : ld + ":") + "/usr/lib/x86_64-linux-gnu:/usr/lib64:/usr/lib:/lib/x86_64-linux-gnu"
                + ":/usr/local/nvidia/lib64:/usr/local/nvidia/lib:/usr/lib/wsl/lib:/usr/local/cuda/compat";
        for (String d : dirs.split(":"))
            if (!d.isEmpty() && Files.exists(Paths.get(d, "libcuda.so.1"))) return true;
        return false;
    }

    @Test void available_never_throws_and_always_has_a_reason() {
        boolean a = assertDoesNotThrow(Cuda::available);
        String reason = assertDoesNotThrow(Cuda::reason);
        assertNotNull(reason);
        assertFalse(reason.isBlank());
        assertEquals(a, Cuda.available(), "the probe runs once; later answers agree");
        if (a) assertTrue(reason.contains("sm_"), "names the GPU: " + reason);
        else assertTrue(reason.startsWith("no CUDA driver") || reason.startsWith("no GPU")
                || reason.startsWith("cuInit failed") || reason.startsWith("GPU ") || reason.startsWith("JCuda natives")
                || reason.startsWith("CUDA probe failed"), "a clear reason: " + reason);
    }

    @Test void without_a_driver_the_reason_says_so() {
        Assumptions.assumeFalse(libcudaPresent(), "libcuda.so.1 is present here");
        assertFalse(Cuda.available());
        assertEquals("no CUDA driver (libcuda.so.1 not found)", Cuda.reason());
        assertFalse(Cublas.available());
    }

    @Test void using_cuda_without_it_fails_with_the_reason() {
        Assumptions.assumeFalse(Cuda.available(), "a GPU is here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DeviceBuffer.allocate(4));
        assertTrue(e.getMessage().contains(Cuda.reason()), e.getMessage());
    }
}
