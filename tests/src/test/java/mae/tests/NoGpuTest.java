package mae.tests;

import mae.kernels.cuda.Cuda;
import mae.kernels.cuda.EmulatedCudaBackend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** --device cuda where no GPU is usable (untagged: runs in mvn test; skips on a GPU machine). */
class NoGpuTest {
    @Test void pretrain_on_cuda_without_a_gpu_is_one_line_with_the_reason_and_leaves_no_run(@TempDir Path tmp) {
        Assumptions.assumeFalse(EmulatedCudaBackend.active(), "CUDA emulation is on");
        Assumptions.assumeFalse(Cuda.available(), "a GPU is here: " + Cuda.reason());
        Path out = tmp.resolve("run");
        Object[] r = PretrainTest.run(PretrainTest.args(out, "--device", "cuda"));
        assertEquals(1, r[0]);
        String err = ((String) r[1]).trim();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("error: --device cuda: ") && err.contains(Cuda.reason()), err);
        assertFalse(Files.exists(out), "no run directory");

        r = PretrainTest.run(List.of("bench", "step", "--device", "cuda"));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains(Cuda.reason()), (String) r[1]);
    }
}
