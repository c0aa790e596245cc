package mae.model;

import mae.autograd.Grad;
import mae.tensor.Rng;
import mae.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

class WarmupTest {
    /** The warm-up runs passes until closed, stops promptly, and the model that runs next gets the same bits. */
    @Test void warms_up_until_closed_and_changes_no_result() {
        MaeModel m = new MaeModel(MaeConfig.named("tiny"), 3);
        Tensor imgs = Tensor.randn(new Rng(4), 2, 1, 28, 28), noise = Tensor.rand(new Rng(5), 2, 16);
        float[] before;
        try (Grad.Scope g = Grad.off()) { before = m.forward(imgs, noise, 0.75).pred().value().toArray(); }
        Warmup w = Warmup.start();
        long end = System.nanoTime() + 5_000_000_000L;
        while (w.passes() < 2 && System.nanoTime() < end) Thread.onSpinWait();
        assertTimeoutPreemptively(Duration.ofSeconds(10), w::close);
        assertTrue(w.passes() >= 2, "passes: " + w.passes());
        int after = w.passes();
        try (Grad.Scope g = Grad.off()) { assertArrayEquals(before, m.forward(imgs, noise, 0.75).pred().value().toArray()); }
        assertEquals(after, w.passes(), "stopped");
    }
}
